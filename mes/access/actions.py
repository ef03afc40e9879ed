"""The holder's decisions about professionals and privacy. Each action is traced."""

from __future__ import annotations

import uuid

from django.utils import timezone

from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction, TraceOutcome
from mes.identity.models import Citizen, Professional
from mes.lib.errors import InvalidInput, NotFound

from .actors import Actor
from .decision import Action, decide
from .models import PrivacySettings, ProfessionalAccess


def _managed_patient(actor: Actor, patient_id: uuid.UUID, trace_action: TraceAction) -> Citizen:
    """The patient whose settings the actor manages (holder or legal representative)."""
    patient = Citizen.objects.filter(pk=patient_id).first()
    if patient is None or not decide(actor, Action.MANAGE, patient).allowed:
        raise Refused(
            {
                "actor": actor,
                "action": trace_action,
                "outcome": TraceOutcome.REFUSED,
                "patient_id": patient.pk if patient else None,
                "reason": "réservé au titulaire ou à ses représentants légaux",
            }
        )
    return patient


def privacy_settings_of(patient: Citizen) -> PrivacySettings:
    settings, _ = PrivacySettings.objects.get_or_create(patient=patient)
    return settings


@traced_action
def privacy_update(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    mask_new_documents: bool | None = None,
    oppose_break_glass: bool | None = None,
    oppose_centre_15: bool | None = None,
    emergency_reveals_masked: bool | None = None,
    mask_everything: bool | None = None,
    onboarding_done: bool = False,
) -> PrivacySettings:
    """Change the patient's privacy choices; fields left None keep their value.

    One trace per family of settings changed (confidentiality, emergency access).
    """
    emergency_changed = any(
        v is not None
        for v in (oppose_break_glass, oppose_centre_15, emergency_reveals_masked, mask_everything)
    )
    first_action = (
        TraceAction.EMERGENCY_SETTINGS if emergency_changed else TraceAction.PRIVACY_SETTINGS
    )
    patient = _managed_patient(actor, patient_id, first_action)
    settings = privacy_settings_of(patient)
    changes = {
        "mask_new_documents": mask_new_documents,
        "oppose_break_glass": oppose_break_glass,
        "oppose_centre_15": oppose_centre_15,
        "emergency_reveals_masked": emergency_reveals_masked,
        "mask_everything": mask_everything,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(settings, name, value)
    if onboarding_done and settings.onboarded_at is None:
        settings.onboarded_at = timezone.now()
    settings.save()
    if mask_new_documents is not None:
        trace.record(actor=actor, action=TraceAction.PRIVACY_SETTINGS, patient_id=patient.pk)
    if emergency_changed:
        trace.record(actor=actor, action=TraceAction.EMERGENCY_SETTINGS, patient_id=patient.pk)
    return settings


def _access_row(patient: Citizen, professional_id: uuid.UUID) -> ProfessionalAccess:
    professional = Professional.objects.filter(pk=professional_id).first()
    if professional is None:
        raise NotFound()
    row, _ = ProfessionalAccess.objects.select_for_update().get_or_create(
        patient=patient,
        professional=professional,
        defaults={"status": ProfessionalAccess.Status.REVOKED},
    )
    return row


@traced_action
def professional_block(
    *, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID
) -> ProfessionalAccess:
    """Block a professional: no read, no write on this dossier until unblocked.

    The declared médecin traitant cannot be blocked ([GAP] decided: the patient changes their
    médecin traitant with the Assurance Maladie first, mes-spec §5.2).
    """
    patient = _managed_patient(actor, patient_id, TraceAction.BLOCK_PRO)
    row = _access_row(patient, professional_id)
    if row.is_treating_physician:
        raise InvalidInput(
            "Votre médecin traitant ne peut pas être bloqué. Pour en changer, déclarez un "
            "nouveau médecin traitant auprès de l'Assurance Maladie."
        )
    row.status = ProfessionalAccess.Status.BLOCKED
    row.is_administrator = False
    row.since = timezone.now()
    row.save()
    trace.record(
        actor=actor,
        action=TraceAction.BLOCK_PRO,
        patient_id=patient.pk,
        document_title=row.professional.display_name,
    )
    return row


@traced_action
def professional_unblock(
    *, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID
) -> ProfessionalAccess:
    """Unblock: the professional is no longer authorised until consent is given again
    (portal.md §5.2.1: « vous devrez lui donner votre autorisation lors d'une consultation »)."""
    patient = _managed_patient(actor, patient_id, TraceAction.UNBLOCK_PRO)
    row = _access_row(patient, professional_id)
    if row.status != ProfessionalAccess.Status.BLOCKED:
        raise InvalidInput("Ce professionnel n'est pas bloqué.")
    row.status = ProfessionalAccess.Status.REVOKED
    row.since = timezone.now()
    row.save()
    trace.record(
        actor=actor,
        action=TraceAction.UNBLOCK_PRO,
        patient_id=patient.pk,
        document_title=row.professional.display_name,
    )
    return row


@traced_action
def professional_set_administrator(
    *, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID, administrator: bool
) -> ProfessionalAccess:
    """Designate (or withdraw) the « administrateur »: an authorised professional who also sees
    masked documents (portal.md §5.2.1). At most one at a time."""
    action = TraceAction.SET_ADMIN if administrator else TraceAction.UNSET_ADMIN
    patient = _managed_patient(actor, patient_id, action)
    row = _access_row(patient, professional_id)
    if administrator and row.status != ProfessionalAccess.Status.AUTHORISED:
        raise InvalidInput("Seul un professionnel autorisé peut devenir administrateur.")
    if administrator:
        ProfessionalAccess.objects.filter(patient=patient, is_administrator=True).update(
            is_administrator=False
        )
    row.is_administrator = administrator
    row.save(update_fields=["is_administrator"])
    trace.record(
        actor=actor,
        action=action,
        patient_id=patient.pk,
        document_title=row.professional.display_name,
    )
    return row
