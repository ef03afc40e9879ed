"""In real Chromium: a doctor associates a passkey on the Web PS and signs in with it, and sees
a patient's PDF in the page."""

from __future__ import annotations

from mes.audit.models import Trace, TraceAction
from mes.identity.models import Passkey
from mes.portal.tests.browser.test_passkeys_and_viewer import add_virtual_authenticator

from .conftest import check_a11y, pro_login


def test_a_doctor_signs_in_with_a_passkey_and_views_a_document(
    page, live_server, dr_martin, camille, consultation
):
    add_virtual_authenticator(page)
    pro_login(page, dr_martin)
    page.goto("/pro/appareils-associes/")
    page.get_by_label("Nom de l'appareil").fill("Poste du cabinet")
    page.get_by_role("button", name="Associer cet appareil").click()
    page.get_by_role("heading", name="Poste du cabinet").wait_for()
    check_a11y(page, "pro-passkeys")
    assert Passkey.objects.filter(user_id=dr_martin.user_id).count() == 1

    page.context.clear_cookies()
    page.goto("/pro/connexion/")
    page.get_by_role("button", name="Me connecter avec une clé d'accès").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)

    page.goto(f"/pro/documents/{consultation.pk}/")
    page.locator("[data-pdf-viewer][data-state=shown]").wait_for()
    check_a11y(page, "pro-document-viewer")
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.VIEW_DOC, document_id=consultation.pk
    ).exists()
