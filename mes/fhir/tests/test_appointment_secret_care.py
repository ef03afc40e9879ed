"""A minor's secret care on the agenda (R1111-50, issue 14 « secret care stays hidden from the
parents throughout »): Louis's doctor writes an appointment labelled
INVISIBLE_REPRESENTANTS_LEGAUX (TRE_A07, in meta.security, as the DMP labels documents). The
doctor reads it back with its label; his mother Camille, who manages his espace, never sees it —
not in his agenda, not as a page, not in her iCalendar feed, not planning a prevention item —
and its reminder stays in his own centre, never reaching her by any channel."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.access.decision import Action
from mes.agenda import reminders
from mes.agenda.actions import calendar_feed_create
from mes.agenda.ical import feed_read
from mes.agenda.models import Appointment
from mes.agenda.policies import access_appointment
from mes.agenda.selectors import agenda_of
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import authorise
from mes.fhir.mhd import systems
from mes.fhir.resources.appointment import SCOPE_APPOINTMENT_READ, SCOPE_APPOINTMENT_WRITE
from mes.fhir.tests.conftest import ALL_DATA_SCOPES
from mes.lib.errors import NotFound
from mes.notifications.models import Delivery, Notification

SCOPES = (*ALL_DATA_SCOPES, SCOPE_APPOINTMENT_READ, SCOPE_APPOINTMENT_WRITE)
SECRET = {"system": systems.TRE_A07, "code": "INVISIBLE_REPRESENTANTS_LEGAUX"}


def body(patient, start, *, security=None, description="Consultation"):
    out = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": start.isoformat(),
        "description": description,
        "participant": [
            {"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"},
            {"actor": {"display": "Dr Martin"}, "status": "accepted"},
        ],
    }
    if security is not None:
        out["meta"] = {"security": security}
    return out


@pytest.fixture
def louis_doctor(fhir_client_for, dr_martin, louis):
    authorise(louis, dr_martin)
    return fhir_client_for(dr_martin, scopes=SCOPES)


@pytest.fixture
def tomorrow():
    return timezone.now().astimezone(ZoneInfo("Europe/Paris")) + timedelta(hours=20)


def test_the_doctor_writes_and_reads_a_secret_appointment(louis_doctor, louis, tomorrow):
    r = louis_doctor.post(
        "/fhir/Appointment", body(louis, tomorrow, security=[SECRET], description="Suivi")
    )
    assert r.status_code == 201, r.content
    a = Appointment.objects.get(pk=r.json()["id"])
    assert a.hidden_from_representatives
    read = louis_doctor.get(f"/fhir/Appointment/{a.pk}").json()
    assert read["meta"]["security"][0]["code"] == "INVISIBLE_REPRESENTANTS_LEGAUX"
    found = louis_doctor.get("/fhir/Appointment", patient=str(louis.pk)).json()
    assert found["total"] == 1  # the professionals see it


def test_the_mother_never_sees_it(louis_doctor, louis, camille, tomorrow):
    louis_doctor.post("/fhir/Appointment", body(louis, tomorrow, description="Ordinaire"))
    r = louis_doctor.post(
        "/fhir/Appointment", body(louis, tomorrow, security=[SECRET], description="Secret")
    )
    secret = Appointment.objects.get(pk=r.json()["id"])
    mother = citizen_actor(camille)
    agenda = agenda_of(actor=mother, patient_id=louis.pk)
    assert [a.title for a in agenda.upcoming + agenda.past] == ["Ordinaire"]
    with pytest.raises(NotFound):
        access_appointment(
            mother,
            secret.pk,
            action=Action.MANAGE,
            trace_action=TraceAction.CONSULT_APPOINTMENT,
        )
    # Refused as an unknown appointment: the trace names neither the child nor the title.
    row = Trace.objects.filter(action=TraceAction.CONSULT_APPOINTMENT).latest("seq")
    assert row.outcome == TraceOutcome.REFUSED and row.reason == "rendez-vous inconnu"
    assert row.patient_id is None and "Secret" not in row.document_title
    # Her iCalendar feed of his agenda carries the ordinary appointment only.
    _, secret_url = calendar_feed_create(actor=mother, patient_id=louis.pk)
    events = icalendar.Calendar.from_ical(feed_read(secret=secret_url)).walk("VEVENT")
    summaries = [str(e["summary"]) for e in events if str(e["uid"]).startswith("rdv-")]
    assert len(summaries) == 1 and "Secret" not in summaries[0]


def test_its_reminder_stays_in_the_childs_own_centre(louis_doctor, louis, camille, tomorrow):
    louis_doctor.post("/fhir/Appointment", body(louis, tomorrow, security=[SECRET]))
    assert reminders.appointment_reminders(now=timezone.now()) == 1
    n = Notification.objects.get(profile=louis, code=Notification.Code.APPOINTMENT_REMINDER)
    assert n.hidden_from_representatives
    assert not Delivery.objects.filter(recipient=camille).exists()


def test_an_ordinary_appointments_reminder_reaches_the_mother(
    louis_doctor, louis, camille, tomorrow
):
    louis_doctor.post("/fhir/Appointment", body(louis, tomorrow))
    assert reminders.appointment_reminders(now=timezone.now()) == 1
    assert Delivery.objects.filter(recipient=camille).exists()


def test_another_visibility_code_is_refused_and_nothing_written(louis_doctor, louis, tomorrow):
    masked = {"system": systems.TRE_A07, "code": "MASQUE_PS"}
    r = louis_doctor.post("/fhir/Appointment", body(louis, tomorrow, security=[masked]))
    assert r.status_code == 422
    issue = r.json()["issue"][0]
    assert issue["expression"] == ["Appointment.meta.security[0]"]
    assert "MASQUE_PS" in issue["diagnostics"]
    assert not Appointment.objects.exists()


def test_a_label_of_another_system_is_not_ours_to_read(louis_doctor, louis, tomorrow):
    other = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}
    r = louis_doctor.post("/fhir/Appointment", body(louis, tomorrow, security=[other]))
    assert r.status_code == 201
    assert not Appointment.objects.get(pk=r.json()["id"]).hidden_from_representatives


def test_an_unknown_appointment_and_a_secret_one_look_the_same(louis_doctor, louis, camille):
    mother = citizen_actor(camille)
    with pytest.raises(NotFound):
        access_appointment(mother, uuid.uuid4(), action=Action.MANAGE, trace_action=None)
    unknown = Trace.objects.latest("seq")
    assert (unknown.reason, unknown.patient_id) == ("rendez-vous inconnu", None)
