"""FHIR `Appointment`, driven as practice software would: Dr Martin (Camille's médecin
traitant) writes, reads, searches and updates her appointments; a doctor she never saw, a token
without the agenda scopes, and an emergency mode are refused — and every call is traced."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from mes.access.actors import AccessMode
from mes.agenda.models import Appointment
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.fhir.resources.appointment import SCOPE_APPOINTMENT_READ, SCOPE_APPOINTMENT_WRITE
from mes.fhir.tests.conftest import ALL_DATA_SCOPES, FHIR_JSON

SCOPES = (*ALL_DATA_SCOPES, SCOPE_APPOINTMENT_READ, SCOPE_APPOINTMENT_WRITE)


def body(patient, status="booked", **extra):
    return {
        "resourceType": "Appointment",
        "status": status,
        "start": "2026-12-20T11:00:00+01:00",
        "end": "2026-12-20T11:20:00+01:00",
        "description": "Consultation de suivi",
        "participant": [
            {"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"},
            {"actor": {"display": "Dr Martin"}, "status": "accepted"},
        ],
        **extra,
    }


def last_trace(patient):
    return Trace.objects.filter(patient_id=patient.pk).order_by("-seq").first()


def test_the_treating_physician_creates_reads_searches_and_updates(
    fhir_client_for, dr_martin, camille
):
    api = fhir_client_for(dr_martin, scopes=SCOPES)
    r = api.post("/fhir/Appointment", body(camille))
    assert r.status_code == 201, r.content
    created = r.json()
    a = Appointment.objects.get(pk=created["id"])
    assert a.read_only and a.starts_at == datetime(
        2026, 12, 20, 11, 0, tzinfo=ZoneInfo("Europe/Paris")
    )
    assert last_trace(camille).action == TraceAction.ADD_APPOINTMENT
    assert api.get(f"/fhir/Appointment/{a.pk}").json()["status"] == "booked"
    found = api.get("/fhir/Appointment", patient=str(camille.pk)).json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["description"] == (
        "Consultation de suivi"
    )
    r = api.put(f"/fhir/Appointment/{a.pk}", body(camille, status="fulfilled", id=str(a.pk)))
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"
    a.refresh_from_db()
    assert a.get_status_display() == "Honoré"
    assert last_trace(camille).action == TraceAction.UPDATE_APPOINTMENT


def test_an_unrelated_doctor_is_refused_like_not_found_and_traced(
    fhir_client_for, dr_durand, camille
):
    api = fhir_client_for(dr_durand, scopes=SCOPES)
    r = api.post("/fhir/Appointment", body(camille))
    assert r.status_code == 404 and not Appointment.objects.exists()
    refused = last_trace(camille)
    assert (refused.action, refused.outcome) == (TraceAction.ADD_APPOINTMENT, TraceOutcome.REFUSED)
    assert api.get("/fhir/Appointment", patient=str(camille.pk)).status_code == 404


def test_a_token_without_the_agenda_scope_is_refused(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)  # every data scope but the agenda's
    r = api.post("/fhir/Appointment", body(camille))
    assert r.status_code == 403 and not Appointment.objects.exists()


def test_no_agenda_in_an_emergency_mode(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(
        dr_durand, scopes=SCOPES, mode=AccessMode.BREAK_GLASS, justification="Malaise"
    )
    assert api.get("/fhir/Appointment", patient=str(camille.pk)).status_code == 404


def test_another_author_cannot_update(fhir_client_for, dr_martin, ide_bernard, camille):
    a_id = (
        fhir_client_for(dr_martin, scopes=SCOPES)
        .post("/fhir/Appointment", body(camille))
        .json()["id"]
    )
    r = fhir_client_for(ide_bernard, scopes=SCOPES).put(
        f"/fhir/Appointment/{a_id}", body(camille, status="cancelled")
    )
    assert r.status_code == 404
    assert Appointment.objects.get(pk=a_id).status == "booked"


def test_an_invalid_resource_says_why(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin, scopes=SCOPES)
    r = api.post("/fhir/Appointment", body(camille, status="peut-être"))
    assert r.status_code == 422
    assert r.json()["resourceType"] == "OperationOutcome"


def test_the_capability_statement_lists_appointment(client):
    meta = client.get("/fhir/metadata").json()
    types = {r["type"] for r in meta["rest"][0]["resource"]}
    assert "Appointment" in types
    _ = FHIR_JSON
