"""The holder's decisions about professionals and privacy. Each action is traced."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mes.audit import trace
from mes.audit.guard import Refused, RefusedForbidden, traced_action
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.identity.models import Citizen, Professional
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.actions import notify, their_dossier
from mes.notifications.models import Notification

from .actors import AccessMode, Actor, ActorKind
from .decision import Action, decide, emergency_refusal
from .models import BreakGlassSession, PrivacySettings, ProfessionalAccess, TreatingSource


def _managed_patient(actor: Actor, patient_id: uuid.UUID, trace_action: TraceAction) -> Citizen:
    """The patient whose settings the actor manages (holder or legal representative)."""
    patient = Citizen.objects.filter(pk=patient_id).first()
    if patient is None or not decide(actor, Action.MANAGE, patient).allowed:
        raise Refused.because(
            actor,
            trace_action,
            patient.pk if patient else None,
            "réservé au titulaire ou à ses représentants légaux",
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
    import_from_documents: bool | None = None,
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
        "import_from_documents": import_from_documents,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(settings, name, value)
    if onboarding_done and settings.onboarded_at is None:
        settings.onboarded_at = timezone.now()
    settings.save()
    if mask_new_documents is not None or import_from_documents is not None:
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


# --- The professional's side (TD0.2 / TD0.3, emergency modes) -------------------------------


def _professional_patient(
    actor: Actor, patient_id: uuid.UUID, trace_action: TraceAction
) -> tuple[Citizen, uuid.UUID]:
    """The patient of a professional-side action, and the professional's id; anyone else, or an
    unknown patient, gets NotFound (traced)."""
    patient = Citizen.objects.filter(pk=patient_id).first()
    professional_id = actor.professional_id
    if actor.kind is not ActorKind.PROFESSIONAL or professional_id is None or not patient:
        raise Refused.because(
            actor,
            trace_action,
            patient.pk if patient else None,
            "réservé à un professionnel de santé identifié",
        )
    return patient, professional_id


def _forbidden(actor: Actor, patient: Citizen, action: TraceAction, message: str) -> Exception:
    return RefusedForbidden.because(message, actor, action, patient.pk, message)


@traced_action
def authorisation_declare(
    *, actor: Actor, patient_id: uuid.UUID, treating_physician: bool = False
) -> ProfessionalAccess:
    """The professional declares that the patient consented to their access (TD0.3 « Add »,
    R1111-46 « par tout moyen »), and optionally that they are the patient's médecin traitant
    (the patient agreeing, as declared to the Assurance Maladie).

    Precondition: a professional in normal mode, not blocked by the patient (a blocked
    professional gets Forbidden: they already know their status from TD0.2). Only a médecin may
    be médecin traitant; declaring oneself replaces the previous one. Side effects: an
    AUTORISATION_PS trace (and DECLARATION_MEDECIN_TRAITANT), visible to the patient.
    """
    patient, professional_id = _professional_patient(actor, patient_id, TraceAction.GRANT_PRO)
    if actor.mode is not AccessMode.NORMAL:
        raise _forbidden(
            actor,
            patient,
            TraceAction.GRANT_PRO,
            "Un accès en urgence ne permet pas de déclarer le consentement du patient.",
        )
    row = _access_row(patient, professional_id)
    if row.status == ProfessionalAccess.Status.BLOCKED:
        raise _forbidden(
            actor,
            patient,
            TraceAction.GRANT_PRO,
            "Le patient a bloqué votre accès à son dossier : vous ne pouvez ni le consulter ni "
            "l'alimenter tant qu'il ne vous a pas débloqué.",
        )
    if treating_physician and actor.profession != "10":
        raise _forbidden(
            actor,
            patient,
            TraceAction.DECLARE_TREATING,
            "Seul un médecin peut être déclaré médecin traitant.",
        )
    now = timezone.now()
    row.status = ProfessionalAccess.Status.AUTHORISED
    row.source = ProfessionalAccess.Source.DECLARED_BY_PROFESSIONAL
    row.since = now
    row.expires_at = None
    newly_treating = treating_physician and not row.is_treating_physician
    if newly_treating:
        ProfessionalAccess.objects.filter(patient=patient, is_treating_physician=True).update(
            is_treating_physician=False, treating_source="", treating_since=None
        )
        row.is_treating_physician = True
        row.treating_source = TreatingSource.PROFESSIONAL
        row.treating_since = now
    row.save()
    trace.record(
        actor=actor,
        action=TraceAction.GRANT_PRO,
        patient_id=patient.pk,
        document_title=row.professional.display_name,
    )
    if treating_physician:
        trace.record(actor=actor, action=TraceAction.DECLARE_TREATING, patient_id=patient.pk)
    if newly_treating:
        _tell_of_treating_declaration(patient, row)
    return row


def _tell_of_treating_declaration(patient: Citizen, row: ProfessionalAccess) -> None:
    """The patient learns at once who declared himself médecin traitant, and when, with the
    way to contest it (issue 8 item 9)."""
    assert row.treating_since is not None
    when = timezone.localtime(row.treating_since)
    notify(
        profile=patient,
        code=Notification.Code.TREATING_PHYSICIAN,
        label=(
            f"{row.professional.display_name} a déclaré être votre médecin traitant le "
            f"{when:%d/%m/%Y à %H:%M}. Si ce n'est pas votre médecin traitant, vous pouvez "
            "contester cette déclaration."
        ),
        url=reverse("portal:access"),
        link_label="Vérifier ou contester",
    )


def treating_declaration(patient: Citizen) -> ProfessionalAccess | None:
    """The patient's médecin traitant row (who, since when, declared by whom), or None.

    For the holder's own pages, after the caller passed its access check."""
    return (
        ProfessionalAccess.objects.select_related("professional__organisation")
        .filter(patient=patient, is_treating_physician=True)
        .first()
    )


