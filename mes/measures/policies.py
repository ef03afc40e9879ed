"""Who may reach a dossier's measures. Every outcome is traced (DESIGN.md §4).

The measures are part of the profil médical: only the holder and their legal representatives
reach them (Action.MANAGE); professionals see them only through the synthèse saved as a document
(portal.md §2.1). Refusals raise NotFound, exactly as for what does not exist.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from mes.access.actors import Actor
from mes.access.decision import Action, decide
from mes.access.patients import decided_patient
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from . import profiles
from .models import Measurement


def type_label(code: str) -> str:
    t = profiles.BY_CODE.get(code)
    return t.label if t else ""


@traced_action
def access_measures(
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
    type_code: str = "",
) -> Citizen:
    """The patient whose measures the actor manages (holder or legal representative).

    trace_action: written when allowed (None: the caller's action traces itself); the refusal is
    traced under refused_as, else under it, else as CONSULT_RUBRIQUE_MESURES. type_code names
    the measure in the trace.
    """
    label = type_label(type_code)
    refused_as = refused_as or trace_action or TraceAction.CONSULT_MEASURES
    patient = decided_patient(
        actor, Action.MANAGE, patient_id, refused_as=refused_as, document_title=label
    )
    if trace_action is not None:
        trace.record(actor=actor, action=trace_action, patient_id=patient.pk, document_title=label)
    return patient


@traced_action
def access_measurement(
    actor: Actor,
    measurement_id: uuid.UUID,
    *,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
    for_change: bool = False,
) -> Measurement:
    """One value the actor may read (for_change: also modify or delete), or NotFound (traced
    under refused_as, else trace_action, else CONSULT_RUBRIQUE_MESURES).

    A value added by a professional or an app is read only for the citizen (portal.md §1.7).
    """
    refused_as = refused_as or trace_action or TraceAction.CONSULT_MEASURES
    m = Measurement.objects.select_related("patient").filter(pk=measurement_id).first()
    if m is None:
        raise Refused.because(actor, refused_as, None, "mesure inconnue")
    label = type_label(m.type_code)
    decision = decide(actor, Action.MANAGE, m.patient)
    if not decision.allowed:
        raise Refused.because(
            actor, refused_as, m.patient_id, decision.reason, document_title=label
        )
    if for_change and not m.editable_by_citizen:
        raise Refused.because(
            actor,
            refused_as,
            m.patient_id,
            "mesure ajoutée par un tiers : non modifiable",
            document_title=label,
        )
    if trace_action is not None:
        trace.record(
            actor=actor, action=trace_action, patient_id=m.patient_id, document_title=label
        )
    return m


def measurements_of(patient: Citizen, type_code: str) -> QuerySet[Measurement]:
    """The values of one measure, newest first. Selector: the caller went through a policy."""
    return Measurement.objects.of(patient, type_code).newest_first()
