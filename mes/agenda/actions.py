"""Every change to an agenda santé. Each action checks its policy and writes its trace.

The citizen side (holder, legal representative) adds, edits and cancels its own appointments
(portal.md §8), says what became of a prevention item, opposes personalised prevention
(décret n° 2024-468) and opens or revokes iCalendar subscriptions. Appointments written by a
professional arrive through FHIR (`appointment_write`) and are read-only for the citizen side.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen, Professional
from mes.lib.errors import InvalidInput
from mes.prevention.schedule import ItemStatus

from .models import (
    ADDRESS_MAX,
    ITEM_KEY_MAX,
    NAME_MAX,
    NOTE_MAX,
    PREGNANCY_TERM,
    PROFESSION_MAX,
    TITLE_MAX,
    AgendaSettings,
    Appointment,
    CalendarFeed,
    PreventionRecord,
    UserReminder,
)
from .policies import access_agenda, access_appointment, access_user_reminder

# portal.md §1.7: characters refused in names.
FORBIDDEN_NAME_CHARS = set("@<>?:/€*#|%~+£$!§¤")
READ_ONLY = (
    "Ce rendez-vous a été ajouté par un professionnel de santé ou une application : il se "
    "modifie là où il a été pris."
)


@dataclass(frozen=True)
class AppointmentInput:
    """What an appointment says, checked by `clean_appointment` before anything is written."""

    kind: str
    title: str
    professional: Professional | None
    professional_name: str
    profession: str
    address: str
    starts_at: datetime
    note: str
    reminder: str
    prevention_key: str


def _text(value: str | None, limit: int, label: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise InvalidInput(f"« {label} » ne doit pas dépasser {limit} caractères.", field=field)
    return value


def clean_appointment(
    *,
    starts_at: datetime | None,
    kind: str = Appointment.Kind.PRACTITIONER,
    title: str = "",
    professional_id: uuid.UUID | None = None,
    professional_name: str = "",
    profession: str = "",
    address: str = "",
    note: str = "",
    reminder: str = Appointment.Reminder.DAY,
    prevention_key: str = "",
) -> AppointmentInput:
    """The checks of portal.md §8, in French; InvalidInput names the field at fault."""
    if starts_at is None:
        raise InvalidInput("La date et l'heure du rendez-vous sont obligatoires.", field="date")
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)  # the current zone: Europe/Paris
    if kind not in Appointment.Kind.values:
        raise InvalidInput("Choisissez le type de rendez-vous.", field="kind")
    if reminder not in Appointment.Reminder.values:
        raise InvalidInput("Choisissez un rappel dans la liste.", field="reminder")
    name = _text(professional_name, NAME_MAX, "Professionnel ou établissement", "professional")
    refused = sorted(set(name) & FORBIDDEN_NAME_CHARS)
    if refused:
        raise InvalidInput(
            f"Caractères refusés dans le nom : {' '.join(refused)}", field="professional"
        )
    professional = None
    if professional_id is not None:
        professional = Professional.objects.filter(pk=professional_id).first()
        if professional is None:
            raise InvalidInput("Ce professionnel de santé est introuvable.", "professional")
    if not (professional or name):
        raise InvalidInput(
            "Indiquez le professionnel de santé ou l'établissement.", field="professional"
        )
    key = (prevention_key or "").strip()
    if len(key) > ITEM_KEY_MAX:
        raise InvalidInput("Examen de prévention inconnu.", field="prevention_key")
    return AppointmentInput(
        kind=kind,
        title=_text(title, TITLE_MAX, "Titre du rendez-vous", "title"),
        professional=professional,
        professional_name="" if professional else name,
        profession=_text(profession, PROFESSION_MAX, "Profession", "profession"),
        address=_text(address, ADDRESS_MAX, "Adresse", "address"),
        starts_at=starts_at,
        note=_text(note, NOTE_MAX, "Note personnelle", "note"),
        reminder=reminder,
        prevention_key=key,
    )


def _fields(data: AppointmentInput) -> dict[str, object]:
    return {
        "kind": data.kind,
        "title": data.title,
        "professional": data.professional,
        "professional_name": data.professional_name,
        "profession": data.profession,
        "address": data.address,
        "starts_at": data.starts_at,
        "note": data.note,
        "reminder": data.reminder,
        "prevention_key": data.prevention_key,
    }


def _open_agenda(actor: Actor, patient_id: uuid.UUID, trace_action: TraceAction) -> Citizen:
    """The profile whose agenda the citizen side manages; the calling action writes its own
    trace_action when it succeeds, a refusal is traced under it here (NotFound)."""
    return access_agenda(
        actor, patient_id, action=Action.MANAGE, trace_action=None, refused_as=trace_action
    )


@traced_action
def appointment_add(*, actor: Actor, patient_id: uuid.UUID, data: AppointmentInput) -> Appointment:
    """The citizen side adds an appointment for the profile (themself or a represented person).

    Precondition: `data` passed clean_appointment. Side effect: an AJOUT_RDV trace.
    """
    patient = _open_agenda(actor, patient_id, TraceAction.ADD_APPOINTMENT)
    appointment = Appointment.objects.create(
        patient=patient,
        author=Appointment.Author.PATIENT,
        author_name=actor.display_name,
        **_fields(data),
    )
    trace.record(
        actor=actor,
        action=TraceAction.ADD_APPOINTMENT,
        patient_id=patient.pk,
        document_title=appointment.display_title[:255],
    )
    return appointment


def _own_appointment(actor: Actor, appointment_id: uuid.UUID, as_: TraceAction) -> Appointment:
    appointment = access_appointment(
        actor,
        appointment_id,
        action=Action.MANAGE,
        trace_action=None,
        refused_as=as_,
        for_update=True,
    )
    if appointment.read_only:
        raise InvalidInput(READ_ONLY)
    return appointment


@traced_action
def appointment_edit(
    *, actor: Actor, appointment_id: uuid.UUID, data: AppointmentInput
) -> Appointment:
    """The citizen side changes one of its appointments (not one written by a professional or
    an app: InvalidInput). Side effect: a MODIF_RDV trace; a moved appointment is reminded
    again (the reminder's key carries the start)."""
    appointment = _own_appointment(actor, appointment_id, TraceAction.UPDATE_APPOINTMENT)
    for name, value in _fields(data).items():
        setattr(appointment, name, value)
    appointment.save()
    trace.record(
        actor=actor,
        action=TraceAction.UPDATE_APPOINTMENT,
        patient_id=appointment.patient_id,
        document_title=appointment.display_title[:255],
    )
    return appointment


@traced_action
def appointment_cancel(*, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
    """The citizen side cancels one of its appointments: kept, « Annulé », never reminded."""
    appointment = _own_appointment(actor, appointment_id, TraceAction.CANCEL_APPOINTMENT)
    appointment.status = Appointment.Status.CANCELLED
    appointment.save(update_fields=["status", "updated_at"])
    trace.record(
        actor=actor,
        action=TraceAction.CANCEL_APPOINTMENT,
        patient_id=appointment.patient_id,
        document_title=appointment.display_title[:255],
    )
    return appointment


@traced_action
def appointment_write(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    data: AppointmentInput,
    status: str,
    appointment_id: uuid.UUID | None = None,
    hidden_from_representatives: bool = False,
) -> Appointment:
    """A professional or a paired app (through FHIR `Appointment`) creates or updates an
    appointment; `hidden_from_representatives`: a minor's secret care (a professional's only),
    which the legal representatives never see (R1111-50).

    Precondition: the professional may read the dossier (policies). An update changes only an
    appointment written by the same professional's software or by them; the status is one of
    FHIR's (booked, fulfilled, cancelled, noshow, entered-in-error). Side effects: AJOUT_RDV or
    MODIF_RDV trace. Raises NotFound (traced) or InvalidInput.
    """
    if status not in Appointment.Status.values:
        raise InvalidInput("Statut de rendez-vous inconnu.", field="status")
    as_ = TraceAction.UPDATE_APPOINTMENT if appointment_id else TraceAction.ADD_APPOINTMENT
    patient = access_agenda(
        actor, patient_id, action=Action.DEPOSIT, trace_action=None, refused_as=as_
    )
    from_app = actor.kind is ActorKind.APP  # a paired app (issue 11): « ajouté par <app> »
    if appointment_id is None:
        appointment = Appointment(
            patient=patient,
            author=Appointment.Author.APP if from_app else Appointment.Author.PROFESSIONAL,
            author_name=actor.display_name,
            author_professional_id=actor.professional_id,
            source_software="" if from_app else actor.software,
        )
    else:
        appointment = access_appointment(
            actor,
            appointment_id,
            action=Action.DEPOSIT,
            trace_action=None,
            refused_as=as_,
            for_update=True,
        )
        same_author = (
            appointment.author == Appointment.Author.APP
            and appointment.author_name == actor.display_name
            if from_app
            else appointment.author_professional_id == actor.professional_id
        )
        if appointment.patient_id != patient.pk or not same_author:
            raise Refused.because(
                actor, as_, appointment.patient_id, "rendez-vous écrit par un autre auteur"
            )
    for name, value in _fields(data).items():
        setattr(appointment, name, value)
    appointment.status = status
    # Only a professional decides a minor's secret care (an app writes for the citizen).
    appointment.hidden_from_representatives = hidden_from_representatives and not from_app
    appointment.save()
    trace.record(
        actor=actor,
        action=as_,
        patient_id=patient.pk,
        document_title=appointment.display_title[:255],
    )
    return appointment


@traced_action
def prevention_record_set(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    key: str,
    label: str,
    status: ItemStatus | None,
    done_on: date | None = None,
) -> PreventionRecord | None:
    """Say what became of a prevention item (fait with an optional date, ignoré, non concerné),
    or nothing any more (status None: back to the calendar's own status).

    `key` and `label` come from the calendar computed for this patient (the caller checked the
    item exists). Side effect: a MODIF_EXAMEN_PREVENTION trace with the item's label.
    """
    patient = _open_agenda(actor, patient_id, TraceAction.UPDATE_PREVENTION)
    if actor.kind is not ActorKind.CITIZEN:  # pragma: no cover - the policy already refused
        raise InvalidInput("Réservé à l'usager.")
    if done_on is not None and (done_on > timezone.localdate() or done_on < patient.birth_date):
        raise InvalidInput(
            "La date de réalisation doit être passée et postérieure à la naissance.",
            field="done_on",
        )
    record: PreventionRecord | None = None
    if status is None:
        PreventionRecord.objects.filter(patient=patient, key=key).delete()
    else:
        if status not in (ItemStatus.DONE, ItemStatus.IGNORED, ItemStatus.NOT_CONCERNED):
            raise InvalidInput("Choisissez une réponse dans la liste.", field="status")
        record, _ = PreventionRecord.objects.update_or_create(
            patient=patient,
            key=key,
            defaults={
                "status": status.value,
                "done_on": done_on if status is ItemStatus.DONE else None,
                "recorded_by": actor.display_name,
            },
        )
    trace.record(
        actor=actor,
        action=TraceAction.UPDATE_PREVENTION,
        patient_id=patient.pk,
        document_title=label[:255],
    )
    return record


def personalised_prevention(patient: Citizen) -> bool:
    """Does this profile receive personalised prevention (no opposition)? Default: yes."""
    row = AgendaSettings.objects.filter(patient=patient).first()
    return row.personalised_prevention if row else True


@traced_action
def personalised_prevention_set(*, actor: Actor, patient_id: uuid.UUID, enabled: bool) -> None:
    """Oppose (or no longer oppose) personalised prevention (décret n° 2024-468, R.1111-27):
    at any time, without justification. Appointments and what was said are kept; the
    suggestions and their reminders stop. Side effect: a trace."""
    patient = _open_agenda(actor, patient_id, TraceAction.PREVENTION_SETTINGS)
    AgendaSettings.objects.update_or_create(
        patient=patient, defaults={"personalised_prevention": enabled}
    )
    trace.record(
        actor=actor,
        action=TraceAction.PREVENTION_SETTINGS,
        patient_id=patient.pk,
        document_title="Prévention personnalisée activée" if enabled else "Opposition",
    )


def situation_choices() -> dict[str, str]:
    """The situations a citizen may declare: the conditions the rules files name (the
    vaccinations' and the screenings'), but a pregnancy, declared by its expected date."""
    from mes.prevention.calendar import default_calendar
    from mes.prevention.schedule import default_rules

    both = {**default_calendar().conditions, **default_rules().conditions}
    return {code: label for code, label in both.items() if code != "grossesse"}


@dataclass(frozen=True)
class Situations:
    codes: tuple[str, ...]
    pregnancy_due_on: date | None


def situations_of(patient: Citizen) -> Situations:
    """What the citizen declared for the prevention rules (nothing by default)."""
    row = AgendaSettings.objects.filter(patient=patient).first()
    if row is None:
        return Situations((), None)
    return Situations(tuple(row.situations), row.pregnancy_due_on)


@traced_action
def situations_set(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    codes: list[str],
    pregnancy_due_on: date | None,
) -> Situations:
    """Declare the situations the prevention rules need (a chronic disease, an immunodepression…,
    a pregnancy in progress with its expected date of delivery): the calendar and its reminders
    follow them (the pregnancy's whooping-cough and RSV vaccinations, its dental check-up).
    Refused (InvalidInput, nothing stored) for an unknown code or an expected date outside the
    pregnancy. Side effect: a MODIF_PARAM_PREVENTION trace without the situations themselves."""
    patient = _open_agenda(actor, patient_id, TraceAction.PREVENTION_SETTINGS)
    known = situation_choices()
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise InvalidInput("Choisissez les situations dans la liste.", field="situations")
    if pregnancy_due_on is not None:
        today = timezone.localdate()
        if not today - timedelta(days=14) <= pregnancy_due_on <= today + PREGNANCY_TERM:
            raise InvalidInput(
                "La date prévue d'accouchement doit se situer dans les 40 semaines à venir.",
                field="pregnancy_due_on",
            )
    ordered = tuple(code for code in known if code in codes)
    AgendaSettings.objects.update_or_create(
        patient=patient,
        defaults={"situations": list(ordered), "pregnancy_due_on": pregnancy_due_on},
    )
    trace.record(
        actor=actor,
        action=TraceAction.PREVENTION_SETTINGS,
        patient_id=patient.pk,
        document_title="Situations pour la prévention",
    )
    return Situations(ordered, pregnancy_due_on)


def feed_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@traced_action
def calendar_feed_create(*, actor: Actor, patient_id: uuid.UUID) -> tuple[CalendarFeed, str]:
    """Open a private iCalendar subscription: returns the feed and its secret, shown once (only
    its SHA-256 is kept). Any earlier feed of the same account for this profile is revoked."""
    patient = _open_agenda(actor, patient_id, TraceAction.CALENDAR_FEED)
    assert actor.citizen_id is not None  # the policy let only the citizen side in
    now = timezone.now()
    CalendarFeed.objects.filter(
        patient=patient, created_by_id=actor.citizen_id, revoked_at__isnull=True
    ).update(revoked_at=now)
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        patient=patient, created_by_id=actor.citizen_id, secret_hash=feed_secret_hash(secret)
    )
    trace.record(
        actor=actor,
        action=TraceAction.CALENDAR_FEED,
        patient_id=patient.pk,
        document_title="Création d'un lien d'abonnement",
    )
    return feed, secret


@traced_action
def calendar_feed_revoke(*, actor: Actor, patient_id: uuid.UUID) -> int:
    """Revoke every subscription of this profile (any account): the URLs stop at once."""
    patient = _open_agenda(actor, patient_id, TraceAction.CALENDAR_FEED)
    n = CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    trace.record(
        actor=actor,
        action=TraceAction.CALENDAR_FEED,
        patient_id=patient.pk,
        document_title="Révocation des liens d'abonnement",
    )
    return n


# --- « Rappel » (portal.md §8) -------------------------------------------------------------


@dataclass(frozen=True)
class UserReminderInput:
    """What a « Rappel » says, checked by `clean_user_reminder` before anything is written."""

    title: str
    at: datetime
    note: str


def clean_user_reminder(*, title: str, at: datetime | None, note: str = "") -> UserReminderInput:
    """The checks of portal.md §8, in French; InvalidInput names the field at fault."""
    title = _text(title, TITLE_MAX, "Titre du rappel", "title")
    if not title:
        raise InvalidInput("Le titre du rappel est obligatoire.", field="title")
    if at is None:
        raise InvalidInput("La date et l'heure du rappel sont obligatoires.", field="date")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)  # the current zone: Europe/Paris
    if at <= timezone.now():
        raise InvalidInput("La date et l'heure du rappel doivent être à venir.", field="date")
    return UserReminderInput(
        title=title, at=at, note=_text(note, NOTE_MAX, "Note personnelle", "note")
    )


