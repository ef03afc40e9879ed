"""Every change to the profil médical. Each action checks its policy and writes its trace.

Bad input raises InvalidInput and changes nothing (the trace written by the policy rolls back
with the rest). Entries a professional added are read only for the citizen.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.audit.guard import traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen, Organisation, Professional
from mes.lib.errors import InvalidInput

from . import rubrics
from .inputs import EntryInput
from .lifestyle import catalogue
from .models import (
    BloodGroup,
    Contact,
    LifestyleAnswer,
    NotConcerned,
    OrganDonationAcknowledgement,
    ProfileEntry,
    ProfileProfessional,
    Source,
)
from .policies import access_entry, access_profile, access_profile_contribution
from .rubrics import Rubric

# The professions that may take each role (TRE_G15): 50 sage-femme, 21 pharmacien.
ROLE_PROFESSIONS = {
    ProfileProfessional.Role.MIDWIFE: "50",
    ProfileProfessional.Role.PHARMACIST: "21",
}
_CONTACT_TRACES = {
    "add": TraceAction.ADD_CONTACT,
    "update": TraceAction.UPDATE_CONTACT,
    "delete": TraceAction.DELETE_CONTACT,
}
_ENTRY_TRACES = {
    "add": TraceAction.ADD_PROFILE_ENTRY,
    "update": TraceAction.UPDATE_PROFILE_ENTRY,
    "delete": TraceAction.DELETE_PROFILE_ENTRY,
}


def _trace_action(rubric: Rubric, op: str) -> TraceAction:
    return (_CONTACT_TRACES if rubric is Rubric.CONTACTS else _ENTRY_TRACES)[op]


def _source_of(actor: Actor) -> Source:
    if actor.kind is ActorKind.PROFESSIONAL:
        return Source.PROFESSIONAL
    if actor.kind is ActorKind.APP:
        return Source.APP
    if actor.kind is ActorKind.INSURER:
        return Source.INSURER
    return Source.PATIENT


def _open(
    actor: Actor, patient_id: uuid.UUID, *, label: str, trace_action: TraceAction
) -> tuple[Citizen, Source, str]:
    """The patient to write to, and the source and author label of what will be written.

    The citizen side writes its own entries; a professional adds read-only ones.
    """
    if actor.kind is ActorKind.CITIZEN:
        patient = access_profile(
            actor, patient_id, write=True, label=label, trace_action=trace_action
        )
    else:
        patient = access_profile_contribution(
            actor, patient_id, label=label, trace_action=trace_action
        )
    return patient, _source_of(actor), actor.display_name


def _check_one_trusted(patient: Citizen, fields: Mapping[str, Any], exclude: Any) -> None:
    """« Je ne peux ajouter qu'une seule personne de confiance. » (portal.md §2.14)."""
    if not fields.get("is_trusted"):
        return
    other = Contact.objects.filter(patient=patient, is_trusted=True).exclude(pk=exclude).first()
    if other is not None:
        raise InvalidInput(
            "Une seule personne de confiance peut être désignée : "
            f"retirez d'abord ce rôle à {other.display_name}.",
            field="is_trusted",
        )


def _link_treatments(entry: ProfileEntry, treatments: list[Any] | None) -> None:
    if treatments is not None:
        entry.treatments.set(treatments)  # type: ignore[attr-defined]


# --- list rubrics ------------------------------------------------------------------------------


@traced_action
def entry_add(*, actor: Actor, patient_id: uuid.UUID, data: EntryInput) -> ProfileEntry:
    """Add an entry to a rubric (disease, treatment, hospitalisation, disability, allergy,
    family history, contact).

    Precondition: the holder or a legal representative (a professional's entry is read only
    for the citizen). Side effects: the entry, the end of a « Je n'ai pas de … » declaration of
    the rubric, an AJOUT_PROFIL_MEDICAL (or AJOUT_MEMBRE_ENTOURAGE) trace.
    """
    rubric = data.rubric
    patient, source, added_by = _open(
        actor, patient_id, label=rubrics.LABELS[rubric], trace_action=_trace_action(rubric, "add")
    )
    fields = data.fields(patient, timezone.localdate())
    treatments = fields.pop("treatments", None)
    if rubric is Rubric.CONTACTS:
        _check_one_trusted(patient, fields, exclude=None)
    now = timezone.now()
    entry = rubrics.MODELS[rubric]._default_manager.create(
        patient=patient, source=source, added_by=added_by, created_at=now, updated_at=now, **fields
    )
    _link_treatments(entry, treatments)
    NotConcerned.objects.filter(patient=patient, section=rubric.value).delete()
    return entry


