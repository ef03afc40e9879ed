"""Documents from and to a paired service (issue 11 item 3)."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.conftest import make_pdf
from mes.records.actions import document_deposit
from mes.records.models import Document

pytestmark = pytest.mark.django_db

SCOPES = "patient/DocumentReference.cruds patient/Binary.read"


def _agp(espace_id: str) -> dict:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"code": "DOCPAT06"}]},
        "subject": {"reference": f"Patient/{espace_id}"},
        "date": "2026-12-06T23:59:00+01:00",  # an instant (R4 DocumentReference.date)
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "title": "Rapport AGP du 6 décembre",
                    "data": base64.b64encode(make_pdf("AGP")).decode(),
                }
            }
        ],
    }


def _post(token: str, resource: dict):
    return Client().post(
        "/fhir/services/DocumentReference",
        data=json.dumps(resource),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_app_adds_a_report_then_reads_the_documents(camille, camille_actor):
    service = glucose_service()
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    added = _post(raw, _agp(str(camille.pk)))
    assert added.status_code == 201, added.content
    doc = Document.objects.get(patient=camille)
    assert added["Location"] == f"DocumentReference/{doc.pk}"
    assert doc.author_kind == Document.AuthorKind.APP
    assert doc.author_label == service.name
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.DEPOSIT_DOC, actor_kind="app"
    ).exists()
    # The citizen's own document too: the app reads what the citizen who paired it sees.
    document_deposit(
        actor=camille_actor,
        patient_id=camille.pk,
        content=make_pdf("Ordonnance"),
        title="Ordonnance",
        category="ORD_SOIN",
    )
    found = Client().get("/fhir/services/DocumentReference", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert found.status_code == 200
    bundle = json.loads(found.content)
    assert bundle["total"] == 2
    assert camille.ins not in found.content.decode()
    url = next(
        e["resource"]["content"][0]["attachment"]["url"]
        for e in bundle["entry"]
        if e["resource"]["id"] == str(doc.pk)
    )
    content = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert content.status_code == 200 and content.content.startswith(b"%PDF")


def test_documents_need_their_purpose(camille):
    raw, _ = paired_token(pair(glucose_service(), camille, purposes=["11"]), scopes=SCOPES)
    refused = _post(raw, _agp(str(camille.pk)))
    assert refused.status_code == 403
    assert json.loads(refused.content)["issue"][0]["diagnostics"] == (
        "Consent not given, access refused."
    )
    listing = Client().get("/fhir/services/DocumentReference", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert listing.status_code == 403
    assert not Document.objects.exists()
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.DEPOSIT_DOC, outcome=TraceOutcome.REFUSED
    ).exists()


def test_another_espaces_document_is_not_found(camille, bob):
    other = document_deposit(
        actor=citizen_actor(bob),
        patient_id=bob.pk,
        content=make_pdf("Bob"),
        title="Bob",
        category="ORD_SOIN",
    )
    raw, _ = paired_token(pair(glucose_service(), camille), scopes=SCOPES)
    response = Client().get(f"/fhir/services/Binary/{other.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 404
    assert Trace.objects.filter(
        patient_id=bob.pk, action=TraceAction.DOWNLOAD_DOC, outcome=TraceOutcome.REFUSED
    ).exists()
    assert _post(raw, _agp(str(bob.pk))).status_code == 403
