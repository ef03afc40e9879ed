"""Appointments from and to a paired service (issue 11 item 4)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mes.agenda.models import Appointment
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.testing import glucose_service, pair, paired_token

pytestmark = pytest.mark.django_db

SCOPES = "patient/Appointment.cruds"


def _appointment(espace_id: str, **extra) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2027-01-15T09:30:00+01:00",
        "description": "Consultation de diabétologie",
        "participant": [
            {"actor": {"reference": f"Patient/{espace_id}"}, "status": "accepted"},
            {"actor": {"display": "Dr Diabète"}, "status": "accepted"},
        ],
        **extra,
    }


def _send(method: str, url: str, token: str, body: dict):
    return getattr(Client(), method)(
        url,
        data=json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_app_adds_reads_and_updates_its_appointment(camille):
    service = glucose_service()
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    added = _send("post", "/fhir/services/Appointment", raw, _appointment(str(camille.pk)))
    assert added.status_code == 201, added.content
    a = Appointment.objects.get(patient=camille)
    assert a.author == Appointment.Author.APP and a.author_name == service.name
    assert a.read_only
    listing = Client().get("/fhir/services/Appointment", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert json.loads(listing.content)["total"] == 1
    moved = _send(
        "put",
        f"/fhir/services/Appointment/{a.pk}",
        raw,
        _appointment(str(camille.pk), status="cancelled"),
    )
    assert moved.status_code == 200, moved.content
    a.refresh_from_db()
    assert a.status == "cancelled"
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.ADD_APPOINTMENT, actor_kind="app"
    ).exists()


def test_the_agenda_needs_its_purpose_and_the_paired_espace(camille, bob):
    raw, _ = paired_token(pair(glucose_service(), camille, purposes=["11"]), scopes=SCOPES)
    refused = _send("post", "/fhir/services/Appointment", raw, _appointment(str(camille.pk)))
    assert refused.status_code == 403
    assert json.loads(refused.content)["issue"][0]["diagnostics"].startswith("Consent not given")
    other = _send("post", "/fhir/services/Appointment", raw, _appointment(str(bob.pk)))
    assert other.status_code == 403
    assert not Appointment.objects.exists()
    assert (
        Trace.objects.filter(
            patient_id=camille.pk, action=TraceAction.ADD_APPOINTMENT, outcome=TraceOutcome.REFUSED
        ).count()
        == 2
    )


def test_an_app_cannot_keep_an_appointment_secret_from_the_parents(camille):
    # A minor's secret care is a professional's decision (R1111-50): an app writes for the
    # citizen, so the label is refused, and nothing is written.
    raw, _ = paired_token(pair(glucose_service(), camille), scopes=SCOPES)
    secret = {
        "security": [
            {"system": "urn:oid:1.2.250.1.213.1.1.4.13", "code": "INVISIBLE_REPRESENTANTS_LEGAUX"}
        ]
    }
    refused = _send(
        "post", "/fhir/services/Appointment", raw, _appointment(str(camille.pk), meta=secret)
    )
    assert refused.status_code == 422
    issue = json.loads(refused.content)["issue"][0]
    assert issue["code"] == "business-rule"
    assert issue["expression"] == ["Appointment.meta.security"]
    assert not Appointment.objects.exists()