@traced_action
def entry_update(*, actor: Actor, entry_id: uuid.UUID, data: EntryInput) -> ProfileEntry:
    """Change an entry the citizen side added. Other entries, and other patients' entries,
    are NotFound (traced). Side effect: a MODIF_PROFIL_MEDICAL (or MODIF_MEMBRE_ENTOURAGE)
    trace."""
    rubric = data.rubric
    entry = access_entry(
        actor,
        rubrics.MODELS[rubric],
        entry_id,
        write=True,
        label=rubrics.LABELS[rubric],
        trace_action=_trace_action(rubric, "update"),
    )
    fields = data.fields(entry.patient, timezone.localdate())
    treatments = fields.pop("treatments", None)
    if rubric is Rubric.CONTACTS:
        _check_one_trusted(entry.patient, fields, exclude=entry.pk)
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.updated_at = timezone.now()
    entry.save()
    _link_treatments(entry, treatments)
    return entry


@traced_action
def entry_delete(*, actor: Actor, rubric: Rubric, entry_id: uuid.UUID) -> None:
    """Delete an entry the citizen side added (« … sera supprimée définitivement »). Linked
    treatments and documents are kept. Side effect: a SUPP_PROFIL_MEDICAL (or
    SUPP_MEMBRE_ENTOURAGE) trace."""
    entry = access_entry(
        actor,
        rubrics.MODELS[rubric],
        entry_id,
        write=True,
        label=rubrics.LABELS[rubric],
        trace_action=_trace_action(rubric, "delete"),
    )
    entry.delete()


@traced_action
def declare_not_concerned(*, actor: Actor, patient_id: uuid.UUID, rubric: Rubric) -> NotConcerned:
    """« Je n'ai pas de … à ajouter »: kept with its date until an entry is added.

    Precondition: the rubric offers it and holds no entry yet. Side effect: a
    MODIF_PROFIL_MEDICAL trace.
    """
    if rubric not in rubrics.NOT_CONCERNED:
        raise InvalidInput("Cette rubrique ne propose pas cette déclaration.")
    patient, source, added_by = _open(
        actor,
        patient_id,
        label=rubrics.LABELS[rubric],
        trace_action=TraceAction.UPDATE_PROFILE_ENTRY,
    )
    if rubrics.MODELS[rubric]._default_manager.filter(patient=patient).exists():
        raise InvalidInput("Cette rubrique contient déjà des informations.")
    now = timezone.now()
    declaration, _ = NotConcerned.objects.update_or_create(
        patient=patient,
        section=rubric.value,
        defaults={
            "declared_on": timezone.localdate(),
            "source": source,
            "added_by": added_by,
            "updated_at": now,
        },
    )
    return declaration


# --- one-value rubrics -------------------------------------------------------------------------


@traced_action
def blood_group_set(*, actor: Actor, patient_id: uuid.UUID, value: str) -> BloodGroup:
    """Set the blood group (one value). A value a professional set stays: the citizen cannot
    change it. A professional may set it (read only for the citizen). MODIF_PROFIL_MEDICAL."""
    patient, source, added_by = _open(
        actor,
        patient_id,
        label=rubrics.BLOOD_GROUP,
        trace_action=TraceAction.UPDATE_PROFILE_ENTRY,
    )
    if value not in BloodGroup.Value.values:
        raise InvalidInput("Choisissez un groupe sanguin.", field="value")
    current = BloodGroup.objects.filter(patient=patient).first()
    if current is not None and current.read_only and source is Source.PATIENT:
        raise InvalidInput(
            f"Ce groupe sanguin a été ajouté par {current.added_by} : il ne peut pas être modifié.",
            field="value",
        )
    now = timezone.now()
    group, _ = BloodGroup.objects.update_or_create(
        patient=patient,
        defaults={"value": value, "source": source, "added_by": added_by, "updated_at": now},
    )
    return group


