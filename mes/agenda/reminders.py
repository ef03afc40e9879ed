"""The daily reminders (portal.md §7.1): appointment reminders at the chosen time, and
« bientôt dû » prevention reminders the day before an item's window opens.

Exactly once, by construction: each reminder is a `ReminderSent` row with a unique key, inserted
in the same transaction as its notification. A second worker (or a worker restarted after a
crash, at-least-once delivery of tasks) finds the key taken — the database lets one insert in,
blocking the other until the first commits — and notifies nothing. Work goes in batches of
people (settings.MES_REMINDER_BATCH), never one task per person.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from mes.identity.models import Citizen
from mes.notifications.channels import Event, notify_many, notify_through_channels
from mes.notifications.models import Notification
from mes.prevention.calendar import Span, default_calendar
from mes.prevention.schedule import (
    ItemStatus,
    PreventionItem,
    default_rules,
    prevention_calendar,
)
from mes.vaccinations.models import Vaccination

from .models import Appointment, PreventionRecord, ReminderSent
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


@dataclass(frozen=True)
class Slot:
    """People born on `birth_date` (of this sex, or any when empty) have `item_key` opening on
    the sweep's day."""

    birth_date: date
    sex: str
    item_key: str


@lru_cache(maxsize=16)
def opening_slots(day: date) -> tuple[Slot, ...]:
    """Every (birth date, sex, item) whose window opens on `day`, from the rules themselves:
    one run of the pure engine per distinct opening age and sex (a few hundred in all), so the
    sweep then selects the people with one indexed SQL statement. Memoised per day: the sweep
    runs hourly (the 1-hour appointment reminders) over the same days of the catch-up window,
    and the slots depend only on the day and the rules."""
    out: dict[tuple[date, str, str], Slot] = {}
    for age in _opening_ages():
        birth = age.before(day)
        if birth > day:
            continue
        per_sex: dict[str, set[str]] = {}
        for sex in ("F", "M"):
            items = prevention_calendar(
                birth_date=birth, sex=sex, today=day, since=day, horizon=day + timedelta(days=1)
            )
            per_sex[sex] = {
                i.key for i in items if i.window_start == day and i.status is ItemStatus.TO_DO
            }
        both = per_sex["F"] & per_sex["M"]
        for key in both:
            out[(birth, "", key)] = Slot(birth, "", key)
        for sex, keys in per_sex.items():
            for key in keys - both:
                out[(birth, sex, key)] = Slot(birth, sex, key)
    return tuple(out.values())


