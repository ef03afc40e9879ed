"""Issue 12 §6: what a token points to is kept per process (mes/fhir/auth/token_cache.py), but a
revoked, expired or deactivated token is refused at once, even by a process that never saw the
change happen (no signal reaches it: only the token's row, read on every request, tells)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.db.models.signals import post_delete
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken

from mes.audit.models import Trace
from mes.fhir.auth import token_cache
from mes.fhir.tests.conftest import practice_software


def search(api, patient):
    return api.get("/fhir/DocumentReference", patient=str(patient.pk), status="current")


def test_the_token_is_kept_after_its_first_request(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    assert search(api, camille).status_code == 200
    entry = token_cache._entries[token_cache.checksum(api.token)]
    assert entry.client is not None and entry.professional == dr_martin


def test_a_revoked_token_is_refused_at_once(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    assert search(api, camille).status_code == 200  # cached now
    app = practice_software().application
    revoked = api.client.post(
        reverse("oauth2_provider:revoke-token"), {"token": api.token, "client_id": app.client_id}
    )
    assert revoked.status_code == 200
    assert token_cache.checksum(api.token) not in token_cache._entries
    before = Trace.objects.count()
    response = search(api, camille)
    assert response.status_code == 401
    assert "invalid_token" in response["WWW-Authenticate"]
    assert Trace.objects.count() == before  # nothing was reached


def test_a_token_revoked_by_another_process_is_refused_at_once(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    assert search(api, camille).status_code == 200
    # Another process deletes the row: no signal reaches this one, its cache still holds it.
    receivers = post_delete.receivers[:]
    post_delete.receivers.clear()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {AccessToken._meta.db_table} WHERE id = %s",
                [api.access_token.pk],
            )
    finally:
        post_delete.receivers[:] = receivers
        post_delete.sender_receivers_cache.clear()
    assert token_cache.checksum(api.token) in token_cache._entries
    assert search(api, camille).status_code == 401


def test_an_expired_token_is_refused_though_cached(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    assert search(api, camille).status_code == 200
    AccessToken.objects.filter(pk=api.access_token.pk).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert search(api, camille).status_code == 401


def test_a_deactivated_professional_is_refused_though_cached(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    assert search(api, camille).status_code == 200
    # A queryset update sends no signal: only the row read with the token says it.
    type(dr_martin.user).objects.filter(pk=dr_martin.user_id).update(is_active=False)
    assert search(api, camille).status_code == 403


def test_a_professional_who_left_the_structure_is_forgotten(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin, via_structure=True)
    assert search(api, camille).status_code == 200
    dr_martin.organisation = None
    dr_martin.save()  # in this process the change empties the cache at once
    assert search(api, camille).status_code == 403