@traced_action
def blood_group_delete(*, actor: Actor, patient_id: uuid.UUID) -> None:
    """Remove the blood group the citizen side entered (SUPP_PROFIL_MEDICAL)."""
    patient = access_profile(
        actor,
        patient_id,
        write=True,
        label=rubrics.BLOOD_GROUP,
        trace_action=TraceAction.DELETE_PROFILE_ENTRY,
    )
    current = BloodGroup.objects.filter(patient=patient).first()
    if current is None:
        raise InvalidInput("Aucun groupe sanguin n'est renseigné.")
    if current.read_only:
        raise InvalidInput(
            f"Ce groupe sanguin a été ajouté par {current.added_by} : il ne peut pas être supprimé."
        )
    current.delete()


@traced_action
def organ_donation_set(
    *, actor: Actor, patient_id: uuid.UUID, acknowledged: bool
) -> OrganDonationAcknowledgement | None:
    """Don d'organes: tick (with today's date) or untick « J'ai pris connaissance des
    dispositions… » (portal.md §2.15). Side effect: a MODIF_DECLA_DON_ORGANE trace."""
    patient = access_profile(
        actor,
        patient_id,
        write=True,
        label=rubrics.ORGAN_DONATION,
        trace_action=TraceAction.ORGAN_DONATION,
    )
    if not acknowledged:
        OrganDonationAcknowledgement.objects.filter(patient=patient).delete()
        return None
    now = timezone.now()
    ack, _ = OrganDonationAcknowledgement.objects.update_or_create(
        patient=patient,
        defaults={
            "acknowledged_on": timezone.localdate(),
            "added_by": actor.display_name,
            "source": Source.PATIENT,
            "updated_at": now,
        },
    )
    return ack


# --- habitudes de vie --------------------------------------------------------------------------


def current_answers(patient: Citizen) -> dict[str, LifestyleAnswer]:
    """The newest answer to each question."""
    current: dict[str, LifestyleAnswer] = {}
    for answer in LifestyleAnswer.objects.filter(patient=patient).order_by("-answered_at", "-pk"):
        current.setdefault(answer.question, answer)
    return current


@traced_action
def lifestyle_save_section(
    *, actor: Actor, patient_id: uuid.UUID, section: str, answers: Mapping[str, str]
) -> int:
    """Answer the questions of one section (its whole state: an empty answer removes the
    previous one). A question shown only after another answer (« ↳ if Oui ») is dropped when
    that answer changes. A changed answer is a new dated row: the history is kept.

    Returns the number of questions whose answer changed. Side effect: MODIF_PROFIL_MEDICAL.
    """
    try:
        sec = catalogue().section(section)
    except KeyError as exc:
        raise InvalidInput("Cette rubrique n'existe pas.") from exc
    patient = access_profile(
        actor, patient_id, write=True, label=rubrics.LIFESTYLE, trace_action=None
    )
    wanted = {q.name: (answers.get(q.name) or "").strip() for q in sec.questions}
    checked: dict[str, str] = {}
    for question in sec.questions:
        raw = wanted[question.name]
        if raw and question.shown(wanted):
            checked[question.name] = question.check(raw)
    current = current_answers(patient)
    now = timezone.now()
    changed = 0
    for question in sec.questions:
        value = checked.get(question.name, "")
        before = current.get(question.name)
        if not value:
            if before is not None:
                LifestyleAnswer.objects.filter(patient=patient, question=question.name).delete()
                changed += 1
            continue
        if before is None or before.value != value:
            LifestyleAnswer.objects.create(
                patient=patient,
                section=sec.name,
                question=question.name,
                value=value,
                answered_at=now,
                catalogue_version=catalogue().version,
                added_by=actor.display_name,
                created_at=now,
                updated_at=now,
            )
            changed += 1
    return changed


