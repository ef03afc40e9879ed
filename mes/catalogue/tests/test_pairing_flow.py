"""The pairing through the real pages, with Authlib's OAuth 2.0 client (issue 11 item 2)."""

from __future__ import annotations

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.models import Consent, Pairing, PairingToken, Service
from mes.catalogue.testing import glucose_service
from mes.notifications.models import Notification

from .apps_client import app_for, consent, csrf_of, log_in, onboarded, pair_through_pages

pytestmark = pytest.mark.django_db(transaction=True)

SCOPE = "launch/patient offline_access patient/Observation.cruds patient/DocumentReference.write"


def _codes(service: Service, *codes: str) -> list[int]:
    return list(service.purposes.filter(code__in=codes).values_list("pk", flat=True))


def test_pairing_with_pkce_then_refresh_rotated(live_server, camille):
    onboarded(camille)
    service = glucose_service()
    app = app_for(service, live_server.url, SCOPE)
    with httpx.Client(timeout=60) as browser:
        token = pair_through_pages(
            app, browser, "camille", espace=camille, purposes=_codes(service, "11")
        )
    # SMART: the espace's id; the subset the consent allows (glucose write only).
    assert token["patient"] == str(camille.pk)
    assert set(token["scope"].split()) == {
        "launch/patient",
        "offline_access",
        "patient/Observation.cud",
    }
    pairing = Pairing.objects.get(service=service, patient=camille)
    assert pairing.status == Pairing.Status.ACTIVE
    assert pairing.granted_by_id == camille.user_id
    assert list(
        Consent.objects.filter(pairing=pairing).values_list("purpose__code", flat=True)
    ) == ["11"]
    assert PairingToken.objects.filter(pairing=pairing, access_token__isnull=False).count() == 1
    assert PairingToken.objects.filter(pairing=pairing, refresh_token__isnull=False).count() == 1
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.SERVICE_PAIR, outcome=TraceOutcome.ALLOWED
    ).exists()
    assert Notification.objects.filter(
        profile=camille, code=Notification.Code.SYNCED_SERVICES
    ).exists()

    # Refresh: rotated, the new tokens bound to the same pairing.
    old_refresh = token["refresh_token"]
    renewed = app.oauth.refresh_token(f"{live_server.url}/o/token/")
    assert renewed["refresh_token"] != old_refresh
    assert renewed["patient"] == str(camille.pk)
    assert PairingToken.objects.filter(pairing=pairing, access_token__isnull=False).count() == 1

    # The old refresh token, reused after rotation: refused, and the family revoked.
    with pytest.raises(OAuthError) as reused:
        app.oauth.refresh_token(f"{live_server.url}/o/token/", refresh_token=old_refresh)
    assert reused.value.error == "invalid_grant"
    assert Trace.objects.filter(
        patient_id=camille.pk,
        action=TraceAction.SERVICE_TOKEN,
        outcome=TraceOutcome.REFUSED,
        reason__contains="rotation",
    ).exists()


def test_a_parent_pairs_the_app_with_a_childs_espace(live_server, camille, louis):
    onboarded(camille)
    service = glucose_service()
    app = app_for(service, live_server.url, "patient/*.read")
    with httpx.Client(timeout=60) as browser:
        token = pair_through_pages(
            app, browser, "camille", espace=louis, purposes=_codes(service, "12", "31")
        )
    assert token["patient"] == str(louis.pk)
    assert set(token["scope"].split()) == {
        "patient/Observation.read",
        "patient/DocumentReference.read",
        "patient/Binary.read",
    }
    assert Pairing.objects.get(patient=louis).granted_by_id == camille.user_id


def test_the_consent_page_requires_one_purpose_and_a_refusal_tells_the_app(live_server, camille):
    onboarded(camille)
    service = glucose_service()
    app = app_for(service, live_server.url, SCOPE)
    with httpx.Client(timeout=60) as browser:
        page = log_in(browser, live_server.url, browser.get(app.authorize_url()), "camille")
        assert "Ajouter mon glucose sanguin" in page.text
        assert "glucose interstitiel, HbA1c" in page.text
        none = consent(browser, live_server.url, page, espace=camille, purposes=[])
        assert none.status_code == 400
        assert "Cochez au moins une finalité" in none.text
        refused = browser.post(
            str(page.url), data={"csrfmiddlewaretoken": csrf_of(none), "decision": "deny"}
        )
    assert not Pairing.objects.exists()
    assert refused.status_code == 302
    assert "error=access_denied" in refused.headers["Location"]


def test_a_suspended_service_cannot_be_paired(live_server, camille):
    onboarded(camille)
    service = glucose_service(status=Service.Status.SUSPENDED)
    app = app_for(service, live_server.url, SCOPE)
    with httpx.Client(timeout=60) as browser:
        page = log_in(browser, live_server.url, browser.get(app.authorize_url()), "camille")
    assert page.status_code == 403
    assert "ne peut pas être synchronisé" in page.text
    assert not Pairing.objects.exists()


def test_an_unregistered_redirect_uri_gets_no_code(live_server, camille):
    onboarded(camille)
    service = glucose_service()
    app = app_for(service, live_server.url, SCOPE)
    app.oauth.redirect_uri = "https://evil.example/vol"
    with httpx.Client(timeout=60) as browser:
        start = browser.get(app.authorize_url())
        page = log_in(browser, live_server.url, start, "camille")
    assert page.status_code == 400
    assert "Demande de synchronisation invalide" in page.text
    assert "evil.example" not in page.headers.get("Location", "")


def test_pkce_is_required_then_checked(live_server, camille):
    onboarded(camille)
    service = glucose_service()
    app = app_for(service, live_server.url, SCOPE)
    with httpx.Client(timeout=60) as browser:
        # Without a code challenge: sent back to the app with invalid_request, no consent page.
        url = app.authorize_url()
        bare = url.replace("code_challenge=", "x=").replace("code_challenge_method=", "y=")
        start = browser.get(bare)
        back = log_in(browser, live_server.url, start, "camille")
        assert back.status_code == 302
        assert "error=invalid_request" in back.headers["Location"]
        # With one, but the wrong verifier at the token endpoint: invalid_grant.
        page = browser.get(app.authorize_url())
        done = consent(
            browser, live_server.url, page, espace=camille, purposes=_codes(service, "11")
        )
    app.verifier = "x" * 50
    with pytest.raises(OAuthError) as wrong:
        app.fetch_token(done.headers["Location"])
    assert wrong.value.error == "invalid_grant"
