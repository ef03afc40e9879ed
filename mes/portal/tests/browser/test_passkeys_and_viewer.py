"""In real Chromium: Camille associates a passkey (a CDP virtual authenticator standing for her
phone) and signs in with it; she and a doctor see a PDF and an image in the page. Each page
passes axe at 390 px and 1280 px."""

from __future__ import annotations

from datetime import date
from typing import Any

from mes.access.actions import authorisation_declare
from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.identity.models import Passkey
from mes.portal.tests.test_document_viewer import tiny_png
from mes.records import actions

from .conftest import check_a11y, login


def add_virtual_authenticator(page: Any) -> Any:
    """A platform authenticator with user verification, as a phone's fingerprint sensor."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def _onboarded(citizen: Any) -> None:
    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at="2026-01-01T00:00Z")


def test_camille_associates_a_passkey_then_signs_in_with_it(page, live_server, camille):
    _onboarded(camille)
    add_virtual_authenticator(page)
    login(page, live_server, camille)
    page.goto("/mon-compte/appareils-associes/")
    page.get_by_label("Nom de l'appareil").fill("Téléphone de Camille")
    page.get_by_role("button", name="Associer cet appareil").click()
    page.get_by_role("heading", name="Téléphone de Camille").wait_for()
    assert Passkey.objects.get(user=camille.user).name == "Téléphone de Camille"
    check_a11y(page, "passkeys")

    # Signed out, she comes back with her phone only: no password, no code.
    page.context.clear_cookies()
    page.goto("/connexion/")
    check_a11y(page, "login-with-passkey")
    page.get_by_role("button", name="Me connecter avec une clé d'accès").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)
    logins = Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.LOGIN, outcome=TraceOutcome.ALLOWED
    )
    assert logins.count() == 2  # password + code, then the passkey
    assert Passkey.objects.get(user=camille.user).last_used_at is not None


def test_the_code_first_pages_are_accessible(page, live_server, camille):
    page.goto("/connexion/code-d-abord/")
    check_a11y(page, "login-code-first")
    page.get_by_label("Identifiant").fill("camille")
    page.get_by_role("button", name="Recevoir mon code").click()
    page.wait_for_url("**/connexion/code-d-abord/saisie/")
    check_a11y(page, "login-code-first-check")


def test_camille_sees_her_pdf_and_her_photo_in_the_page(page, live_server, camille):
    _onboarded(camille)
    actor = citizen_actor(camille)
    pdf = actions.document_deposit(
        actor=actor,
        patient_id=camille.pk,
        title="Ordonnance kiné",
        category="ORD_SOIN",
        service_date=date(2024, 3, 1),
        content=make_pdf("Ordonnance de kinésithérapie"),
    )
    photo = actions.document_deposit(
        actor=actor,
        patient_id=camille.pk,
        title="Photo de l'ordonnance",
        category="ORD_SOIN",
        service_date=date(2024, 3, 1),
        content=tiny_png(),
    )
    login(page, live_server, camille)
    page.goto(f"/documents/{pdf.pk}/")
    page.locator("[data-pdf-viewer][data-state=shown]").wait_for()
    canvas = page.get_by_role("img", name="Ordonnance kiné, page 1 sur 1")
    assert canvas.evaluate("c => c.width > 100 && c.height > 100")
    # Something was drawn: not every pixel is the same.
    assert canvas.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0]) return true;
                  return false; }"""
    )
    check_a11y(page, "document-viewer-pdf")
    page.goto(f"/documents/{photo.pk}/")
    image = page.get_by_role("img", name="Aperçu du document « Photo de l'ordonnance »")
    assert image.evaluate("i => i.complete && i.naturalWidth === 1")
    views = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.VIEW_DOC)
    assert {t.document_id for t in views} == {pdf.pk, photo.pk}


def test_camille_contests_a_declared_medecin_traitant(page, live_server, camille, dr_durand):
    _onboarded(camille)
    authorisation_declare(actor=pro(dr_durand), patient_id=camille.pk, treating_physician=True)
    login(page, live_server, camille)
    page.goto("/mon-compte/acces-professionnels/")
    page.get_by_text("Déclaration faite par Dr Paul Durand le").wait_for()
    check_a11y(page, "treating-declared")
    page.get_by_text("Ce n'est pas mon médecin traitant").click()
    page.get_by_role("button", name="Confirmer la contestation").click()
    page.get_by_text("La déclaration de médecin traitant de Dr Paul Durand est retirée.").wait_for()
    assert Trace.objects.filter(patient_id=camille.pk, action=TraceAction.CONTEST_TREATING).exists()
