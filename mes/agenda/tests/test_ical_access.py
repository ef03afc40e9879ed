"""The private iCalendar link reads a profile only while its creator may still read it: a
parent's link to their child's agenda stops when the representation ends (majority at 18,
mes-spec §3.5), and no link serves a closed espace's agenda (mes-spec §3.1). Each refusal
looks like an unknown link and is traced on the patient's chain."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.agenda import actions, ical
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.enrolment import lifecycle
from mes.enrolment.models import LegalRepresentation
from mes.lib.errors import NotFound

from .conftest import PARIS

pytestmark = pytest.mark.django_db


def _appointment(patient, actor):
    actions.appointment_add(
        actor=actor,
        patient_id=patient.pk,
        data=actions.clean_appointment(
            starts_at=datetime(2026, 12, 15, 9, 30, tzinfo=PARIS),
            professional_name="Dr Claire Roux",
            title="Orthodontiste",
        ),
    )


def _last_trace(patient):
    return Trace.objects.filter(patient_id=patient.pk).order_by("-seq").first()


def test_a_parent_s_link_to_a_child_s_agenda_stops_when_the_representation_ends(camille, louis):
    mother = citizen_actor(camille)
    _appointment(louis, mother)
    _, secret = actions.calendar_feed_create(actor=mother, patient_id=louis.pk)
    assert b"Orthodontiste" in ical.feed_read(secret=secret)

    LegalRepresentation.objects.filter(represented=louis).update(ended_at=timezone.now())
    with pytest.raises(NotFound):
        ical.feed_read(secret=secret)
    refused = _last_trace(louis)
    assert (refused.action, refused.outcome) == (
        TraceAction.CALENDAR_FEED_READ,
        TraceOutcome.REFUSED,
    )


def test_no_link_serves_a_closed_espace(camille):
    holder = citizen_actor(camille)
    _appointment(camille, holder)
    _, secret = actions.calendar_feed_create(actor=holder, patient_id=camille.pk)
    lifecycle.espace_close(actor=holder, citizen=camille, channel=lifecycle.ONLINE)
    with pytest.raises(NotFound):
        ical.feed_read(secret=secret)
    refused = _last_trace(camille)
    assert (refused.action, refused.outcome) == (
        TraceAction.CALENDAR_FEED_READ,
        TraceOutcome.REFUSED,
    )
