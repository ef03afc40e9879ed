"""« The patient this action names, or refused » (mes/access/patients.py): an unknown patient and
a forbidden one are both a Refused (a NotFound), traced after the rollback by @traced_action,
the trace's details the same either way."""

from __future__ import annotations

import uuid

import pytest

from mes.access.actors import citizen_actor
from mes.access.decision import Action
from mes.access.patients import UNKNOWN_DOSSIER, decided_patient, patient_or_refused
from mes.audit.guard import Refused, traced_action
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.identity.models import Citizen
from mes.lib.errors import NotFound

ACTION = TraceAction.CONSULT_MEASURES


@traced_action
def _manage(actor, patient_id):
    return decided_patient(
        actor, Action.MANAGE, patient_id, refused_as=ACTION, document_title="Poids"
    )


def test_the_holder_gets_their_dossier_and_nothing_is_traced(camille):
    assert _manage(citizen_actor(camille), camille.pk) == camille
    assert not Trace.objects.exists()  # the caller traces its own act


def test_an_unknown_patient_is_refused_without_a_patient(camille):
    with pytest.raises(NotFound):
        _manage(citizen_actor(camille), uuid.uuid4())
    row = Trace.objects.get()
    assert (row.action, row.outcome, row.patient_id, row.reason, row.document_title) == (
        ACTION,
        TraceOutcome.REFUSED,
        None,
        UNKNOWN_DOSSIER,
        "Poids",
    )


def test_someone_else_s_dossier_is_refused_with_the_decision_s_reason(camille, bob, dr_durand):
    for actor in (citizen_actor(bob), pro(dr_durand)):
        with pytest.raises(NotFound):
            _manage(actor, camille.pk)
    rows = list(Trace.objects.order_by("pk"))
    assert [(r.outcome, r.patient_id, r.document_title) for r in rows] == [
        (TraceOutcome.REFUSED, camille.pk, "Poids")
    ] * 2
    assert all(r.reason and r.reason != UNKNOWN_DOSSIER for r in rows)


def test_among_makes_anyone_else_unknown(camille, bob, dr_durand):
    others = Citizen.objects.exclude(pk=camille.pk)
    actor = pro(dr_durand)
    assert patient_or_refused(actor, bob.pk, refused_as=ACTION, among=others) == bob
    with pytest.raises(Refused) as refused:
        patient_or_refused(actor, camille.pk, refused_as=ACTION, among=others)
    assert refused.value.trace_kwargs["patient_id"] is None
    assert refused.value.trace_kwargs["reason"] == UNKNOWN_DOSSIER