@traced_action
def treating_physician_contest(
    *, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID
) -> ProfessionalAccess:
    """The holder (or a legal representative) contests a médecin traitant that a professional
    declared himself (TD0.3): one step, traced (CONTESTATION_MEDECIN_TRAITANT).

    Precondition: the actor manages the patient; the professional is the médecin traitant by
    his own declaration (one that came from the Assurance Maladie is changed there). Side
    effects: he is no longer médecin traitant (he keeps the authorisation he declared, which
    the patient may also withdraw by blocking him). Raises Refused (traced), InvalidInput.
    """
    patient = _managed_patient(actor, patient_id, TraceAction.CONTEST_TREATING)
    row = (
        ProfessionalAccess.objects.select_for_update()
        .select_related("professional")
        .filter(patient=patient, professional_id=professional_id, is_treating_physician=True)
        .first()
    )
    if row is None:
        raise InvalidInput("Ce professionnel n'est pas votre médecin traitant.")
    if row.treating_source != TreatingSource.PROFESSIONAL:
        raise InvalidInput(
            "Ce médecin traitant a été déclaré à l'Assurance Maladie : pour en changer, "
            "déclarez un nouveau médecin traitant auprès de votre caisse."
        )
    row.is_treating_physician = False
    row.treating_source = ""
    row.treating_since = None
    row.save(update_fields=["is_treating_physician", "treating_source", "treating_since"])
    trace.record(
        actor=actor,
        action=TraceAction.CONTEST_TREATING,
        patient_id=patient.pk,
        document_title=row.professional.display_name,
    )
    return row


@traced_action
def authorisation_withdraw(*, actor: Actor, patient_id: uuid.UUID) -> ProfessionalAccess:
    """The professional removes their own authorisation (TD0.3 « Remove »); a médecin traitant
    stops being one on this dossier. InvalidInput when they held none."""
    patient, professional_id = _professional_patient(actor, patient_id, TraceAction.REVOKE_PRO)
    row = ProfessionalAccess.objects.filter(
        patient=patient, professional_id=professional_id
    ).first()
    if row is None or row.status != ProfessionalAccess.Status.AUTHORISED:
        raise InvalidInput("Vous n'avez pas d'autorisation d'accès à ce dossier.")
    row.status = ProfessionalAccess.Status.REVOKED
    row.is_treating_physician = False
    row.treating_source = ""
    row.treating_since = None
    row.is_administrator = False
    row.since = timezone.now()
    row.save()
    trace.record(
        actor=actor,
        action=TraceAction.REVOKE_PRO,
        patient_id=patient.pk,
        document_title=row.professional.display_name,
    )
    return row


@traced_action
def emergency_access_open(*, actor: Actor, patient_id: uuid.UUID) -> BreakGlassSession:
    """Open (or go on with) an emergency access: bris de glace (L1111-17 I: any professional,
    the patient unable to consent, a justification required) or Centre 15 (the médecin
    régulateur of a SAMU). Bounded by MES_BREAK_GLASS_DURATION; no lasting authorisation.

    Refused (not found, traced) when the patient opposed it or masked everything. Side effects
    on opening: an ACCES_BRIS_GLACE / ACCES_CENTRE_15 trace with the justification, a
    notification to the patient and an e-mail to the médecin traitant, a posteriori (R1111-48).
    """
    action = (
        TraceAction.CENTRE_15 if actor.mode is AccessMode.CENTRE_15 else TraceAction.BREAK_GLASS
    )
    patient, professional_id = _professional_patient(actor, patient_id, action)
    access = ProfessionalAccess.objects.filter(
        patient=patient, professional_id=professional_id
    ).first()
    reason = emergency_refusal(actor, patient)
    if access is not None and access.status == ProfessionalAccess.Status.BLOCKED:
        reason = "professionnel bloqué par l'usager"
    if reason:
        raise Refused.because(actor, action, patient.pk, reason)
    now = timezone.now()
    session = BreakGlassSession.objects.filter(
        patient=patient,
        professional_id=professional_id,
        mode=actor.mode.value,
        expires_at__gt=now,
    ).first()
    if session is not None:
        return session
    session = BreakGlassSession.objects.create(
        patient=patient,
        professional_id=professional_id,
        mode=actor.mode.value,
        justification=actor.justification.strip(),
        opened_at=now,
        expires_at=now + settings.MES_BREAK_GLASS_DURATION,
    )
    trace.record(actor=actor, action=action, patient_id=patient.pk)
    _tell_of_emergency_access(actor, patient, session)
    return session


