"""Reminders respect the espace's state (issue 14: « every other part of the service respects
the state »): the prevention reminders, a situation's reminders, the appointment reminders, the
citizen's own « Rappel » and the campaigns go only to people whose espace is open to them, an
active one (or one that predates enrolment, with no row). Nobody is told of an espace notified
but not activated, opposed, suspended, closed or purged — neither in the centre nor by e-mail,
SMS or letter to the holder or to a child's parents."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mes.access.actors import citizen_actor
from mes.agenda import actions, reminders
from mes.agenda.campaigns import campaign_plan, campaign_slice
from mes.agenda.models import Campaign
from mes.agenda.tests.test_campaigns import senior
from mes.agenda.tests.test_reminders import add, said
from mes.agenda.tests.test_situations import DUE
from mes.enrolment.models import Espace, EspaceState
from mes.notifications.models import Delivery, Notification

from .conftest import NOW, TODAY

NOT_OPEN = sorted(set(EspaceState.values) - {EspaceState.ACTIVE})
EVERY_STATE = [EspaceState.ACTIVE, *NOT_OPEN]


def put_in(person, state: str) -> None:
    Espace.objects.update_or_create(
        citizen=person, defaults={"state": state, "vitale_serial": "8025000000001"}
    )


@pytest.mark.parametrize("state", EVERY_STATE)
def test_a_childs_prevention_reminder_only_when_her_espace_is_open(baby, camille, state):
    put_in(camille, EspaceState.ACTIVE)
    put_in(baby, state)
    reminders.prevention_reminders(today=TODAY)
    told = state == EspaceState.ACTIVE
    assert ("EXAM_ENF_02" in said(baby)) is told
    # The mother is told beyond the centre only of what her daughter's centre holds.
    assert Delivery.objects.filter(recipient=camille).exists() is told


def test_an_espace_without_a_row_predates_enrolment_and_is_reminded(baby):
    assert not Espace.objects.filter(citizen=baby).exists()
    reminders.prevention_reminders(today=TODAY)
    assert "EXAM_ENF_02" in said(baby)


@pytest.mark.parametrize("state", EVERY_STATE)
def test_a_pregnancys_reminder_only_when_the_espace_is_open(camille, state):
    actions.situations_set(
        actor=citizen_actor(camille), patient_id=camille.pk, codes=[], pregnancy_due_on=DUE
    )
    put_in(camille, state)
    reminders.prevention_reminders(today=TODAY)
    sent = Notification.objects.filter(profile=camille, url__contains="DENT_MATERNITE")
    assert sent.exists() is (state == EspaceState.ACTIVE)


@pytest.mark.parametrize("state", EVERY_STATE)
def test_an_appointment_reminder_only_when_the_espace_is_open(camille, state):
    add(camille, citizen_actor(camille), NOW + timedelta(hours=20))
    put_in(camille, state)  # e.g. closed since the appointment was written
    told = state == EspaceState.ACTIVE
    assert reminders.appointment_reminders(now=NOW) == int(told)
    assert (
        Notification.objects.filter(
            profile=camille, code=Notification.Code.APPOINTMENT_REMINDER
        ).exists()
        is told
    )
    assert Delivery.objects.filter(recipient=camille).exists() is told


@pytest.mark.parametrize("state", EVERY_STATE)
def test_a_citizens_own_reminder_only_when_the_espace_is_open(camille, state):
    reminder = actions.user_reminder_add(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        data=actions.clean_user_reminder(title="Prise de sang", at=NOW + timedelta(hours=1)),
    )
    put_in(camille, state)
    told = state == EspaceState.ACTIVE
    later = NOW + timedelta(hours=2)
    assert reminders.user_reminder_due(reminder_id=reminder.pk, now=later) is told
    assert reminders.user_reminders(now=later) == 0  # told once, or never
    assert Notification.objects.filter(
        profile=camille, code=Notification.Code.AGENDA_REMINDER
    ).count() == int(told)


def test_a_campaign_leaves_out_the_espaces_not_open(db):
    active, no_row, *others = [senior(n) for n in range(2 + len(NOT_OPEN))]
    put_in(active, EspaceState.ACTIVE)
    for person, state in zip(others, NOT_OPEN, strict=True):
        put_in(person, state)
    campaign = Campaign.objects.create(
        title="Grippe 2026",
        label="La campagne de vaccination contre la grippe est ouverte",
        reason="vous avez 65 ans ou plus",
        code=Campaign.Code.VACCINATION,
        age_min=65,
        started_on=TODAY,
    )
    while (planned := campaign_plan(campaign_id=campaign.pk, size=3)) is not None:
        campaign_slice(campaign_id=campaign.pk, after=planned[0], last=planned[1])
    told = set(
        Notification.objects.filter(key__startswith=f"camp:{campaign.pk}:").values_list(
            "profile_id", flat=True
        )
    )
    assert told == {active.pk, no_row.pk}
    assert set(Delivery.objects.values_list("recipient_id", flat=True)) == told
