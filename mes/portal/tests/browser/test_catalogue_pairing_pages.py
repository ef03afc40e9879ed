"""The pairing consent in a real browser (issue 11): a glucose app sends Camille to
/o/authorize/; she signs in through the portal's login, sees what each purpose does, is told to
tick at least one, consents to one and is sent back to the app with a code; a suspended service
shows why it cannot be paired. Every page checked with axe-core at 1280 and 390 px."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.catalogue.models import Pairing, Service
from mes.catalogue.testing import TEST_REDIRECT_URI, glucose_service

from .conftest import (
    DESKTOP,
    TIMEOUT_MS,
    check_a11y,
    login_code_for,
    submit_login_code,
    submit_password,
)

SCOPE = "launch/patient offline_access patient/Observation.cruds patient/DocumentReference.cruds"


@pytest.fixture
def onboarded_camille(camille, transactional_db):
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    return camille


def _authorize_url(service: Service, base: str) -> str:
    assert service.application is not None
    client = OAuth2Session(
        client_id=service.application.client_id,
        redirect_uri=TEST_REDIRECT_URI,
        scope=SCOPE,
        code_challenge_method="S256",
    )
    url, _state = client.create_authorization_url(
        f"{base}/o/authorize/", code_verifier=generate_token(48)
    )
    return str(url)


@pytest.fixture
def app_page(browser: Any, live_server: Any):
    """A browser context failing on JavaScript and console errors (the error pages under test
    aside); the last redirect, to the app, is checked and not followed."""
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(6 * TIMEOUT_MS)  # a first request on a busy machine
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error"
            and "favicon" not in (msg.location or {}).get("url", "")
            and "status of 40" not in msg.text  # the error pages under test (400, 403)
            else None
        ),
    )
    yield page
    context.close()
    assert not errors, errors


def _sign_in(page: Any, citizen: Any) -> None:
    page.wait_for_url("**/connexion/**")
    submit_password(page, username=citizen.user.username)
    page.wait_for_url("**/connexion/code/")
    submit_login_code(page, login_code_for(citizen))


def test_camille_consents_purpose_by_purpose(app_page, live_server, onboarded_camille):
    service = glucose_service()
    page = app_page
    page.goto(_authorize_url(service, live_server.url))
    _sign_in(page, onboarded_camille)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Synchroniser « {service.name} » avec Mon espace santé"
    )
    expect(page.get_by_text("glucose interstitiel, HbA1c")).to_be_visible()
    check_a11y(page, "appairage-consentement")

    page.get_by_role("button", name="Autoriser et synchroniser").click()
    expect(page.get_by_role("alert")).to_contain_text("Cochez au moins une finalité")
    check_a11y(page, "appairage-consentement-erreur")

    page.get_by_label("Ajouter mon glucose sanguin").check()
    # The browser is then sent to the app (its redirect URI, not reachable from here): the
    # redirect itself is what the app receives.
    with page.expect_response(
        lambda r: "/o/authorize/" in r.url and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Autoriser et synchroniser").click()
    assert answer.value.status == 302
    location = answer.value.headers["location"]
    assert location.startswith(TEST_REDIRECT_URI)
    back = parse_qs(urlsplit(location).query)
    assert back["code"] and back["state"]
    pairing = Pairing.objects.get(patient=onboarded_camille)
    assert list(pairing.consents.values_list("purpose__code", flat=True)) == ["11"]


def test_a_suspended_service_says_why(app_page, live_server, onboarded_camille):
    service = glucose_service(status=Service.Status.SUSPENDED)
    page = app_page
    page.goto(_authorize_url(service, live_server.url))
    _sign_in(page, onboarded_camille)
    expect(page.get_by_role("heading", level=1)).to_have_text("Synchronisation impossible")
    expect(page.get_by_role("alert")).to_contain_text("suspendu")
    check_a11y(page, "appairage-indisponible")


def test_camille_sends_her_synthesis_to_a_paired_app(page, live_server, onboarded_camille):
    from mes.catalogue.models import ProfileShare
    from mes.catalogue.testing import pair

    from .conftest import login

    pair(glucose_service(), onboarded_camille, purposes=["51"])
    page.set_default_navigation_timeout(6 * TIMEOUT_MS)  # a first request on a busy machine
    login(page, live_server, onboarded_camille)
    page.goto(live_server.url + "/profil-medical/synthese/")
    page.get_by_role("link", name="Envoyer la synthèse à un service synchronisé").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Envoyer la synthèse à un service synchronisé"
    )
    check_a11y(page, "synthese-envoi")
    page.get_by_role("button", name="Envoyer la synthèse").click()
    expect(page.get_by_text("Synthèse envoyée à Glyco glyco")).to_be_visible()
    assert ProfileShare.objects.filter(pairing__patient=onboarded_camille).exists()