def _check_room(patient: Citizen, at: datetime, *, besides: uuid.UUID | None = None) -> None:
    """At most MES_USER_REMINDERS_PER_DAY reminders on one date (Paris), the patient's row
    locked so that two requests at once cannot both take the last place."""
    Citizen.objects.select_for_update().filter(pk=patient.pk).first()
    day = timezone.localtime(at).date()
    near = UserReminder.objects.filter(
        patient=patient, at__gte=at - timedelta(days=1), at__lte=at + timedelta(days=1)
    )
    if besides is not None:
        near = near.exclude(pk=besides)
    same_day = [r for r in near if timezone.localtime(r.at).date() == day]
    limit = settings.MES_USER_REMINDERS_PER_DAY
    if len(same_day) >= limit:
        raise InvalidInput(
            f"Vous avez déjà {limit} rappels le {day:%d/%m/%Y} : c'est le maximum pour une même "
            "date. Choisissez une autre date ou supprimez un rappel de ce jour.",
            field="date",
        )


def _schedule(reminder: UserReminder) -> None:
    """The reminder's task at its time, once the row is committed (the hourly sweep catches
    it too if the task is lost: its key on the notification keeps it to one)."""
    from .tasks import send_user_reminder

    reminder_id, at = str(reminder.pk), reminder.at

    def enqueue() -> None:
        task = send_user_reminder
        # The tests' immediate backend cannot wait: there the task runs now and finds the
        # reminder not yet due.
        if task.get_backend().supports_defer:
            task = task.using(run_after=at)
        task.enqueue(reminder_id)

    transaction.on_commit(enqueue)


