"""Appointments and prevention items, told with Camille, her son Louis, her médecin traitant and
strangers: every change is traced, every refusal looks like « not found » and is traced."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from mes.access.actors import citizen_actor
from mes.access.decision import Action
from mes.agenda import actions
from mes.agenda.models import Appointment, PreventionRecord
from mes.agenda.policies import access_agenda
from mes.agenda.selectors import agenda_of, due_items
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import InvalidInput, NotFound
from mes.prevention.schedule import ItemStatus

from .conftest import PARIS


def rdv(**kw):
    kw.setdefault("starts_at", datetime(2026, 12, 15, 9, 30, tzinfo=PARIS))
    kw.setdefault("professional_name", "Dr Claire Roux")
    return actions.clean_appointment(**kw)


def last_trace(patient):
    return Trace.objects.filter(patient_id=patient.pk).order_by("-seq").first()


def test_camille_adds_edits_and_cancels_an_appointment_each_traced(camille):
    me = citizen_actor(camille)
    a = actions.appointment_add(actor=me, patient_id=camille.pk, data=rdv(title="Kiné"))
    assert a.status == Appointment.Status.BOOKED and a.author == Appointment.Author.PATIENT
    assert last_trace(camille).action == TraceAction.ADD_APPOINTMENT
    actions.appointment_edit(
        actor=me, appointment_id=a.pk, data=rdv(title="Kiné (dos)", reminder="1w")
    )
    a.refresh_from_db()
    assert a.title == "Kiné (dos)" and a.reminder == "1w"
    assert last_trace(camille).action == TraceAction.UPDATE_APPOINTMENT
    actions.appointment_cancel(actor=me, appointment_id=a.pk)
    a.refresh_from_db()
    assert a.status == Appointment.Status.CANCELLED and a.get_status_display() == "Annulé"
    agenda = agenda_of(actor=me, patient_id=camille.pk)
    assert a in agenda.past and a not in agenda.upcoming  # the history of consultations


def test_naive_times_are_paris_time_and_bad_input_stores_nothing(camille):
    data = actions.clean_appointment(
        starts_at=datetime(2026, 7, 1, 14, 0), professional_name="Centre dentaire"
    )
    assert data.starts_at.utcoffset().total_seconds() == 7200  # CEST
    with pytest.raises(InvalidInput, match="obligatoires"):
        actions.clean_appointment(starts_at=None, professional_name="X")
    with pytest.raises(InvalidInput, match="professionnel"):
        actions.clean_appointment(starts_at=datetime(2026, 12, 9, 9, 0))
    with pytest.raises(InvalidInput, match="100 caractères"):
        rdv(title="x" * 101)
    with pytest.raises(InvalidInput, match="Caractères refusés"):
        rdv(professional_name="Dr <script>")
    assert not Appointment.objects.exists()


def test_a_parent_manages_her_child_s_agenda(camille, louis):
    me = citizen_actor(camille)
    a = actions.appointment_add(actor=me, patient_id=louis.pk, data=rdv())
    assert a.patient == louis
    agenda = agenda_of(actor=me, patient_id=louis.pk)
    assert agenda.upcoming == [a]
    assert any(i.rule_id == "EXAM_ENF_19" for i in agenda.items)  # 11 years old


def test_another_patient_reaches_nothing_and_the_refusal_is_traced(camille, bob):
    a = actions.appointment_add(actor=citizen_actor(camille), patient_id=camille.pk, data=rdv())
    stranger = citizen_actor(bob)
    with pytest.raises(NotFound):
        agenda_of(actor=stranger, patient_id=camille.pk)
    refused = last_trace(camille)
    assert (refused.action, refused.outcome) == (TraceAction.CONSULT_AGENDA, TraceOutcome.REFUSED)
    with pytest.raises(NotFound):
        actions.appointment_cancel(actor=stranger, appointment_id=a.pk)
    assert last_trace(camille).action == TraceAction.CANCEL_APPOINTMENT
    assert last_trace(camille).outcome == TraceOutcome.REFUSED
    a.refresh_from_db()
    assert a.status == Appointment.Status.BOOKED


def test_an_unrelated_professional_is_refused_and_traced(camille, dr_durand):
    with pytest.raises(NotFound):
        access_agenda(
            pro(dr_durand), camille.pk, action=Action.READ, trace_action=TraceAction.CONSULT_AGENDA
        )
    assert last_trace(camille).outcome == TraceOutcome.REFUSED


def test_the_treating_physician_writes_an_appointment_read_only_for_camille(camille, dr_martin):
    doctor = pro(dr_martin, software="LogicielCabinet 3.2")
    a = actions.appointment_write(
        actor=doctor, patient_id=camille.pk, data=rdv(title="Suivi"), status="booked"
    )
    assert a.read_only and a.source_software == "LogicielCabinet 3.2"
    with pytest.raises(InvalidInput, match="là où il a été pris"):
        actions.appointment_cancel(actor=citizen_actor(camille), appointment_id=a.pk)
    actions.appointment_write(
        actor=doctor,
        patient_id=camille.pk,
        data=rdv(title="Suivi"),
        status="noshow",
        appointment_id=a.pk,
    )
    a.refresh_from_db()
    assert a.get_status_display() == "Non honoré"


def test_saying_what_became_of_an_item_and_planning_it(camille):
    me = citizen_actor(camille)  # 41 years old: HPV test due
    key = next(
        i.key
        for i in agenda_of(actor=me, patient_id=camille.pk).items
        if i.rule_id == "DEPISTAGE_COL_HPV" and i.status is ItemStatus.TO_DO
    )
    actions.appointment_add(
        actor=me, patient_id=camille.pk, data=rdv(prevention_key=key, title="Test HPV")
    )
    item = agenda_of(actor=me, patient_id=camille.pk).item(key)
    assert item.status is ItemStatus.PLANNED and item.planned.ref.title == "Test HPV"
    actions.prevention_record_set(
        actor=me,
        patient_id=camille.pk,
        key="DEPISTAGE_GLAUCOME",
        label="Glaucome",
        status=ItemStatus.NOT_CONCERNED,
    )
    assert PreventionRecord.objects.get(key="DEPISTAGE_GLAUCOME").status == "non concerné"
    assert last_trace(camille).action == TraceAction.UPDATE_PREVENTION
    with pytest.raises(InvalidInput, match="passée"):
        actions.prevention_record_set(
            actor=me,
            patient_id=camille.pk,
            key=key,
            label="x",
            status=ItemStatus.DONE,
            done_on=date(2027, 1, 1),
        )


def test_opposing_personalised_prevention_keeps_the_appointments(camille, louis):
    me = citizen_actor(camille)
    a = actions.appointment_add(actor=me, patient_id=louis.pk, data=rdv())
    actions.personalised_prevention_set(actor=me, patient_id=louis.pk, enabled=False)
    agenda = agenda_of(actor=me, patient_id=louis.pk)
    assert agenda.upcoming == [a] and not agenda.personalised
    assert agenda.items and all(i.mandatory for i in agenda.items)


def test_due_items_for_the_home_page(camille, bob):
    items = due_items(citizen_actor(camille), camille, limit=2)
    assert len(items) == 2 and all(i.status is ItemStatus.TO_DO for i in items)
    assert due_items(citizen_actor(bob), camille) == []
