"""The Messagerie journey in a real browser, both portals, over a running MSSanté gateway:
dr_martin writes to Camille from the Web PS with a report attached (sent over SMTP); Camille
reads it, replies with a photo, saves the report into her Documents and sends her prescription
to a pharmacy; dr_martin reads the reply and ends the exchange; Camille sees it closed. Every
page is checked with axe-core at 1280 and 390 px."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.conftest import make_pdf
from mes.messaging.models import Conversation, Message
from mes.messaging.tests.fixtures import martin_mailbox, pharmacy_mailbox
from mes.mssante import server
from mes.mssante.tests.conftest import free_port
from mes.pro.tests.browser.conftest import pro_login
from mes.records.models import Document

from .conftest import DESKTOP, TIMEOUT_MS, check_a11y, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 400


def test_the_messaging_journey(
    page: Any,
    browser: Any,
    live_server: Any,
    settings: Any,
    tmp_path: Path,
    camille: Any,
    dr_martin: Any,
    pharmacie_centre: Any,
) -> None:
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    martin_mailbox(dr_martin)
    pharmacy_mailbox(pharmacie_centre)
    gw = server.start(host="127.0.0.1", smtp_port=free_port(), lmtp_port=0, require_starttls=False)
    settings.MES_WEBPS_SMTP_HOST, settings.MES_WEBPS_SMTP_PORT = "127.0.0.1", gw.smtp.port
    report, photo = tmp_path / "compte-rendu.pdf", tmp_path / "photo.jpg"
    report.write_bytes(make_pdf("Compte rendu"))
    photo.write_bytes(JPEG)
    # The doctor has his own browser; Camille uses `page`.
    pro_context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=live_server.url)
    pro_context.set_default_timeout(TIMEOUT_MS)
    doctor = pro_context.new_page()
    try:
        # The médecin traitant writes from the Web PS.
        pro_login(doctor, dr_martin)
        doctor.get_by_role("link", name="Messagerie").click()
        expect(doctor.get_by_role("heading", level=1)).to_have_text("Messagerie sécurisée de santé")
        doctor.get_by_label(re.compile("^Matricule INS")).fill(camille.ins)
        doctor.get_by_label(re.compile("^Objet")).fill("Compte rendu de consultation")
        doctor.get_by_label(re.compile("^Message")).fill("Bonjour, voici le compte rendu.")
        doctor.get_by_label(re.compile("^Pièces jointes")).set_input_files(str(report))
        doctor.get_by_role("button", name="Envoyer").click()
        expect(doctor.get_by_role("status").first).to_contain_text("Message envoyé au patient")
        check_a11y(doctor, "pro-messagerie")
        assert Conversation.objects.filter(patient=camille).count() == 1

        # Camille reads, replies with a photo, saves the report.
        login(page, live_server, camille)
        page.goto(live_server.url + "/messagerie/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Messagerie de santé")
        expect(page.get_by_text("Dr Anne Martin")).to_be_visible()
        check_a11y(page, "messagerie")
        page.get_by_role("link", name="Compte rendu de consultation").click()
        check_a11y(page, "messagerie-conversation")
        page.get_by_role("textbox", name="Message").fill("Merci docteur, voici la photo.")
        page.get_by_label(re.compile("^Joindre des fichiers")).set_input_files(str(photo))
        page.get_by_role("button", name="Envoyer", exact=True).click()
        expect(page.get_by_role("status").first).to_contain_text("Message envoyé")
        page.get_by_role("link", name=re.compile("^Enregistrer dans mes documents")).click()
        page.get_by_label(re.compile("^Catégorie")).select_option("CPT_REND")
        check_a11y(page, "messagerie-enregistrer")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("Enregistré dans mes documents")).to_be_visible()
        assert Document.objects.filter(patient=camille, category="CPT_REND").exists()

        # « Envoyer mon ordonnance » to a pharmacy found by search.
        page.goto(live_server.url + "/messagerie/nouveau/")
        page.get_by_role("textbox", name=re.compile("^Rechercher une")).fill("Centre")
        page.get_by_role("button", name="Rechercher").click()
        page.get_by_label(re.compile("^Pharmacie du Centre")).check()
        page.get_by_label(re.compile("^Joindre des fichiers")).set_input_files(str(photo))
        check_a11y(page, "messagerie-nouveau")
        page.get_by_role("button", name="Envoyer", exact=True).click()
        expect(page.get_by_role("status").first).to_contain_text("Message envoyé à la pharmacie")

        # The doctor reads the reply and ends the exchange.
        doctor.goto(live_server.url + "/pro/messagerie/")
        doctor.get_by_role("link", name="Compte rendu de consultation").click()
        expect(doctor.get_by_text("Merci docteur, voici la photo.")).to_be_visible()
        check_a11y(doctor, "pro-messagerie-conversation")
        doctor.get_by_role("button", name="Mettre fin aux échanges").click()
        expect(doctor.get_by_role("status").first).to_contain_text("Vous avez mis fin aux échanges")

        conv = Conversation.objects.get(patient=camille, started_by_patient=False)
        page.goto(f"{live_server.url}/messagerie/{conv.pk}/")
        expect(page.get_by_text(re.compile("a mis fin aux échanges"))).to_be_visible()
        check_a11y(page, "messagerie-close")
        assert Message.objects.filter(direction=Message.Direction.FROM_PATIENT).count() == 2
    finally:
        pro_context.close()
        gw.stop()
