"""Agenda santé (portal.md §8, wave2.md §1.3): appointments, what was said about prevention
items, the opposition to personalised prevention, the iCalendar feeds and the reminders sent.

The prevention calendar itself is computed (mes.prevention.schedule), never stored: only what
the person said about an item (fait, ignoré, non concerné) is kept, keyed by the item's key.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.db import models

from mes.identity.models import Citizen, Professional

# portal.md §8: « Titre du rendez-vous » ≤ 100, « Note personnelle » ≤ 1000; names 50 (§1.7).
TITLE_MAX = 100
NOTE_MAX = 1000
NAME_MAX = 100
PROFESSION_MAX = 100
ADDRESS_MAX = 200
ITEM_KEY_MAX = 80
# From the first day of amenorrhoea to the expected date of delivery (40 weeks).
PREGNANCY_TERM = timedelta(days=280)


class Appointment(models.Model):
    """A rendez-vous of a person: written by them (or their representative) in the portal, or by
    a professional or an app through FHIR `Appointment` (then read-only in the portal)."""

    class Kind(models.TextChoices):  # AppointmentType (wave2.md §1.3)
        PRACTITIONER = "PRACTITIONER", "Professionnel de santé"
        HEALTHCARE_SERVICE = "HEALTHCARE_SERVICE", "Établissement de santé"

    class Status(models.TextChoices):  # FHIR Appointment.status, French labels (wave2 §0)
        BOOKED = "booked", "Confirmé"
        FULFILLED = "fulfilled", "Honoré"
        CANCELLED = "cancelled", "Annulé"
        NOSHOW = "noshow", "Non honoré"
        ENTERED_IN_ERROR = "entered-in-error", "Pris par erreur"

    class Author(models.TextChoices):  # AgendaAuthorTypeEnum
        PATIENT = "PATIENT", "Vous"
        PROFESSIONAL = "PROFESSIONAL", "Un professionnel de santé"
        APP = "EDITOR_SOLUTION", "Une application"

    class Reminder(models.TextChoices):
        NONE = "none", "Pas de rappel"
        HOUR = "1h", "1 heure avant"
        DAY = "1d", "La veille"
        TWO_DAYS = "2d", "2 jours avant"
        WEEK = "1w", "Une semaine avant"

    REMINDER_DELAYS = {
        Reminder.HOUR: timedelta(hours=1),
        Reminder.DAY: timedelta(days=1),
        Reminder.TWO_DAYS: timedelta(days=2),
        Reminder.WEEK: timedelta(weeks=1),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="appointments")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PRACTITIONER)
    title = models.CharField("titre du rendez-vous", max_length=TITLE_MAX, blank=True)
    professional = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    professional_name = models.CharField(
        "professionnel ou établissement", max_length=NAME_MAX, blank=True
    )
    profession = models.CharField("profession", max_length=PROFESSION_MAX, blank=True)
    address = models.CharField("adresse", max_length=ADDRESS_MAX, blank=True)
    starts_at = models.DateTimeField("date et heure")
    ends_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField("note personnelle", max_length=NOTE_MAX, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    reminder = models.CharField(max_length=4, choices=Reminder.choices, default=Reminder.DAY)
    # The prevention item this appointment plans (« planifié »), by its stable key.
    prevention_key = models.CharField(max_length=ITEM_KEY_MAX, blank=True)
    author = models.CharField(max_length=16, choices=Author.choices, default=Author.PATIENT)
    author_name = models.CharField(max_length=200, blank=True)
    author_professional = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who may change it: the practice software or app that wrote it (shown in the portal).
    source_software = models.CharField(max_length=200, blank=True)
    # A minor's secret care (R1111-50, the DMP's INVISIBLE_REPRESENTANTS_LEGAUX): set by the
    # professional who wrote it; the parents never see it, nor its reminder.
    hidden_from_representatives = models.BooleanField(
        "invisible aux représentants légaux", default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["patient", "starts_at"]),
            # The reminder sweep: booked appointments by start.
            models.Index(fields=["status", "starts_at"]),
        ]

    @property
    def read_only(self) -> bool:
        """Written by a professional or an app: changed only where it was written."""
        return self.author != self.Author.PATIENT

    @property
    def with_whom(self) -> str:
        if self.professional is not None:
            return self.professional.display_name
        return self.professional_name

    @property
    def display_title(self) -> str:
        return self.title or (
            f"Rendez-vous avec {self.with_whom}" if self.with_whom else "Rendez-vous"
        )

    @property
    def reminder_delay(self) -> timedelta | None:
        return self.REMINDER_DELAYS.get(self.Reminder(self.reminder))

    @property
    def active(self) -> bool:
        return self.status == self.Status.BOOKED


class UserReminder(models.Model):
    """A « Rappel » the citizen side writes in the agenda (portal.md §8: « Titre du rappel »
    ≤ 100, date, heure, « Note personnelle » ≤ 1000, at most 10 on the same date), for oneself
    or a represented person; the worker notifies it at its time (RAPPEL_AGENDA), once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="user_reminders")
    title = models.CharField("titre du rappel", max_length=TITLE_MAX)
    at = models.DateTimeField("date et heure")
    note = models.TextField("note personnelle", max_length=NOTE_MAX, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["patient", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return self.title


class PreventionRecord(models.Model):
    """What was said about one prevention item: fait (optional date), ignoré, non concerné."""

    class Status(models.TextChoices):
        DONE = "fait", "Réalisé"
        IGNORED = "ignoré", "Ignoré"
        NOT_CONCERNED = "non concerné", "Non concerné"

    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=ITEM_KEY_MAX)
    status = models.CharField(max_length=16, choices=Status.choices)
    done_on = models.DateField(null=True, blank=True)
    recorded_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "key"], name="one_record_per_item")
        ]


