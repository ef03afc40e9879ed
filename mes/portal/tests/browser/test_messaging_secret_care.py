"""A minor's secret care in the messagerie, in a real browser over a running MSSanté gateway:
Dr Martin writes to Léa, 16, from the Web PS and ticks « Invisible aux représentants légaux »;
Léa reads it, marked confidential; her mother Camille, showing Léa's profile, sees neither the
conversation in the list nor the page (the « not found » page). axe-core at 1280 and 390 px."""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.messaging.models import Message
from mes.messaging.tests.fixtures import martin_mailbox
from mes.messaging.tests.test_secret_care import lea as lea
from mes.mssante import server
from mes.mssante.tests.conftest import free_port
from mes.pro.tests.browser.conftest import pro_login

from .conftest import DESKTOP, TIMEOUT_MS, check_a11y, expect_error_page, login

SUBJECT = "Contraception"


def test_the_parent_never_sees_the_minors_secret_message(
    page: Any,
    browser: Any,
    live_server: Any,
    settings: Any,
    camille: Any,
    lea: Any,
    dr_martin: Any,
) -> None:
    PrivacySettings.objects.filter(patient__in=[camille, lea]).update(onboarded_at=timezone.now())
    martin_mailbox(dr_martin)
    gw = server.start(host="127.0.0.1", smtp_port=free_port(), lmtp_port=0, require_starttls=False)
    settings.MES_WEBPS_SMTP_HOST, settings.MES_WEBPS_SMTP_PORT = "127.0.0.1", gw.smtp.port
    pro_context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=live_server.url)
    pro_context.set_default_timeout(TIMEOUT_MS)
    doctor = pro_context.new_page()
    try:
        pro_login(doctor, dr_martin)
        doctor.goto(live_server.url + "/pro/messagerie/")
        doctor.get_by_label(re.compile("^Matricule INS")).fill(lea.ins)
        doctor.get_by_label(re.compile("^Objet")).fill(SUBJECT)
        doctor.get_by_label(re.compile("^Message")).fill("Bonjour Léa, voici les informations.")
        doctor.get_by_label(re.compile("^Invisible aux représentants légaux")).check()
        check_a11y(doctor, "pro-messagerie-secret")
        doctor.get_by_role("button", name="Envoyer").click()
        expect(doctor.get_by_role("status").first).to_contain_text("Message envoyé au patient")
        message = Message.objects.get(conversation__patient=lea)
        assert message.hidden_from_representatives

        # Léa reads it, marked confidential.
        lea_context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
        lea_context.set_default_timeout(TIMEOUT_MS)
        lea_page = lea_context.new_page()
        try:
            login(lea_page, live_server, lea)
            lea_page.goto(live_server.url + "/messagerie/")
            lea_page.get_by_role("link", name=SUBJECT).click()
            expect(
                lea_page.get_by_text("Confidentiel : invisible à vos représentants légaux")
            ).to_be_visible()
            check_a11y(lea_page, "messagerie-secret-mineur")
        finally:
            lea_context.close()

        # Camille, on Léa's profile: nothing in the list, « not found » for the page.
        login(page, live_server, camille)
        page.locator(".mes-profile-button").click()
        page.get_by_role("button", name=re.compile("^Léa")).click()
        page.goto(live_server.url + "/messagerie/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Messagerie de santé")
        expect(page.get_by_text(SUBJECT)).to_have_count(0)
        expect_error_page(page, f"/messagerie/{message.conversation_id}/")
        response = page.goto(f"{live_server.url}/messagerie/{message.conversation_id}/")
        assert response is not None and response.status == 404
        expect(page.get_by_text(SUBJECT)).to_have_count(0)
    finally:
        pro_context.close()
        gw.stop()