@traced_action
def lifestyle_delete_answer(*, actor: Actor, patient_id: uuid.UUID, question: str) -> None:
    """« Supprimer cette réponse ? »: the answer, its history, and the answers of the
    questions that depended on it (SUPP_PROFIL_MEDICAL)."""
    try:
        q = catalogue().question(question)
    except KeyError as exc:
        raise InvalidInput("Cette question n'existe pas.") from exc
    patient = access_profile(
        actor,
        patient_id,
        write=True,
        label=rubrics.LIFESTYLE,
        trace_action=TraceAction.DELETE_PROFILE_ENTRY,
    )
    section = catalogue().section(q.section)
    names = [q.name] + [d.name for d in section.questions if d.display_on_question == q.name]
    if not LifestyleAnswer.objects.filter(patient=patient, question=q.name).exists():
        raise InvalidInput("Cette question n'a pas de réponse.")
    LifestyleAnswer.objects.filter(patient=patient, question__in=names).delete()


# --- Mes professionnels de santé ---------------------------------------------------------------


@traced_action
def profile_professional_add(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    professional_id: uuid.UUID | None = None,
    organisation_id: int | None = None,
) -> ProfileProfessional:
    """Add a professional or a structure of the directory to « Mes professionnels de santé ».

    It gives them no access to the dossier (portal.md §2.13). AJOUT_PROFIL_MEDICAL trace.
    """
    patient = access_profile(
        actor,
        patient_id,
        write=True,
        label=rubrics.PROFESSIONALS,
        trace_action=TraceAction.ADD_PROFILE_ENTRY,
    )
    if (professional_id is None) == (organisation_id is None):
        raise InvalidInput("Choisissez un professionnel ou un établissement de santé.")
    professional = organisation = None
    if professional_id is not None:
        professional = Professional.objects.filter(pk=professional_id).first()
        if professional is None:
            raise InvalidInput("Ce professionnel n'existe pas dans l'annuaire.")
        present = Q(professional=professional)
    elif organisation_id is not None:
        organisation = Organisation.objects.filter(pk=organisation_id).first()
        if organisation is None:
            raise InvalidInput("Cet établissement n'existe pas dans l'annuaire.")
        present = Q(organisation=organisation)
    if ProfileProfessional.objects.filter(present, patient=patient).exists():
        raise InvalidInput("Ce professionnel de santé est déjà dans la liste.")
    now = timezone.now()
    return ProfileProfessional.objects.create(
        patient=patient,
        professional=professional,
        organisation=organisation,
        added_by=actor.display_name,
        created_at=now,
        updated_at=now,
    )


@traced_action
def profile_professional_remove(*, actor: Actor, entry_id: uuid.UUID) -> None:
    """« Supprimer le professionnel de santé » from the list (SUPP_PROFIL_MEDICAL)."""
    entry = access_entry(
        actor,
        ProfileProfessional,
        entry_id,
        write=True,
        label=rubrics.PROFESSIONALS,
        trace_action=TraceAction.DELETE_PROFILE_ENTRY,
    )
    entry.delete()


@traced_action
def profile_professional_set_role(
    *, actor: Actor, entry_id: uuid.UUID, role: str
) -> ProfileProfessional:
    """« Attribuer le rôle de … » (role) or « Retirer le rôle de … » (role ""). One sage-femme
    référente and one pharmacien correspondant: giving the role takes it from the previous
    holder (portal.md §2.13). MODIF_PROFIL_MEDICAL trace."""
    entry = access_entry(
        actor,
        ProfileProfessional,
        entry_id,
        write=True,
        label=rubrics.PROFESSIONALS,
        trace_action=TraceAction.UPDATE_PROFILE_ENTRY,
    )
    if role:
        if role not in ROLE_PROFESSIONS:
            raise InvalidInput("Ce rôle n'existe pas.", field="role")
        pro = entry.professional
        if pro is None or pro.profession != ROLE_PROFESSIONS[ProfileProfessional.Role(role)]:
            label = ProfileProfessional.Role(role).label
            raise InvalidInput(f"Ce professionnel ne peut pas être {label.lower()}.", "role")
        ProfileProfessional.objects.filter(patient_id=entry.patient_id, role=role).exclude(
            pk=entry.pk
        ).update(role="")
    entry.role = role
    entry.updated_at = timezone.now()
    entry.save(update_fields=["role", "updated_at"])
    return entry