class AgendaSettings(models.Model):
    """Per profile: the opposition to personalised prevention (décret n° 2024-468, R.1111-27)."""

    patient = models.OneToOneField(
        Citizen, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    personalised_prevention = models.BooleanField(default=True)
    # What the citizen declared for the rules that need it (prevention.md: conditions of the
    # vaccination calendar, the organised screenings' exclusions; a pregnancy in progress):
    # condition codes of the rules files, and the expected date of delivery.
    situations = models.JSONField(default=list, blank=True)
    pregnancy_due_on = models.DateField("date prévue d'accouchement", null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    @property
    def pregnancy_start(self) -> date | None:
        """The first day of amenorrhoea: 40 weeks before the expected date (the convention of
        the pregnancy calendar, 280 days)."""
        if self.pregnancy_due_on is None:
            return None
        return self.pregnancy_due_on - PREGNANCY_TERM


class CalendarFeed(models.Model):
    """A private iCalendar subscription: the URL carries a secret; only its SHA-256 is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)


class Campaign(models.Model):
    """A prevention campaign (e.g. the flu vaccination for everyone aged 65 and over), sent by
    the worker in batches of people; `cursor` is the last person done, so a batch re-run after
    a crash resumes there and the notifications' keys stop any double send."""

    class Code(models.TextChoices):
        VACCINATION = "RAPPEL_RDV_PREV_VACC", "Vaccination"
        SCREENING = "RAPPEL_RDV_PREV_DEPIST", "Dépistage"
        EXAM = "RAPPEL_RDV_PREV", "Examen"

    title = models.CharField("titre", max_length=200)
    label = models.CharField("texte de la notification", max_length=300)
    code = models.CharField(max_length=32, choices=Code.choices, default=Code.VACCINATION)
    age_min = models.PositiveSmallIntegerField(null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(null=True, blank=True)  # exclusive
    sex = models.CharField(max_length=1, blank=True)
    reason = models.CharField("pourquoi ce message", max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    started_on = models.DateField()
    cursor = models.UUIDField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
