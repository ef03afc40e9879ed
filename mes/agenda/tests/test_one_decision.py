"""One access decision per read of an agenda: what the agenda shows (a minor's secret care
hidden from the parents) follows the standing its access was decided on, never a second
decision. The traces name the access, not the decisions: a spy on `standing` (what every
decision computes, mes.access.decision) counts them; the trace is still the one of the read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from unittest import mock

import pytest
from django.test import Client

from mes.access import decision
from mes.access.actors import citizen_actor
from mes.agenda import actions, ical, policies, selectors
from mes.agenda.models import Appointment
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.actors import app_actor
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.conftest import pro
from mes.lib.errors import NotFound

from .conftest import PARIS

pytestmark = pytest.mark.django_db


@pytest.fixture
def decisions() -> Iterator[mock.MagicMock]:
    with mock.patch.object(decision, "standing", wraps=decision.standing) as spy:
        yield spy


@pytest.fixture
def two_appointments(louis):
    """Louis's ordinary appointment, and his secret care (hidden from his parents)."""
    for title, hidden in (("Orthodontiste", False), ("Consultation secrète", True)):
        Appointment.objects.create(
            patient=louis,
            starts_at=datetime(2026, 12, 15, 9, 30, tzinfo=PARIS),
            title=title,
            hidden_from_representatives=hidden,
        )


def _reads(patient, action: TraceAction) -> list[tuple[str, str]]:
    return list(
        Trace.objects.filter(patient_id=patient.pk, action=action).values_list(
            "actor_id", "outcome"
        )
    )


def test_the_mother_opens_her_son_s_agenda_on_one_decision(
    camille, louis, two_appointments, decisions
):
    agenda = selectors.agenda_of(actor=citizen_actor(camille), patient_id=louis.pk)
    assert decisions.call_count == 1
    assert [a.title for a in agenda.upcoming + agenda.past] == ["Orthodontiste"]
    assert _reads(louis, TraceAction.CONSULT_AGENDA) == [(camille.ins, TraceOutcome.ALLOWED)]


def test_the_home_tile_decides_once(camille, louis, two_appointments, decisions):
    selectors.due_items(citizen_actor(camille), louis)
    assert decisions.call_count == 1


def test_the_icalendar_feed_reads_on_one_decision(camille, louis, two_appointments):
    _, secret = actions.calendar_feed_create(actor=citizen_actor(camille), patient_id=louis.pk)
    with mock.patch.object(decision, "standing", wraps=decision.standing) as spy:
        feed = ical.feed_read(secret=secret)
    assert spy.call_count == 1
    assert b"Orthodontiste" in feed and "secrète".encode() not in feed
    # (The feed's reader is traced as the link, « ical ».)
    assert _reads(louis, TraceAction.CALENDAR_FEED_READ) == [("ical", TraceOutcome.ALLOWED)]


def test_a_paired_app_s_search_decides_once(camille):
    """The app route's gate (require_exchange: the agenda purpose consented, the pairing
    standing, then the token's scope) makes the decision the agenda's access would make for an
    app (decide_exchange « agenda, lecture »): the access uses it (exchanged_agenda), and what
    the search shows follows it. One decision, the trace of the read still written."""
    raw, _ = paired_token(pair(glucose_service(), camille), scopes="patient/Appointment.cruds")
    Appointment.objects.create(
        patient=camille, starts_at=datetime(2026, 12, 15, 9, 30, tzinfo=PARIS), title="Bilan"
    )
    with mock.patch.object(decision, "standing", wraps=decision.standing) as spy:
        listing = Client().get("/fhir/services/Appointment", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert listing.status_code == 200
    assert json.loads(listing.content)["total"] == 1
    assert spy.call_count == 1
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.CONSULT_AGENDA, actor_kind="app"
    ).exists()


def test_the_app_s_agenda_access_takes_no_other_decision_than_an_agenda_read(camille, dr_martin):
    """exchanged_agenda checks the decision it is given (fail closed, traced): refused, or for
    another purpose, or not an app's, it opens nothing."""
    pairing = pair(glucose_service(), camille, purposes=["31"])  # documents, no agenda
    app = app_actor(pairing)
    documents = decision.decide_exchange(app, camille, "documents", "lecture")
    agenda = decision.decide_exchange(app, camille, "agenda", "lecture")
    assert documents.allowed and not agenda.allowed
    professional = decision.decide(pro(dr_martin), decision.Action.READ, camille)
    for actor, given in ((app, documents), (app, agenda), (pro(dr_martin), professional)):
        with pytest.raises(NotFound):
            policies.exchanged_agenda(
                actor, camille, given, trace_action=TraceAction.CONSULT_AGENDA
            )
    assert (
        Trace.objects.filter(
            patient_id=camille.pk, action=TraceAction.CONSULT_AGENDA, outcome=TraceOutcome.REFUSED
        ).count()
        == 3
    )
    assert not Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.CONSULT_AGENDA, outcome=TraceOutcome.ALLOWED
    ).exists()


def test_a_paired_app_s_appointment_read_decides_once(camille, pierre, louis, two_appointments):
    """One appointment through the apps' door: the gate's decision, then the appointment within
    that agenda; another espace's appointment, or a minor's secret care for an app a parent
    paired, is not found (traced), as before."""
    service = glucose_service()
    raw, _ = paired_token(pair(service, camille), scopes="patient/Appointment.cruds")
    mine = Appointment.objects.create(
        patient=camille, starts_at=datetime(2026, 12, 15, 9, 30, tzinfo=PARIS), title="Bilan"
    )
    theirs = Appointment.objects.create(
        patient=pierre, starts_at=datetime(2026, 12, 15, 9, 30, tzinfo=PARIS), title="Kiné"
    )

    def read(token: str, appointment: Appointment) -> int:
        return (
            Client()
            .get(
                f"/fhir/services/Appointment/{appointment.pk}", HTTP_AUTHORIZATION=f"Bearer {token}"
            )
            .status_code
        )

    with mock.patch.object(decision, "standing", wraps=decision.standing) as spy:
        assert read(raw, mine) == 200
    assert spy.call_count == 1
    assert (
        Trace.objects.filter(
            patient_id=camille.pk,
            action=TraceAction.CONSULT_APPOINTMENT,
            outcome=TraceOutcome.ALLOWED,
            actor_kind="app",
        ).count()
        == 1
    )
    assert read(raw, theirs) == 404
    assert Trace.objects.filter(
        patient_id=pierre.pk,
        action=TraceAction.CONSULT_APPOINTMENT,
        outcome=TraceOutcome.REFUSED,
        reason__contains="autre espace",
    ).exists()
    # Louis's espace, paired by his mother: his secret care does not exist for her app.
    parent_raw, _ = paired_token(
        pair(service, louis, granted_by=camille.user),
        scopes="patient/Appointment.cruds",
    )
    secret = Appointment.objects.get(patient=louis, hidden_from_representatives=True)
    ordinary = Appointment.objects.get(patient=louis, hidden_from_representatives=False)
    assert read(parent_raw, ordinary) == 200
    assert read(parent_raw, secret) == 404
