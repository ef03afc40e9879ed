"""Who may reach the profil médical. Every outcome is traced; refusals look like "not found".

The citizen side (the holder, a current legal representative) reads and writes the whole
profile. Professionals read only « Entourage et volontés » (DESIGN.md §4, portal.md §2.1); the
rest reaches them through the synthèse saved as a document.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import QuerySet

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, decide
from mes.access.patients import decided_patient, patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from . import rubrics
from .models import Contact, NotConcerned, OrganDonationAcknowledgement, ProfileEntry
from .rubrics import Rubric

E = TypeVar("E", bound=ProfileEntry)


def _default_action(write: bool) -> TraceAction:
    return TraceAction.UPDATE_PROFILE_ENTRY if write else TraceAction.CONSULT_PROFILE


@traced_action
def access_profile(
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    write: bool,
    label: str = rubrics.HOME,
    trace_action: TraceAction | None = None,
) -> Citizen:
    """The patient whose profil médical the actor reads (write=False) or changes, or NotFound.

    Only the holder or a current legal representative (decide MANAGE). Side effect: one trace,
    `trace_action` (default: consultation or modification) labelled with the rubric, allowed or
    refused.
    """
    action = trace_action or _default_action(write)
    patient = decided_patient(
        actor, Action.MANAGE, patient_id, refused_as=action, document_title=label
    )
    trace.record(actor=actor, action=action, patient_id=patient.pk, document_title=label)
    return patient


@traced_action
def access_entry(
    actor: Actor,
    model: type[E],
    entry_id: uuid.UUID,
    *,
    write: bool,
    label: str,
    trace_action: TraceAction | None = None,
) -> E:
    """One entry of a profile the actor manages; to change it (write), it must be the citizen's
    own entry (« Ajouté par … » entries are read only). Otherwise NotFound, traced."""
    action = trace_action or _default_action(write)
    entry = model._default_manager.select_related("patient").filter(pk=entry_id).first()
    if entry is None:
        raise Refused.because(actor, action, None, "entrée inconnue", document_title=label)
    decision = decide(actor, Action.MANAGE, entry.patient)
    if not decision.allowed:
        raise Refused.because(
            actor, action, entry.patient_id, decision.reason, document_title=label
        )
    if write and entry.read_only:
        raise Refused.because(
            actor,
            action,
            entry.patient_id,
            "ajouté par un tiers : non modifiable",
            document_title=label,
        )
    trace.record(actor=actor, action=action, patient_id=entry.patient_id, document_title=label)
    return entry


@traced_action
def access_profile_contribution(
    actor: Actor, patient_id: uuid.UUID, *, label: str, trace_action: TraceAction
) -> Citizen:
    """A professional adds to the profile (read only for the citizen, « Ajouté par … »).

    Any professional who may deposit a document in the dossier (not blocked) may, as for
    documents; they read nothing back through this door. NotFound otherwise, traced.
    """
    # Not decided_patient: a citizen is refused as such before any decision, and a refusal
    # carries the habilitation matrix that decided (as the allowed trace does).
    patient = patient_or_refused(actor, patient_id, refused_as=trace_action, document_title=label)
    if actor.kind is not ActorKind.PROFESSIONAL:
        raise Refused.because(
            actor, trace_action, patient.pk, "réservé aux professionnels", document_title=label
        )
    decision = decide(actor, Action.DEPOSIT, patient)
    st = decision.standing
    if not decision.allowed:
        raise Refused.because(
            actor,
            trace_action,
            patient.pk,
            decision.reason,
            document_title=label,
            matrix_version=st.matrix_version,
        )
    trace.record(
        actor=actor,
        action=trace_action,
        patient_id=patient.pk,
        document_title=label,
        matrix_version=st.matrix_version,
    )
    return patient


@dataclass(frozen=True)
class RubricPage:
    patient: Citizen
    entries: QuerySet[ProfileEntry]
    not_concerned: NotConcerned | None


def rubric_entries(actor: Actor, patient_id: uuid.UUID, rubric: Rubric) -> RubricPage:
    """One rubric of the profile (a CONSULT_RUBRIQUE_PROFIL_MEDICAL trace), or NotFound."""
    patient = access_profile(actor, patient_id, write=False, label=rubrics.LABELS[rubric])
    entries = rubrics.MODELS[rubric]._default_manager.filter(patient=patient)
    not_concerned = None
    if rubric in rubrics.NOT_CONCERNED:
        not_concerned = NotConcerned.objects.filter(patient=patient, section=rubric.value).first()
    return RubricPage(patient=patient, entries=entries, not_concerned=not_concerned)


def _readable_patient(actor: Actor, patient_id: uuid.UUID, label: str) -> Citizen:
    """The patient, if the actor may read the dossier (decide READ); traced either way."""
    action = TraceAction.CONSULT_ENTOURAGE
    # Not decided_patient: a refusal carries the habilitation matrix that decided, as the
    # allowed trace does (a professional's access, as in mes.records.policies.access_dossier).
    patient = patient_or_refused(actor, patient_id, refused_as=action, document_title=label)
    decision = decide(actor, Action.READ, patient)
    st = decision.standing
    if not decision.allowed:
        raise Refused.because(
            actor,
            action,
            patient.pk,
            decision.reason,
            document_title=label,
            matrix_version=st.matrix_version,
        )
    trace.record(
        actor=actor,
        action=action,
        patient_id=patient.pk,
        document_title=label,
        matrix_version=st.matrix_version,
    )
    return patient


@traced_action
def entourage_visible_to(actor: Actor, patient_id: uuid.UUID) -> QuerySet[Contact]:
    """The « Entourage et volontés » contacts, for whoever may read the dossier (decide READ):
    the professionals the patient authorised (or in an emergency mode), and the citizen side.

    Side effect: a CONSULT_RUBRIQUE_ENTOURAGE trace; a refusal is NotFound with its trace.
    """
    patient = _readable_patient(actor, patient_id, rubrics.LABELS[Rubric.CONTACTS])
    return Contact.objects.filter(patient=patient)


@traced_action
def organ_donation_visible_to(
    actor: Actor, patient_id: uuid.UUID
) -> OrganDonationAcknowledgement | None:
    """The don d'organes declaration (« Entourage et volontés »), under the same rule and trace
    as entourage_visible_to (labelled « Don d'organes »). None when nothing was declared."""
    patient = _readable_patient(actor, patient_id, rubrics.ORGAN_DONATION)
    return OrganDonationAcknowledgement.objects.filter(patient=patient).first()
