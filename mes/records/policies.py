"""Who may reach which dossier and document. Every outcome is traced (DESIGN.md §4).

Refusals raise NotFound, exactly as for what does not exist.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Q, QuerySet

from mes.access.actions import FIRST_ACCESS_ACTIONS, notify_first_access
from mes.access.actors import Actor, ActorKind
from mes.access.decision import (
    Action,
    Standing,
    decide,
    document_filter,
    patient_with_facts,
    standing,
)
from mes.access.patients import UNKNOWN_DOSSIER
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .models import Document, Folder


@traced_action
def access_dossier(
    actor: Actor, patient_id: uuid.UUID, *, action: Action, trace_action: TraceAction | None
) -> tuple[Citizen, Standing]:
    """The patient and the actor's standing, or NotFound (traced).

    trace_action: the trace written when allowed (None: the caller traces its own action).
    """
    # Not patient_or_refused: the patient comes with the facts the decision needs (privacy,
    # espace state, the professional's access) in one query, the hot path of the API.
    patient, facts = patient_with_facts(actor, patient_id)
    if patient is None:
        raise Refused.because(
            actor, trace_action or TraceAction.CONSULT_DOSSIER, None, UNKNOWN_DOSSIER
        )
    decision = decide(actor, action, patient, facts=facts)
    st = decision.standing
    if not decision.allowed:
        raise Refused.because(
            actor,
            trace_action or TraceAction.CONSULT_DOSSIER,
            patient.pk,
            decision.reason,
            matrix_version=st.matrix_version,
        )
    if trace_action is not None:
        if trace_action in FIRST_ACCESS_ACTIONS:
            notify_first_access(actor, patient)
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=patient.pk,
            matrix_version=st.matrix_version,
        )
    return patient, st


@traced_action
def access_document(
    actor: Actor, document_id: uuid.UUID, *, action: Action, trace_action: TraceAction | None
) -> Document:
    """One document the actor may reach for this action, or NotFound (traced)."""
    doc = Document.objects.select_related("patient").filter(pk=document_id).first()
    if doc is None:
        raise Refused.because(
            actor, trace_action or TraceAction.CONSULT_DOC, None, "document inconnu"
        )
    decision = decide(actor, action, doc.patient, doc)
    if not decision.allowed:
        raise Refused.because(
            actor,
            trace_action or TraceAction.CONSULT_DOC,
            doc.patient_id,
            decision.reason,
            matrix_version=decision.standing.matrix_version,
            document_id=doc.pk,
            hidden_from_representatives=doc.hidden_from_representatives,
        )
    if trace_action is not None:
        if trace_action in FIRST_ACCESS_ACTIONS:
            notify_first_access(actor, doc.patient)
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=doc.patient_id,
            document_id=doc.pk,
            document_title=doc.title,
            matrix_version=decision.standing.matrix_version,
            hidden_from_representatives=doc.hidden_from_representatives,
        )
    return doc


def dossier_documents(
    actor: Actor, patient_id: uuid.UUID, *, trace_action: TraceAction = TraceAction.CONSULT_DOSSIER
) -> tuple[Citizen, QuerySet[Document]]:
    """Open a dossier's list of documents: the traced access to the dossier, then what this
    actor may see in it, from one computation of their standing."""
    patient, st = access_dossier(actor, patient_id, action=Action.READ, trace_action=trace_action)
    return patient, documents_visible_to(actor, patient, st)


def folders_of(actor: Actor, patient_id: uuid.UUID) -> QuerySet[Folder]:
    """The folders of a dossier the actor manages (holder or representative), or NotFound."""
    patient, _ = access_dossier(actor, patient_id, action=Action.MANAGE, trace_action=None)
    return Folder.objects.filter(patient=patient)


def documents_visible_to(
    actor: Actor, patient: Citizen, st: Standing | None = None
) -> QuerySet[Document]:
    """The patient's documents this actor may see; lists never show what a read would refuse.
    `st`: the standing already computed for this actor and patient (by access_dossier)."""
    st = st or standing(actor, patient)
    return Document.objects.filter(visible_condition(actor, patient.pk, st))


def visible_condition(
    actor: Actor, patient_id: uuid.UUID, st: Standing, now: datetime | None = None
) -> Q:
    """The condition of `documents_visible_to`, for a query built elsewhere (the API's page,
    compiled once per process: mes.fhir.mhd.views)."""
    q = Q(patient_id=patient_id) & document_filter(st, now)
    if actor.kind is ActorKind.CITIZEN:
        # The citizen's lists show the current version of each document only.
        q &= Q(status=Document.Status.CURRENT)
    return q
