"""Issue 11 « What it must show », first bullet: a third-party app, played with Authlib's OAuth
2.0 client and a FHIR client (fhirpy), pairs through the real login and consent pages with PKCE,
refreshes its token, writes a glucose measure and an AGP report, reads them back; the citizen
unpairs (the pairing ended, its tokens revoked through django-oauth-toolkit) and the next call
fails with 401, the next refresh with invalid_grant — traced."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from django.utils import timezone
from fhirpy import SyncFHIRClient

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.models import Pairing, PairingToken
from mes.catalogue.testing import glucose_service
from mes.conftest import make_pdf
from mes.fhir.services.tests_support import glucose_bundle
from mes.measures.models import Measurement
from mes.records.models import Document

from .apps_client import app_for, onboarded, pair_through_pages

pytestmark = pytest.mark.django_db(transaction=True)

SCOPE = (
    "launch/patient offline_access patient/Observation.cruds "
    "patient/DocumentReference.cruds patient/Binary.read"
)


def _unpair(pairing: Pairing) -> None:
    """What « Désynchroniser » does: the pairing ends, its tokens are revoked at once."""
    Pairing.objects.filter(pk=pairing.pk).update(
        status=Pairing.Status.UNPAIRED, ended_at=timezone.now()
    )
    for link in PairingToken.objects.filter(pairing=pairing).select_related(
        "access_token", "refresh_token"
    ):
        if link.refresh_token is not None:
            link.refresh_token.revoke()
        elif link.access_token is not None:
            link.access_token.revoke()


def test_the_app_pairs_writes_reads_and_is_cut_off_when_unpaired(live_server, camille):
    onboarded(camille)
    service = glucose_service()
    base = live_server.url
    app = app_for(service, base, SCOPE)
    with httpx.Client(timeout=60) as browser:
        token = pair_through_pages(
            app,
            browser,
            "camille",
            espace=camille,
            purposes=list(service.purposes.values_list("pk", flat=True)),
        )
    espace = token["patient"]
    app.oauth.refresh_token(f"{base}/o/token/")  # rotated; the app goes on with the new one

    # A glucose measure (mes-spec §9.2), through the app's authenticated client.
    sent = app.oauth.post(
        f"{base}/fhir/services/",
        json=glucose_bundle(espace, service_oid=service.oid),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert sent.status_code == 200, sent.text[:500]
    assert sent.json()["entry"][0]["response"]["status"] == "201 Created"
    # An AGP report.
    report = app.oauth.post(
        f"{base}/fhir/services/DocumentReference",
        json={
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"coding": [{"code": "DOCPAT06"}]},
            "subject": {"reference": f"Patient/{espace}"},
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "title": "Rapport AGP",
                        "data": base64.b64encode(make_pdf("AGP")).decode(),
                    }
                }
            ],
        },
        headers={"Content-Type": "application/fhir+json"},
    )
    assert report.status_code == 201, report.text[:500]

    # Read back with a FHIR client.
    fhir = SyncFHIRClient(
        f"{base}/fhir/services",
        authorization=f"Bearer {app.oauth.token['access_token']}",
    )
    observations = fhir.resources("Observation").fetch()
    assert [o["valueQuantity"]["value"] for o in observations] == [112]
    documents = fhir.resources("DocumentReference").fetch()
    assert [d["description"] for d in documents] == ["Rapport AGP"]
    m = Measurement.objects.get(patient=camille)
    assert m.source == Measurement.Source.APP and m.author_label == service.name
    assert Document.objects.get(patient=camille).author_label == service.name

    # The citizen unpairs: the next call is 401, the next refresh invalid_grant (traced).
    _unpair(Pairing.objects.get(patient=camille))
    cut = app.oauth.get(f"{base}/fhir/services/Observation")
    assert cut.status_code == 401
    assert "invalid_token" in cut.headers["WWW-Authenticate"]
    with pytest.raises(OAuthError) as refused:
        app.oauth.refresh_token(f"{base}/o/token/")
    assert refused.value.error == "invalid_grant"
    assert Trace.objects.filter(
        patient_id=camille.pk,
        action=TraceAction.SERVICE_TOKEN,
        outcome=TraceOutcome.REFUSED,
        reason__contains="révoqué",
    ).exists()


def test_an_unpaired_pairings_refresh_token_refreshes_nothing(live_server, camille):
    onboarded(camille)
    service = glucose_service()
    app = app_for(service, live_server.url, SCOPE)
    with httpx.Client(timeout=60) as browser:
        pair_through_pages(
            app,
            browser,
            "camille",
            espace=camille,
            purposes=list(service.purposes.values_list("pk", flat=True)),
        )
    # Ended without its tokens being revoked (e.g. the re-approval deadline passed).
    Pairing.objects.filter(patient=camille).update(
        reapproval_deadline=timezone.now() - timedelta(days=1)
    )
    with pytest.raises(OAuthError) as refused:
        app.oauth.refresh_token(f"{live_server.url}/o/token/")
    assert refused.value.error == "invalid_grant"
    assert Trace.objects.filter(
        patient_id=camille.pk,
        action=TraceAction.SERVICE_TOKEN,
        outcome=TraceOutcome.REFUSED,
        reason__contains="renouvellement refusé",
    ).exists()
