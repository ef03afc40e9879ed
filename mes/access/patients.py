"""The patient an action names, reached through the one access decision or refused.

Every domain action starts the same way: find the patient by id, refuse an unknown one exactly as
a forbidden one (a refusal looks like an absence), and for the simple cases ask
`decide(actor, action, patient)`. The refusal is a `Refused`, written to the trace by
`@traced_action` after the interrupted work is rolled back.

The trace details of a refusal (the rubric or measure asked for, as `document_title`...) are
passed through as keywords, the same for « unknown » and « not allowed »: the trace of a refusal
never tells which of the two it was beyond its reason.
"""

from __future__ import annotations

import uuid
from typing import Unpack

from django.db.models import QuerySet

from mes.audit.guard import RefusalDetails, Refused
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .actors import Actor
from .decision import Action, decide

UNKNOWN_DOSSIER = "dossier inconnu"


def patient_or_refused(
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    refused_as: TraceAction,
    among: QuerySet[Citizen] | None = None,
    **details: Unpack[RefusalDetails],
) -> Citizen:
    """The patient with this id, or Refused (traced as `refused_as`, without a patient, with
    `details`). `among`: the people this actor may find at all (e.g. only espaces that exist for
    professionals); anyone else is unknown. Default: every Citizen."""
    found = Citizen.objects.all() if among is None else among
    patient = found.filter(pk=patient_id).first()
    if patient is None:
        raise Refused.because(actor, refused_as, None, UNKNOWN_DOSSIER, **details)
    return patient


def decided_patient(
    actor: Actor,
    action: Action,
    patient_id: uuid.UUID,
    *,
    refused_as: TraceAction,
    **details: Unpack[RefusalDetails],
) -> Citizen:
    """The patient, when the access decision lets the actor do `action` on them; otherwise
    Refused with the decision's reason (traced as `refused_as`, with `details`)."""
    patient = patient_or_refused(actor, patient_id, refused_as=refused_as, **details)
    decision = decide(actor, action, patient)
    if not decision.allowed:
        raise Refused.because(actor, refused_as, patient.pk, decision.reason, **details)
    return patient
