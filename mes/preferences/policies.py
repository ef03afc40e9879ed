"""Who may change a profile's display preferences: whoever manages the dossier (the holder, a
legal representative), as decided by mes.access.decide (Action.MANAGE). Refusals raise NotFound
and are traced, exactly as for what does not exist (DESIGN.md §4)."""

from __future__ import annotations

import uuid

from mes.access.actors import Actor
from mes.access.decision import Action, decide
from mes.audit.guard import Refused
from mes.audit.models import TraceAction
from mes.identity.models import Citizen


def access_preferences(actor: Actor, patient_id: uuid.UUID, *, action: TraceAction) -> Citizen:
    """The profile whose preferences the actor manages, or a traced refusal (NotFound).

    Run it inside a @traced_action: the refusal's trace is written after the rollback.
    """
    patient = Citizen.objects.filter(pk=patient_id).first()
    reason = "profil inconnu"
    if patient is not None:
        decision = decide(actor, Action.MANAGE, patient)
        if decision.allowed:
            return patient
        reason = decision.reason
    raise Refused.because(actor, action, patient.pk if patient is not None else None, reason)
