"""Every change to a carnet de vaccination. Each action checks its policy and writes its trace.

The citizen side (holder, legal representative) adds, edits and deletes what it recorded; a
vaccination added or confirmed by a professional is read-only for it (portal.md §2.11).
Professionals record vaccinations and confirm those the citizen recorded; the patient is then
notified (« … a mis à jour la rubrique Vaccinations », portal.md §7.2).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction, TraceOutcome
from mes.identity.models import Citizen, Professional
from mes.lib.errors import InvalidInput, NotFound
from mes.lib.text import check_text
from mes.notifications.actions import notify
from mes.notifications.models import Notification

from . import pdf, referential
from .carnet import carnet_of
from .models import COMMENT_MAX, LOT_MAX, VACCINATOR_MAX, Vaccination
from .policies import access_vaccination, access_vaccinations

# portal.md §1.7: characters refused in names.
FORBIDDEN_NAME_CHARS = set("@<>?:/€*#|%~+£$!§¤")
DOSE_NUMBER_MAX = 20
READ_ONLY_DELETE = (
    "Vous ne pouvez pas supprimer cette vaccination car elle a été ajoutée ou confirmée par un "
    "professionnel de santé."
)
READ_ONLY_EDIT = (
    "Vous ne pouvez pas modifier cette vaccination car elle a été ajoutée ou confirmée par un "
    "professionnel de santé."
)


@dataclass(frozen=True)
class VaccinationInput:
    """What a vaccination says, checked by `clean_input` before anything is written."""

    vaccine: referential.Vaccine
    date: date
    kind: str
    lot: str
    vaccinator_name: str
    vaccinator: Professional | None
    comment: str
    dose_number: int | None


def clean_input(
    *,
    patient: Citizen,
    vaccine_code: str,
    vaccination_date: date | None,
    kind: str,
    lot: str = "",
    vaccinator_name: str = "",
    vaccinator_id: uuid.UUID | None = None,
    comment: str = "",
    dose_number: int | None = None,
) -> VaccinationInput:
    """The checks of portal.md §2.11, in French; InvalidInput names the field at fault."""
    vaccine = referential.vaccine(vaccine_code)
    if vaccination_date is None:
        raise InvalidInput("La date de vaccination est obligatoire.", field="date")
    if vaccination_date < patient.birth_date:
        raise InvalidInput(
            "La date de vaccination doit être postérieure à la date de naissance.", field="date"
        )
    if vaccination_date > timezone.localdate():
        raise InvalidInput("La date de vaccination ne peut pas être dans le futur.", field="date")
    if kind not in Vaccination.Kind.values:
        raise InvalidInput("Choisissez le type de vaccination.", field="kind")
    lot = check_text((lot or "").strip(), label="Lot du vaccin", field="lot")
    if len(lot) > LOT_MAX:
        raise InvalidInput(
            f"Le lot du vaccin ne doit pas dépasser {LOT_MAX} caractères.", field="lot"
        )
    vaccinator_name = check_text(
        (vaccinator_name or "").strip(), label="Nom du vaccinateur", field="vaccinator_name"
    )
    if len(vaccinator_name) > VACCINATOR_MAX:
        raise InvalidInput(
            f"Le nom du vaccinateur ne doit pas dépasser {VACCINATOR_MAX} caractères.",
            field="vaccinator_name",
        )
    refused = sorted(set(vaccinator_name) & FORBIDDEN_NAME_CHARS)
    if refused:
        raise InvalidInput(
            f"Caractères refusés dans « Nom du vaccinateur » : {' '.join(refused)}",
            field="vaccinator_name",
        )
    vaccinator = None
    if vaccinator_id is not None:
        vaccinator = Professional.objects.filter(pk=vaccinator_id).first()
        if vaccinator is None:
            raise InvalidInput("Ce professionnel de santé est introuvable.", "vaccinator_name")
    comment = check_text(
        (comment or "").strip(), label="Commentaire", field="comment", multiline=True
    )
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            f"Le commentaire ne doit pas dépasser {COMMENT_MAX} caractères.", field="comment"
        )
    if dose_number is not None and not 1 <= dose_number <= DOSE_NUMBER_MAX:
        raise InvalidInput("Le numéro de dose est invalide.", field="dose_number")
    return VaccinationInput(
        vaccine=vaccine,
        date=vaccination_date,
        kind=kind,
        lot=lot,
        vaccinator_name="" if vaccinator else vaccinator_name,
        vaccinator=vaccinator,
        comment=comment,
        dose_number=dose_number,
    )


def _fields(data: VaccinationInput) -> dict[str, object]:
    return {
        "vaccine_code": data.vaccine.code,
        "vaccine_label": data.vaccine.label,
        "valences": list(data.vaccine.valences),
        "date": data.date,
        "kind": data.kind,
        "lot": data.lot,
        "vaccinator_name": data.vaccinator_name,
        "vaccinator": data.vaccinator,
        "comment": data.comment,
        "dose_number": data.dose_number,
    }


def carnet_url(patient_id: uuid.UUID) -> str:
    """The carnet page, showing this profile (a parent reaches the child's carnet)."""
    return f"{reverse('portal:vaccinations')}?profil={patient_id}"


def _notify_update(patient: Citizen, actor: Actor) -> None:
    notify(
        profile=patient,
        code=Notification.Code.NEW_VACCINATION,
        label=f"{actor.display_name} a mis à jour la rubrique Vaccinations",
        url=carnet_url(patient.pk),
        link_label="Voir la rubrique",
    )


# --- the citizen side ----------------------------------------------------------------------


@traced_action
def vaccination_add(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    vaccine_code: str,
    vaccination_date: date | None,
    kind: str = Vaccination.Kind.UNKNOWN,
    lot: str = "",
    vaccinator_name: str = "",
    vaccinator_id: uuid.UUID | None = None,
    comment: str = "",
) -> Vaccination:
    """The holder or a legal representative records a vaccination in the carnet.

    Precondition: the actor manages the dossier (Action.MANAGE). Side effects: one Vaccination
    (source « usager », editable by the citizen side), an AJOUT_VACCINATION trace. Bad input
    raises InvalidInput and stores nothing.
    """
    patient, _ = access_vaccinations(
        actor,
        patient_id,
        action=Action.MANAGE,
        trace_action=None,
        refused_as=TraceAction.ADD_VACCINATION,
    )
    data = clean_input(
        patient=patient,
        vaccine_code=vaccine_code,
        vaccination_date=vaccination_date,
        kind=kind,
        lot=lot,
        vaccinator_name=vaccinator_name,
        vaccinator_id=vaccinator_id,
        comment=comment,
    )
    now = timezone.now()
    vaccination = Vaccination.objects.create(
        patient=patient,
        source=Vaccination.Source.PATIENT,
        author_label=actor.display_name,
        author_citizen_id=actor.citizen_id,
        created_at=now,
        updated_at=now,
        **_fields(data),
    )
    trace.record(
        actor=actor,
        action=TraceAction.ADD_VACCINATION,
        patient_id=patient.pk,
        document_title=vaccination.vaccine_label,
    )
    return vaccination


def _refuse_read_only(actor: Actor, vaccination: Vaccination, action: TraceAction) -> None:
    """A refused change of a professional's entry: traced in a transaction of its own, since
    the InvalidInput that follows leaves the caller's work unfinished."""
    with transaction.atomic():
        trace.record(
            actor=actor,
            action=action,
            outcome=TraceOutcome.REFUSED,
            patient_id=vaccination.patient_id,
            document_title=vaccination.vaccine_label,
            reason="vaccination ajoutée ou confirmée par un professionnel",
        )


def _citizen_entry(
    actor: Actor, vaccination_id: uuid.UUID, action: TraceAction, message: str
) -> Vaccination:
    vaccination = access_vaccination(
        actor, vaccination_id, action=Action.MANAGE, trace_action=None, refused_as=action
    )
    if vaccination.read_only:
        _refuse_read_only(actor, vaccination, action)
        raise InvalidInput(message)
    return vaccination


def vaccination_update(
    *,
    actor: Actor,
    vaccination_id: uuid.UUID,
    vaccine_code: str,
    vaccination_date: date | None,
    kind: str,
    lot: str = "",
    vaccinator_name: str = "",
    vaccinator_id: uuid.UUID | None = None,
    comment: str = "",
) -> Vaccination:
    """The citizen side edits a vaccination it recorded.

    Precondition: the actor manages the dossier; the entry was recorded by the citizen side and
    never confirmed by a professional (else InvalidInput with the service's message, and a
    refused trace). Side effects: the fields change, MODIF_VACCINATION trace.
    """
    vaccination = _citizen_entry(
        actor, vaccination_id, TraceAction.UPDATE_VACCINATION, READ_ONLY_EDIT
    )
    return _update(
        actor=actor,
        vaccination_id=vaccination.pk,
        data=clean_input(
            patient=vaccination.patient,
            vaccine_code=vaccine_code,
            vaccination_date=vaccination_date,
            kind=kind,
            lot=lot,
            vaccinator_name=vaccinator_name,
            vaccinator_id=vaccinator_id,
            comment=comment,
        ),
    )


@traced_action
def _update(*, actor: Actor, vaccination_id: uuid.UUID, data: VaccinationInput) -> Vaccination:
    vaccination = Vaccination.objects.select_for_update().filter(pk=vaccination_id).first()
    if vaccination is None or vaccination.read_only:
        raise NotFound()
    for name, value in _fields(data).items():
        setattr(vaccination, name, value)
    vaccination.updated_at = timezone.now()
    vaccination.save()
    trace.record(
        actor=actor,
        action=TraceAction.UPDATE_VACCINATION,
        patient_id=vaccination.patient_id,
        document_title=vaccination.vaccine_label,
    )
    return vaccination


def vaccination_delete(*, actor: Actor, vaccination_id: uuid.UUID) -> None:
    """The citizen side deletes a vaccination it recorded, for good (the trace keeps the fact).

    Precondition: as for vaccination_update; a professional's entry raises InvalidInput
    « Vous ne pouvez pas supprimer cette vaccination… » and a refused trace.
    """
    vaccination = _citizen_entry(
        actor, vaccination_id, TraceAction.DELETE_VACCINATION, READ_ONLY_DELETE
    )
    _delete(actor=actor, vaccination_id=vaccination.pk)


@traced_action
def _delete(*, actor: Actor, vaccination_id: uuid.UUID) -> None:
    vaccination = Vaccination.objects.select_for_update().filter(pk=vaccination_id).first()
    if vaccination is None or vaccination.read_only:
        raise NotFound()
    trace.record(
        actor=actor,
        action=TraceAction.DELETE_VACCINATION,
        patient_id=vaccination.patient_id,
        document_title=vaccination.vaccine_label,
    )
    vaccination.delete()


# --- professionals --------------------------------------------------------------------------


def _professional(actor: Actor, patient_id: uuid.UUID | None, action: TraceAction) -> None:
    if actor.kind is not ActorKind.PROFESSIONAL or actor.professional_id is None:
        # Checked before any lookup: only a professional writes in the carnet this way.
        raise Refused.because(actor, action, patient_id, "réservé aux professionnels de santé")


@traced_action
def vaccination_record_by_professional(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    vaccine_code: str,
    vaccination_date: date | None,
    kind: str = Vaccination.Kind.UNKNOWN,
    lot: str = "",
    comment: str = "",
    dose_number: int | None = None,
    vaccinator_id: uuid.UUID | None = None,
) -> Vaccination:
    """A professional records a vaccination (the FHIR Immunization API, the Web PS portal).

    Precondition: a professional actor who may deposit in the dossier (not blocked by the
    patient; consent to read is not needed, as for documents). The vaccinator is the actor
    unless another professional is named. Side effects: one read-only Vaccination (source
    « professionnel »), an AJOUT_VACCINATION trace, a notification to the patient.
    """
    _professional(actor, patient_id, TraceAction.ADD_VACCINATION)
    patient, st = access_vaccinations(
        actor,
        patient_id,
        action=Action.DEPOSIT,
        trace_action=None,
        refused_as=TraceAction.ADD_VACCINATION,
    )
    data = clean_input(
        patient=patient,
        vaccine_code=vaccine_code,
        vaccination_date=vaccination_date,
        kind=kind,
        lot=lot,
        vaccinator_id=vaccinator_id or actor.professional_id,
        comment=comment,
        dose_number=dose_number,
    )
    now = timezone.now()
    vaccination = Vaccination.objects.create(
        patient=patient,
        source=Vaccination.Source.PROFESSIONAL,
        author_label=actor.display_name,
        author_professional_id=actor.professional_id,
        created_at=now,
        updated_at=now,
        **_fields(data),
    )
    trace.record(
        actor=actor,
        action=TraceAction.ADD_VACCINATION,
        patient_id=patient.pk,
        document_title=vaccination.vaccine_label,
        matrix_version=st.matrix_version,
    )
    _notify_update(patient, actor)
    return vaccination


@traced_action
def vaccination_confirm(*, actor: Actor, vaccination_id: uuid.UUID) -> Vaccination:
    """A professional confirms a vaccination the citizen side recorded.

    Precondition: a professional who may read the carnet (they confirm what they see); the
    entry is not already a professional's. Side effects: the entry becomes read-only for the
    citizen side (« ajoutée ou confirmée par … »), CONFIRMATION_VACCINATION trace, a
    notification to the patient.
    """
    _professional(actor, None, TraceAction.CONFIRM_VACCINATION)
    vaccination = access_vaccination(
        actor, vaccination_id, action=Action.READ, trace_action=TraceAction.CONFIRM_VACCINATION
    )
    locked = Vaccination.objects.select_for_update().get(pk=vaccination.pk)
    if locked.read_only:
        raise InvalidInput(
            "Cette vaccination a déjà été ajoutée ou confirmée par un professionnel."
        )
    locked.confirmed_by_id = actor.professional_id
    locked.confirmed_by_label = actor.display_name
    locked.confirmed_at = timezone.now()
    locked.updated_at = locked.confirmed_at
    locked.save(update_fields=["confirmed_by", "confirmed_by_label", "confirmed_at", "updated_at"])
    _notify_update(locked.patient, actor)
    return locked


# --- the synthesis ---------------------------------------------------------------------------


def vaccination_synthesis(
    *, actor: Actor, patient_id: uuid.UUID, today: date | None = None
) -> tuple[Citizen, bytes]:
    """« Télécharger la synthèse de mes vaccinations »: the carnet and what is due, as a PDF.

    Precondition: the actor may read the carnet. Side effect: a
    TELECHARGEMENT_SYNTHESE_VACCINATIONS trace (the data leaves the service).
    """
    carnet = carnet_of(
        actor=actor,
        patient_id=patient_id,
        today=today,
        trace_action=TraceAction.DOWNLOAD_VACCINATIONS,
    )
    return carnet.patient, pdf.render(carnet, own=actor.citizen_id == carnet.patient.pk)
