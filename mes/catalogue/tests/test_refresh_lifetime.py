"""Refresh tokens live per kind of client: a citizen's paired app
MES_CATALOGUE_REFRESH_TOKEN_LIFETIME (90 days), the professionals' practice software
MES_FHIR_REFRESH_TOKEN_LIFETIME (12 h), both
counted as django-oauth-toolkit counts (from the expiry of the last access token issued with the
refresh token, sliding with each rotation). Rotation and the family's revocation still hold, and
an unpairing still refreshes nothing. Through the real token endpoint."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken, set_token_value

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.models import Pairing, PairingToken
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.fhir.tests.conftest import issue_token, practice_software

pytestmark = pytest.mark.django_db


def refresh_token_for(access: AccessToken) -> str:
    raw = secrets.token_urlsafe(30)
    refresh = RefreshToken(
        user=access.user,
        application=access.application,
        access_token=access,
        token_family=uuid.uuid4(),
    )
    set_token_value(refresh, raw)
    refresh.save()
    return raw


def app_refresh_token(pairing: Pairing, *, idle: timedelta) -> str:
    """A paired app's refresh token whose last access token expired `idle` ago."""
    _raw, access = paired_token(pairing, scopes="patient/Observation.rs offline_access")
    AccessToken.objects.filter(pk=access.pk).update(expires=timezone.now() - idle)
    raw = refresh_token_for(access)
    PairingToken.objects.create(
        pairing=pairing, refresh_token=RefreshToken.objects.get(access_token=access)
    )
    return raw


def refresh_app(client, pairing: Pairing, raw: str):  # type: ignore[no-untyped-def]
    assert pairing.service.application is not None
    return client.post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": raw,
            "client_id": pairing.service.application.client_id,
        },
    )


def test_the_settings():
    assert timedelta(days=90) == settings.MES_CATALOGUE_REFRESH_TOKEN_LIFETIME
    assert timedelta(hours=12) == settings.MES_FHIR_REFRESH_TOKEN_LIFETIME
    # django-oauth-toolkit's own check and sweep keep the longest.
    assert settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"] == 90 * 24 * 3600


def test_an_app_refreshes_after_a_month_idle_and_its_token_rotates(client, camille):
    pairing = pair(glucose_service(), camille)
    raw = app_refresh_token(pairing, idle=timedelta(days=30))
    response = refresh_app(client, pairing, raw)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["patient"] == str(camille.pk) and body["refresh_token"] != raw
    # The new pair is bound to the pairing; the old refresh token, replayed, revokes the family.
    live = PairingToken.objects.filter(
        pairing=pairing, refresh_token__isnull=False, refresh_token__revoked__isnull=True
    )
    assert live.count() == 1
    replay = refresh_app(client, pairing, raw)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    again = refresh_app(client, pairing, body["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_an_app_idle_past_its_lifetime_must_pair_again(client, camille):
    pairing = pair(glucose_service(), camille)
    idle = settings.MES_CATALOGUE_REFRESH_TOKEN_LIFETIME + timedelta(minutes=1)
    response = refresh_app(client, pairing, app_refresh_token(pairing, idle=idle))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    row = Trace.objects.get(
        patient_id=camille.pk, action=TraceAction.SERVICE_TOKEN, outcome=TraceOutcome.REFUSED
    )
    assert "expiré" in row.reason
    assert "access_token" not in response.json()


def test_an_unpaired_apps_refresh_token_refreshes_nothing(client, camille):
    pairing = pair(glucose_service(), camille)
    raw = app_refresh_token(pairing, idle=timedelta(days=1))
    Pairing.objects.filter(pk=pairing.pk).update(
        status=Pairing.Status.UNPAIRED, ended_at=timezone.now()
    )
    response = refresh_app(client, pairing, raw)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert Trace.objects.filter(
        patient_id=camille.pk,
        action=TraceAction.SERVICE_TOKEN,
        outcome=TraceOutcome.REFUSED,
        reason__contains="renouvellement refusé",
    ).exists()


@pytest.mark.parametrize(
    ("idle", "refreshed"), [(timedelta(hours=11), True), (timedelta(hours=13), False)]
)
def test_practice_software_keeps_its_12_hours(client, dr_martin, idle, refreshed):
    software = practice_software()
    _raw, access = issue_token(
        software.application, user=dr_martin.user, scopes=["user/Patient.read"]
    )
    AccessToken.objects.filter(pk=access.pk).update(expires=timezone.now() - idle)
    response = client.post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token_for(access),
            "client_id": software.application.client_id,
        },
    )
    if refreshed:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_shorter_app_lifetime_is_the_apps_own(client, camille, settings):
    """A deployment may give apps less than the professionals' 12 h: the app's lifetime is
    checked by the catalogue's own rule, not only by django-oauth-toolkit's longest one."""
    settings.MES_CATALOGUE_REFRESH_TOKEN_LIFETIME = timedelta(hours=1)
    pairing = pair(glucose_service(), camille)
    response = refresh_app(client, pairing, app_refresh_token(pairing, idle=timedelta(hours=2)))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert Trace.objects.filter(
        patient_id=camille.pk, outcome=TraceOutcome.REFUSED, reason__contains="expiré"
    ).exists()