@traced_action
def user_reminder_add(
    *, actor: Actor, patient_id: uuid.UUID, data: UserReminderInput
) -> UserReminder:
    """The citizen side adds a « Rappel » for the profile (themself or a represented person).

    Precondition: `data` passed clean_user_reminder. Refused (InvalidInput) beyond 10 on the
    same date. Side effects: an AJOUT_RDV trace « Rappel : … », the notifying task at its time.
    """
    patient = _open_agenda(actor, patient_id, TraceAction.ADD_APPOINTMENT)
    _check_room(patient, data.at)
    reminder = UserReminder.objects.create(
        patient=patient,
        title=data.title,
        at=data.at,
        note=data.note,
        author_name=actor.display_name,
    )
    trace.record(
        actor=actor,
        action=TraceAction.ADD_APPOINTMENT,
        patient_id=patient.pk,
        document_title=f"Rappel : {reminder.title}"[:255],
    )
    _schedule(reminder)
    return reminder


@traced_action
def user_reminder_edit(
    *, actor: Actor, reminder_id: uuid.UUID, data: UserReminderInput
) -> UserReminder:
    """The citizen side changes a « Rappel » (a moved one is notified at its new time, once).
    Side effect: a MODIF_RDV trace « Rappel : … »."""
    reminder = access_user_reminder(
        actor,
        reminder_id,
        trace_action=None,
        refused_as=TraceAction.UPDATE_APPOINTMENT,
        for_update=True,
    )
    _check_room(reminder.patient, data.at, besides=reminder.pk)
    moved = reminder.at != data.at
    reminder.title, reminder.at, reminder.note = data.title, data.at, data.note
    reminder.save()
    trace.record(
        actor=actor,
        action=TraceAction.UPDATE_APPOINTMENT,
        patient_id=reminder.patient_id,
        document_title=f"Rappel : {reminder.title}"[:255],
    )
    if moved:
        _schedule(reminder)
    return reminder


@traced_action
def user_reminder_delete(*, actor: Actor, reminder_id: uuid.UUID) -> None:
    """The citizen side deletes a « Rappel »: never notified afterwards. Side effect: an
    ANNULATION_RDV trace « Rappel : … »."""
    reminder = access_user_reminder(
        actor,
        reminder_id,
        trace_action=None,
        refused_as=TraceAction.CANCEL_APPOINTMENT,
        for_update=True,
    )
    title, patient_id = reminder.title, reminder.patient_id
    reminder.delete()
    trace.record(
        actor=actor,
        action=TraceAction.CANCEL_APPOINTMENT,
        patient_id=patient_id,
        document_title=f"Rappel : {title}"[:255],
    )
