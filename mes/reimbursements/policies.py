"""Who may read Mon histoire de santé (portal.md §2.2). The rule is access.decision's
`care_history_allowed`; here it is applied and traced (CONSULT_HISTOIRE_SANTE, allowed or
refused). Refusals look like "not found"."""

from __future__ import annotations

import uuid

from mes.access.actions import notify_first_access
from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, Standing, care_history_allowed, decide
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .models import CareHistorySettings, Episode


def is_masked(patient: Citizen) -> bool:
    return CareHistorySettings.objects.filter(
        patient=patient, masked_from_professionals=True
    ).exists()


def care_history_readable(actor: Actor, patient: Citizen) -> bool:
    """Pure (no trace), for menus and tabs; the page itself goes through access_care_history."""
    st = decide(actor, Action.READ, patient).standing
    return care_history_allowed(st, masked=is_masked(patient))[0]


@traced_action
def access_care_history(
    actor: Actor, patient_id: uuid.UUID, *, trace_action: TraceAction | None
) -> tuple[Citizen, Standing]:
    """The patient whose history the actor may read, or NotFound (traced as
    CONSULT_HISTOIRE_SANTE). trace_action: the trace when allowed (None: the caller traces)."""
    patient = patient_or_refused(actor, patient_id, refused_as=TraceAction.CONSULT_CARE_HISTORY)
    st = decide(actor, Action.READ, patient).standing
    allowed, why = care_history_allowed(st, masked=is_masked(patient))
    if not allowed:
        raise Refused.because(actor, TraceAction.CONSULT_CARE_HISTORY, patient.pk, why)
    if trace_action is not None:
        if actor.kind is ActorKind.PROFESSIONAL:
            notify_first_access(actor, patient)
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=patient.pk,
            matrix_version=st.matrix_version,
        )
    return patient, st


@traced_action
def access_episode(actor: Actor, episode_id: uuid.UUID) -> Episode:
    """One line of the history, when its history is readable (traced)."""
    episode = Episode.objects.select_related("patient").filter(pk=episode_id).first()
    if episode is None:
        raise Refused.because(actor, TraceAction.CONSULT_CARE_HISTORY, None, "ligne inconnue")
    access_care_history(actor, episode.patient_id, trace_action=TraceAction.CONSULT_CARE_HISTORY)
    return episode