def prevention_candidates_insert(*, day: date) -> int:
    """Phase 1, set-based: one INSERT … SELECT writes a pending ReminderSent row per person and
    item opening on `day` (ON CONFLICT DO NOTHING: a second worker or a re-run adds nothing),
    leaving out the opposed and what was already said or planned. Returns the rows inserted."""
    slots = opening_slots(day)
    if not slots:
        return 0
    values = ", ".join(["(%s, %s, %s)"] * len(slots))
    params: list[str | datetime] = []
    for slot in slots:
        params += [slot.birth_date.isoformat(), slot.sex, slot.item_key]
    # The patient's id as 32 hex digits on both databases (uuid on PostgreSQL, char(32) on
    # SQLite), as Python's uuid.hex: the same key as prevention_reminder's.
    pid = "REPLACE(CAST(c.id AS TEXT), '-', '')"
    birth = "CAST(s.birth_date AS DATE)" if connection.vendor == "postgresql" else "s.birth_date"
    sql = f"""
        INSERT INTO agenda_remindersent (key, kind, patient_id, item_key, created_at, skipped)
        WITH s(birth_date, sex, item_key) AS (VALUES {values})
        SELECT 'prev:' || {pid} || ':' || s.item_key, 'prev', c.id, s.item_key, %s, FALSE
        FROM s JOIN identity_citizen c
          ON c.birth_date = {birth} AND (s.sex = '' OR c.sex = s.sex)
        WHERE NOT EXISTS (SELECT 1 FROM agenda_agendasettings a
                          WHERE a.patient_id = c.id AND NOT a.personalised_prevention)
          AND NOT EXISTS (SELECT 1 FROM agenda_preventionrecord r
                          WHERE r.patient_id = c.id AND r.key = s.item_key)
          AND NOT EXISTS (SELECT 1 FROM agenda_appointment ap
                          WHERE ap.patient_id = c.id AND ap.prevention_key = s.item_key
                            AND ap.status IN ('booked', 'fulfilled'))
        ON CONFLICT (key) DO NOTHING
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, timezone.now()])
        return max(cursor.rowcount, 0)


def prevention_pending_process(*, today: date, limit: int | None = None) -> tuple[int, int]:
    """Phase 2, in batches: pending rows, claimed with SKIP LOCKED, are checked against each
    person's exact calendar (a vaccination since recorded in the carnet…) and notified, or
    closed as skipped; a row's processed_at commits with its notification (a crash leaves the
    batch pending for the restart). Returns (notified, skipped)."""
    size = limit or settings.MES_REMINDER_BATCH
    notified = skipped = 0
    while True:
        with transaction.atomic():
            rows = list(
                ReminderSent.objects.select_for_update(skip_locked=True)
                .filter(kind=ReminderSent.Kind.PREVENTION, processed_at__isnull=True)
                .select_related("patient")
                .order_by("pk")[:size]
            )
            if not rows:
                return notified, skipped
            by_person: dict[uuid.UUID, list[ReminderSent]] = {}
            for row in rows:
                by_person.setdefault(row.patient_id, []).append(row)
            # Whose calendar depends on more than birth date and sex: they get their own run
            # of the engine; the others share one per (birth date, sex) — three queries per
            # batch instead of four per person.
            ids = list(by_person)
            personal = set(
                Vaccination.objects.filter(patient_id__in=ids).values_list("patient_id", flat=True)
            )
            personal |= set(
                PreventionRecord.objects.filter(patient_id__in=ids).values_list(
                    "patient_id", flat=True
                )
            )
            personal |= set(
                Appointment.objects.filter(patient_id__in=ids)
                .exclude(prevention_key="")
                .values_list("patient_id", flat=True)
            )
            events: list[Event] = []
            done: list[int] = []
            stale: list[int] = []
            for pid, person_rows in by_person.items():
                person = person_rows[0].patient
                if pid in personal:
                    items = {i.key: i for i in calendar_for(person, today, personalised=True)}
                else:
                    items = _shared_calendar(person.birth_date, person.sex, today)
                for row in person_rows:
                    item = items.get(row.item_key)
                    if item is None or item.status not in (ItemStatus.TO_DO, ItemStatus.UPCOMING):
                        stale.append(row.pk)
                        continue
                    events.append(_item_event(person, item, row.key))
                    done.append(row.pk)
            # Set-based: the notifications and their outbox rows in bulk, then the claimed rows
            # closed with two UPDATEs, all in the claim's transaction — a crash before commit
            # leaves the whole batch pending, and locked rows are never claimed twice.
            notify_many(events)
            at = timezone.now()
            ReminderSent.objects.filter(pk__in=done).update(processed_at=at)
            ReminderSent.objects.filter(pk__in=stale).update(processed_at=at, skipped=True)
            notified += len(done)
            skipped += len(stale)


@lru_cache(maxsize=4096)
def _shared_calendar(birth_date: date, sex: str, today: date) -> dict[str, PreventionItem]:
    """The calendar of anyone born that day, of that sex, with nothing recorded yet."""
    items = prevention_calendar(birth_date=birth_date, sex=sex, today=today)
    return {i.key: i for i in items}


def prevention_reminders(*, today: date) -> tuple[int, int]:
    """« Bientôt dû »: the items opening tomorrow (the day before, portal.md §7.1), and those
    opened in the last days in case a sweep was missed. Returns (candidates, notified)."""
    candidates = 0
    first = today + settings.MES_PREVENTION_REMIND_BEFORE
    for back in range(settings.MES_PREVENTION_REMIND_OPENED_WITHIN.days + 1):
        candidates += prevention_candidates_insert(day=first - timedelta(days=back))
    notified, _ = prevention_pending_process(today=today)
    return candidates, notified


def prevention_reminder(person: Citizen, item: PreventionItem) -> bool:
    """Remind one prevention item of one person, once (False: already reminded)."""
    key = f"prev:{person.pk.hex}:{item.key}"
    with transaction.atomic():
        if not _claim(key, kind=ReminderSent.Kind.PREVENTION, patient=person, item_key=item.key):
            return False
        _notify_item(person, item, key)
    return True


def _item_event(person: Citizen, item: PreventionItem, key: str) -> Event:
    return Event(
        profile=person,
        code=_code(item),
        label=f"{item.type_label} à planifier prochainement : {item.label}",
        url=_item_url(item.key),
        link_label="Voir la vaccination" if item.is_vaccination else "Voir l'examen médical",
        key=key,
    )


@lru_cache(maxsize=1024)
def _item_url(item_key: str) -> str:
    return reverse("portal:agenda_item", kwargs={"key": item_key})


def _notify_item(person: Citizen, item: PreventionItem, key: str) -> None:
    event = _item_event(person, item, key)
    notify_through_channels(
        profile=person,
        code=event.code,
        label=event.label,
        url=event.url,
        link_label=event.link_label,
        key=key,
    )


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """The daily sweep (run it hourly for the 1-hour reminders): both kinds of reminder."""
    now = now or timezone.now()
    result = SweepResult(appointments=appointment_reminders(now=now))
    result.people, result.prevention = prevention_reminders(today=timezone.localdate(now))
    return result