def _tell_of_emergency_access(actor: Actor, patient: Citizen, session: BreakGlassSession) -> None:
    when = timezone.localtime(session.opened_at).strftime("%d/%m/%Y à %H:%M")
    how = "par le Centre 15 (SAMU)" if session.mode == AccessMode.CENTRE_15 else "en urgence"
    notify(
        profile=patient,
        code=Notification.Code.BREAK_GLASS,
        label=f"{actor.display_name} a accédé à {their_dossier(patient)} {how} le {when}.",
        url=reverse("portal:history"),
        link_label="Voir l'historique d'activité",
    )
    treating = (
        ProfessionalAccess.objects.filter(patient=patient, is_treating_physician=True)
        .select_related("professional")
        .first()
    )
    if treating is None or not treating.professional.email:
        return
    if treating.professional_id == actor.professional_id:
        return
    subject = f"Accès en urgence au dossier de {patient.display_name}"
    body = (
        f"Bonjour,\n\nEn tant que médecin traitant, vous êtes informé(e) que {actor.display_name}"
        f" ({actor.organisation_name or 'structure non renseignée'}) a accédé {how} au Dossier "
        f"Médical Partagé de {patient.display_name} le {when}.\nJustification : "
        f"{session.justification or '—'}\n\nCet accès est tracé dans l'historique du patient.\n"
    )
    address = treating.professional.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [address]))


# (patient, professional) pairs known to have an allowed read on record, per process: saves
# the first-access query on every later read (bounded; emptied when full).
_seen_first_access: set[tuple[object, str]] = set()
SEEN_FIRST_ACCESS_MAX = 100_000


def _remember_first_access(key: tuple[object, str]) -> None:
    if len(_seen_first_access) >= SEEN_FIRST_ACCESS_MAX:
        _seen_first_access.clear()
    _seen_first_access.add(key)


def notify_first_access(actor: Actor, patient: Citizen) -> None:
    """Warn the patient the first time a professional opens their dossier (mes-spec §5.8,
    [S:108]). Call before writing the access trace: "first" means no earlier allowed read."""
    if actor.kind is not ActorKind.PROFESSIONAL:
        return
    key = (patient.pk, actor.national_id)
    if key in _seen_first_access:
        return
    seen = Trace.objects.filter(
        patient_id=patient.pk,
        actor_id=actor.national_id,
        outcome=TraceOutcome.ALLOWED,
        action__in=FIRST_ACCESS_ACTIONS,
    ).exists()
    if seen:
        # The trace is append-only: once an allowed read is committed, it stays. Remembered
        # only when this transaction commits (the read it found may be this transaction's own).
        transaction.on_commit(lambda: _remember_first_access(key))
        return
    notify(
        profile=patient,
        code=Notification.Code.PRO_ACCESS,
        label=f"{actor.display_name} a consulté {their_dossier(patient)} pour la première fois.",
        url=reverse("portal:access"),
        link_label="Gérer les accès des professionnels",
    )


FIRST_ACCESS_ACTIONS = (
    TraceAction.CONSULT_DOSSIER,
    TraceAction.CONSULT_DOC,
    TraceAction.DOWNLOAD_DOC,
    TraceAction.VIEW_DOC,
)


@dataclass(frozen=True)
class ProfessionalStanding:
    """What a professional may know of a dossier before opening it (TD0.2)."""

    patient: Citizen
    dossier_status: str  # "exists" (closure is not modelled yet)
    authorisation: str  # "authorised" | "expired" | "blocked" | "none"
    is_treating_physician: bool
    web_access_open: bool
    emergency_until: datetime | None


def professional_standing(*, professional_id: uuid.UUID, patient: Citizen) -> ProfessionalStanding:
    """The professional's own status on a dossier (TD0.2); reveals nothing of its content."""
    now = timezone.now()
    row = ProfessionalAccess.objects.filter(
        patient=patient, professional_id=professional_id
    ).first()
    authorisation = "none"
    if row is not None:
        if row.status == ProfessionalAccess.Status.BLOCKED:
            authorisation = "blocked"
        elif row.status == ProfessionalAccess.Status.AUTHORISED:
            authorisation = (
                "expired" if row.expires_at is not None and row.expires_at <= now else "authorised"
            )
    session = (
        BreakGlassSession.objects.filter(
            patient=patient, professional_id=professional_id, expires_at__gt=now
        )
        .order_by("-expires_at")
        .first()
    )
    return ProfessionalStanding(
        patient=patient,
        dossier_status="exists",
        authorisation=authorisation,
        is_treating_physician=bool(row and row.is_treating_physician),
        web_access_open=patient.user_id is not None,
        emergency_until=session.expires_at if session else None,
    )
