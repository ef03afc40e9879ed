"""The one constructor of a traced refusal (mes.audit.guard.Refused.because): the refusal is a
« not found » (or a 403 the actor may be told about), its trace is written after the refused
work is rolled back, and texts too long for the trace's columns are cut, never lost with it."""

from __future__ import annotations

import uuid

import pytest

from mes.audit import trace
from mes.audit.guard import Refused, RefusedForbidden, traced_action
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.lib.errors import Forbidden, NotFound


def test_a_refusal_is_traced_after_the_rollback_with_every_field(camille, camille_actor):
    document_id = uuid.uuid4()

    @traced_action
    def refused_work() -> None:
        # The interrupted work (here an allowed trace) is rolled back; the refusal stays.
        trace.record(actor=camille_actor, action=TraceAction.CONSULT_DOC, patient_id=camille.pk)
        raise Refused.because(
            camille_actor,
            TraceAction.CONSULT_DOC,
            camille.pk,
            "document masqué",
            document_title="Compte rendu",
            document_id=document_id,
            matrix_version="2024-01",
            hidden_from_representatives=True,
        )

    with pytest.raises(NotFound):
        refused_work()
    row = Trace.objects.get(chain=str(camille.pk), action=TraceAction.CONSULT_DOC)  # only one
    assert row.outcome == TraceOutcome.REFUSED
    assert row.reason == "document masqué"
    assert row.document_title == "Compte rendu"
    assert row.document_id == document_id
    assert row.matrix_version == "2024-01"
    assert row.hidden_from_representatives is True


def test_texts_too_long_for_the_trace_are_cut_to_its_columns(camille, camille_actor):
    @traced_action
    def refused_work() -> None:
        raise Refused.because(
            camille_actor,
            TraceAction.SEND_MESSAGE,
            camille.pk,
            "r" * 500,
            document_title="t" * 500,
            matrix_version="m" * 100,
        )

    with pytest.raises(NotFound):
        refused_work()
    row = Trace.objects.get(chain=str(camille.pk), action=TraceAction.SEND_MESSAGE)
    assert (len(row.reason), len(row.document_title), len(row.matrix_version)) == (200, 255, 40)


def test_an_unknown_patient_goes_to_the_system_chain(camille_actor):
    with pytest.raises(NotFound):
        traced_action(_raise)(
            Refused.because(camille_actor, TraceAction.NOTIFICATIONS, None, "inconnu")
        )
    row = Trace.objects.filter(action=TraceAction.NOTIFICATIONS).get()
    assert row.patient_id is None and row.outcome == TraceOutcome.REFUSED


def test_a_refusal_the_actor_may_be_told_carries_its_message(camille, camille_actor):
    refusal = RefusedForbidden.because(
        "Seul le titulaire du profil peut le synchroniser.",
        camille_actor,
        TraceAction.SERVICE_PAIR,
        camille.pk,
        "réservé au titulaire",
        document_title="Glycéo",
    )
    with pytest.raises(Forbidden) as raised:
        traced_action(_raise)(refusal)
    assert raised.value.message == "Seul le titulaire du profil peut le synchroniser."
    row = Trace.objects.get(chain=str(camille.pk), action=TraceAction.SERVICE_PAIR)
    assert (row.outcome, row.reason, row.document_title) == (
        TraceOutcome.REFUSED,
        "réservé au titulaire",
        "Glycéo",
    )


def _raise(error: Exception) -> None:
    raise error
