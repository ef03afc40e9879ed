"""The daily reminders (portal.md §7.1): appointment reminders at the chosen time, and
« bientôt dû » prevention reminders the day before an item's window opens.

Exactly once, by construction: each reminder is a `ReminderSent` row with a unique key, inserted
in the same transaction as its notification. A second worker (or a worker restarted after a
crash, at-least-once delivery of tasks) finds the key taken — the database lets one insert in,
blocking the other until the first commits — and notifies nothing. Work goes in batches of
people (settings.MES_REMINDER_BATCH), never one task per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mes.identity.models import Citizen
from mes.notifications.channels import notify_through_channels
from mes.notifications.models import Notification
from mes.prevention.calendar import Span, default_calendar
from mes.prevention.schedule import ItemStatus, PreventionItem, default_rules

from .models import AgendaSettings, Appointment, ReminderSent
from .selectors import calendar_for

SWEEP_ACTOR_NAME = "rappels-agenda"
LONGEST_REMINDER = max(Appointment.REMINDER_DELAYS.values())


@dataclass
class SweepResult:
    appointments: int = 0
    prevention: int = 0
    people: int = 0


def _claim(key: str, **fields: object) -> bool:
    """Insert the reminder's unique row; False when another run already has it."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(key=key, processed_at=timezone.now(), **fields)
    except IntegrityError:
        return False
    return True


def appointment_reminders(*, now: datetime) -> int:
    """Remind every booked appointment whose reminder time has come (not past its start)."""
    sent = 0
    qs = (
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + LONGEST_REMINDER,
        )
        .exclude(reminder=Appointment.Reminder.NONE)
        .select_related("patient")
        .order_by("pk")
    )
    for a in qs.iterator(chunk_size=settings.MES_REMINDER_BATCH):
        delay = a.reminder_delay
        if delay is None or a.starts_at - delay > now:
            continue
        # The start is in the key: a moved appointment is reminded again, once.
        key = f"rdv:{a.pk}:{a.starts_at.isoformat()}"
        with transaction.atomic():
            if not _claim(
                key, kind=ReminderSent.Kind.APPOINTMENT, patient=a.patient, appointment=a
            ):
                continue
            when = timezone.localtime(a.starts_at)
            notify_through_channels(
                profile=a.patient,
                code=Notification.Code.APPOINTMENT_REMINDER,
                label=f"Rappel : rendez-vous le {when:%d/%m/%Y à %H:%M}",
                url=reverse("portal:appointment", args=[a.pk]),
                link_label="Voir le rendez-vous",
                key=key,
            )
        sent += 1
    return sent


def _opening_ages() -> list[Span]:
    """Every age at which some prevention window opens (the candidates' birth dates follow)."""
    ages: set[Span] = set()
    for rule in default_rules().rules:
        if rule.start is not None and rule.schedule == "window":
            ages.add(rule.start)
        ages.update(rule.ages)
        if rule.schedule in ("once_in_window", "every") and rule.age_min is not None:
            ages.add(rule.age_min)
            if rule.every is not None and rule.every.months:
                top = rule.age_max or Span(months=12 * 100)
                step = rule.age_min + rule.every
                while step < top:
                    ages.add(step)
                    step = step + rule.every
    for vrule in default_calendar().rules:
        for dose in vrule.doses:
            if dose.start is not None:
                ages.add(dose.start)
    return sorted(ages)


def _code(item: PreventionItem) -> Notification.Code:
    if item.is_vaccination:
        return Notification.Code.VACCINATION_DUE
    if item.is_screening:
        return Notification.Code.SCREENING_DUE
    return Notification.Code.PREVENTION_DUE


def prevention_candidates(today: date) -> list[tuple[date, date]]:
    """Birth-date ranges of the people for whom some window opens between
    today - MES_PREVENTION_REMIND_OPENED_WITHIN and today + MES_PREVENTION_REMIND_BEFORE."""
    low = today - settings.MES_PREVENTION_REMIND_OPENED_WITHIN
    high = today + settings.MES_PREVENTION_REMIND_BEFORE
    return [(age.before(low), age.before(high)) for age in _opening_ages()]


def prevention_reminders(*, today: date) -> tuple[int, int]:
    """« Bientôt dû »: for the candidates (by birth date, an index range), the exact calendar
    decides; an item still à faire or à venir whose window opens within the period is reminded
    once. People opposed to personalised prevention get none. Returns (people, reminders)."""
    from django.db.models import Q

    cond = Q()
    for start, end in prevention_candidates(today):
        cond |= Q(birth_date__gte=start, birth_date__lte=end)
    opposed = AgendaSettings.objects.filter(personalised_prevention=False).values("patient_id")
    people = Citizen.objects.filter(cond).exclude(pk__in=opposed).order_by("pk")
    low = today - settings.MES_PREVENTION_REMIND_OPENED_WITHIN
    high = today + settings.MES_PREVENTION_REMIND_BEFORE
    seen = sent = 0
    for person in people.iterator(chunk_size=settings.MES_REMINDER_BATCH):
        seen += 1
        for item in calendar_for(person, today, personalised=True):
            if item.status not in (ItemStatus.TO_DO, ItemStatus.UPCOMING):
                continue
            if not (low <= item.window_start <= high):
                continue
            if prevention_reminder(person, item):
                sent += 1
    return seen, sent


def prevention_reminder(person: Citizen, item: PreventionItem) -> bool:
    """Remind one prevention item of one person, once (False: already reminded)."""
    key = f"prev:{person.pk}:{item.key}"
    with transaction.atomic():
        if not _claim(key, kind=ReminderSent.Kind.PREVENTION, patient=person, item_key=item.key):
            return False
        notify_through_channels(
            profile=person,
            code=_code(item),
            label=f"{item.type_label} à planifier prochainement : {item.label}",
            url=reverse("portal:agenda_item", kwargs={"key": item.key}),
            link_label="Voir la vaccination" if item.is_vaccination else "Voir l'examen médical",
            key=key,
        )
    return True


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """The daily sweep (run it hourly for the 1-hour reminders): both kinds of reminder."""
    now = now or timezone.now()
    result = SweepResult(appointments=appointment_reminders(now=now))
    result.people, result.prevention = prevention_reminders(today=timezone.localdate(now))
    return result
