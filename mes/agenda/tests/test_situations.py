"""Situations the rules need, as the citizen declared them (a pregnancy by its expected date, a
chronic disease…), with a frozen clock: the calendar gains the pregnancy's dental check-up and
whooping-cough vaccination, the « at risk » flu vaccination; the sweep reminds them once; bad
input stores nothing; another patient's settings are not found, and the refusal traced."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mes.access.actors import citizen_actor
from mes.agenda import actions, reminders
from mes.agenda.models import PREGNANCY_TERM, AgendaSettings
from mes.agenda.selectors import calendar_for
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.models import Notification

from .conftest import TODAY

# The pregnancy's dental check-up opens 3 months after the first day of amenorrhoea: here on
# 8 December 2026, the day after the sweep.
PREGNANCY_START = date(2026, 9, 8)
DUE = PREGNANCY_START + PREGNANCY_TERM


def keys(patient) -> set[str]:
    return {i.key for i in calendar_for(patient, TODAY)}


def test_a_declared_pregnancy_brings_its_items_and_its_reminder(camille):
    before = keys(camille)
    actions.situations_set(
        actor=citizen_actor(camille), patient_id=camille.pk, codes=[], pregnancy_due_on=DUE
    )
    added = keys(camille) - before
    assert "DENT_MATERNITE@2026-09-08" in added
    assert any(k.startswith("VAC_COQUELUCHE_GROSSESSE") for k in added)
    reminders.prevention_reminders(today=TODAY)
    reminders.prevention_reminders(today=TODAY)  # a second worker: nothing twice
    sent = Notification.objects.filter(profile=camille, url__contains="DENT_MATERNITE")
    assert sent.count() == 1
    assert sent.get().key == reminders.prevention_key(camille.pk, "DENT_MATERNITE@2026-09-08")
    trace = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
    assert trace.action == TraceAction.PREVENTION_SETTINGS
    assert trace.document_title == "Situations pour la prévention"  # not the situation itself


def test_without_the_declaration_no_pregnancy_item(camille):
    assert not any("GROSSESSE" in k or "MATERNITE" in k for k in keys(camille))
    reminders.prevention_reminders(today=TODAY)
    assert not Notification.objects.filter(key__contains="MATERNITE").exists()


def test_a_chronic_disease_brings_the_flu_vaccination_at_risk(camille):
    assert not any(k.startswith("VAC_GRIPPE_RISQUE") for k in keys(camille))
    actions.situations_set(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        codes=["maladie_chronique"],
        pregnancy_due_on=None,
    )
    assert any(k.startswith("VAC_GRIPPE_RISQUE") for k in keys(camille))
    assert AgendaSettings.objects.get(patient=camille).situations == ["maladie_chronique"]


@pytest.mark.parametrize(
    ("codes", "due", "field"),
    [
        (["inconnue"], None, "situations"),
        (["grossesse"], None, "situations"),  # a pregnancy is declared by its date
        ([], TODAY + timedelta(days=300), "pregnancy_due_on"),
        ([], TODAY - timedelta(days=30), "pregnancy_due_on"),
    ],
)
def test_bad_input_stores_nothing(camille, codes, due, field):
    with pytest.raises(InvalidInput) as err:
        actions.situations_set(
            actor=citizen_actor(camille), patient_id=camille.pk, codes=codes, pregnancy_due_on=due
        )
    assert err.value.field == field
    assert not AgendaSettings.objects.filter(patient=camille).exists()


def test_another_patient_cannot_declare_for_her(camille, bob):
    with pytest.raises(NotFound):
        actions.situations_set(
            actor=citizen_actor(bob), patient_id=camille.pk, codes=[], pregnancy_due_on=DUE
        )
    assert not AgendaSettings.objects.filter(patient=camille).exists()
    refused = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
    assert refused.outcome == TraceOutcome.REFUSED
    assert refused.action == TraceAction.PREVENTION_SETTINGS
