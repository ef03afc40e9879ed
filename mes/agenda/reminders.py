"""The daily reminders (portal.md §7.1): appointment reminders at the chosen time, and
« bientôt dû » prevention reminders the day before an item's window opens.

Exactly once, by construction: each reminder is a `ReminderSent` row with a unique key, inserted
in the same transaction as its notification. A second worker (or a worker restarted after a
crash, at-least-once delivery of tasks) finds the key taken — the database lets one insert in,
blocking the other until the first commits — and notifies nothing. Work goes in batches of
people (settings.MES_REMINDER_BATCH), never one task per person.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen
from mes.notifications.channels import Event, notify_many, notify_through_channels
from mes.notifications.models import Notification
from mes.prevention.calendar import Calendar, Span, default_calendar
from mes.prevention.schedule import (
    MAX_REPEATS,
    ItemStatus,
    PreventionItem,
    PreventionRule,
    RuleSet,
    default_rules,
    prevention_calendar,
)
from mes.vaccinations.models import Vaccination

from .models import (
    AgendaSettings,
    Appointment,
    PreventionRecord,
    ReminderSent,
    UserReminder,
)
from .selectors import calendar_for

SWEEP_ACTOR_NAME = "rappels-agenda"
LONGEST_REMINDER = max(Appointment.REMINDER_DELAYS.values())


@dataclass
class SweepResult:
    appointments: int = 0
    prevention: int = 0
    people: int = 0
    user: int = 0


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


def _rule_opening_ages(rule: PreventionRule) -> set[Span]:
    """The ages at which a window of this rule opens (for anyone with nothing recorded)."""
    ages: set[Span] = set(rule.ages)
    if rule.start is not None and rule.schedule == "window":
        ages.add(rule.start)
    if rule.schedule in ("once_in_window", "every") and rule.age_min is not None:
        ages.add(rule.age_min)
        if rule.every is not None and rule.every.months:
            # As far as the engine unrolls a lifelong series (the adult dental check-up).
            top = rule.age_max or rule.age_min + Span(rule.every.months * MAX_REPEATS)
            step = rule.age_min + rule.every
            while step < top:
                ages.add(step)
                step = step + rule.every
    return ages


@lru_cache(maxsize=1)
def _rules_by_age() -> dict[Span, RuleSet]:
    """For each opening age, the rules that open a window at that age: the engine runs on
    those only (the rules of the examinations are independent of one another for someone with
    nothing recorded)."""
    rs = default_rules()
    by_age: dict[Span, list[PreventionRule]] = {}
    for rule in rs.rules:
        for age in _rule_opening_ages(rule):
            by_age.setdefault(age, []).append(rule)
    return {age: replace(rs, rules=tuple(rules)) for age, rules in by_age.items()}


def _rule_ages() -> set[Span]:
    """The ages at which a window of the examinations, screenings and bilans opens."""
    return set(_rules_by_age())


@lru_cache(maxsize=1)
def _vaccinations_by_age() -> dict[Span, Calendar]:
    """For each age at which a dose opens, the vaccination calendar cut to the groups of rules
    with such a dose (groups are evaluated independently; a group is kept whole, for its
    alternatives and sequences)."""
    cal = default_calendar()
    groups: dict[Span, set[str]] = {}
    for rule in cal.rules:
        for dose in rule.doses:
            if dose.start is not None:
                groups.setdefault(dose.start, set()).add(rule.group)
    return {
        age: replace(cal, rules=tuple(r for r in cal.rules if r.group in names))
        for age, names in groups.items()
    }


def _vaccination_ages() -> set[Span]:
    """The ages at which a dose of the vaccination calendar opens."""
    return set(_vaccinations_by_age())


@lru_cache(maxsize=1)
def _sex_specific_ages() -> frozenset[Span]:
    """The opening ages where some rule (or vaccination group) cut for that age is for one sex
    only: the engine runs for each sex there; elsewhere one run with no sex answers for both
    (the engine reads the sex only to leave out the other sex's rules)."""
    ages = {age for age, rs in _rules_by_age().items() if any(r.sex != "any" for r in rs.rules)}
    ages |= {
        age for age, cal in _vaccinations_by_age().items() if any(r.sex != "any" for r in cal.rules)
    }
    return frozenset(ages)


def _opening_ages() -> list[Span]:
    """Every age at which some prevention window opens (the candidates' birth dates follow)."""
    return sorted(_rule_ages() | _vaccination_ages())


@lru_cache(maxsize=1)
def _no_vaccinations() -> Calendar:
    return replace(default_calendar(), rules=())


@lru_cache(maxsize=1)
def _no_rules() -> RuleSet:
    return replace(default_rules(), rules=())


def _births(age: Span, day: date) -> list[date]:
    """The birth dates whose `age` may fall on `day`, for the engine to confirm. Months end on
    the month's last day, and a series adds its interval to a first age already cut short
    (born on 29 February: 50 years on 28 February 2010, then 68 on 28 February 2028): near a
    month's end, the neighbouring birth dates are candidates too."""
    guess = age.before(day)
    near = (guess + timedelta(days=k) for k in range(-3, 4))
    return [b for b in near if b <= day and (b == guess or b.day >= 28)]


PREVENTION_CODES = (
    Notification.Code.VACCINATION_DUE,
    Notification.Code.SCREENING_DUE,
    Notification.Code.PREVENTION_DUE,
)


def _code(item: PreventionItem) -> Notification.Code:
    if item.is_vaccination:
        return Notification.Code.VACCINATION_DUE
    if item.is_screening:
        return Notification.Code.SCREENING_DUE
    return Notification.Code.PREVENTION_DUE


def is_reminded(item: PreventionItem, day: date) -> bool:
    """The reminder's rule, for one item on the sweep's day (the engine's own statuses): its
    window opens on `day` and nothing was done, said or planned about it."""
    return item.window_start == day and item.status in (ItemStatus.TO_DO, ItemStatus.UPCOMING)


@dataclass(frozen=True)
class Slot:
    """People born on `birth_date` (of this sex, or any when empty) have `item_key` opening on
    the sweep's day; `item` is what the engine says of it for anyone of them with nothing
    recorded (the reminder's text)."""

    birth_date: date
    sex: str
    item_key: str
    item: PreventionItem | None = field(default=None, compare=False, hash=False)


@lru_cache(maxsize=16)
def opening_slots(day: date, today: date | None = None) -> tuple[Slot, ...]:
    """Every (birth date, sex, item) whose window opens on `day`, as the engine says on `today`
    (the sweep's day; `day` by default) for anyone with nothing recorded: the pure engine runs
    once per opening age and sex (a few hundred runs, not one per person), and only on the
    rules that can open at that age (the vaccination calendar only at its doses' ages), so the
    sweep then selects the people with one indexed SQL statement. Memoised: the sweep runs
    hourly over the same days, and the slots depend only on the days and the rules."""
    today = today or day
    out: dict[tuple[date, str, str], Slot] = {}
    for age in _opening_ages():
        rules = _rules_by_age().get(age) or _no_rules()
        calendar = _vaccinations_by_age().get(age) or _no_vaccinations()
        for birth in _births(age, day):
            per_sex: dict[str, dict[str, PreventionItem]] = {}
            for sex in ("F", "M") if age in _sex_specific_ages() else ("",):
                items = prevention_calendar(
                    birth_date=birth,
                    sex=sex,
                    today=today,
                    since=day,
                    horizon=day + timedelta(days=1),
                    rules=rules,
                    calendar=calendar,
                )
                per_sex[sex] = {i.key: i for i in items if is_reminded(i, day)}
            if "" in per_sex:  # the same answer for both sexes, from one run
                for key, item in per_sex[""].items():
                    out[(birth, "", key)] = Slot(birth, "", key, item)
                continue
            both = per_sex["F"].keys() & per_sex["M"].keys()
            for key in both:
                out[(birth, "", key)] = Slot(birth, "", key, per_sex["F"][key])
            for sex, found in per_sex.items():
                for key, item in found.items():
                    if key not in both:
                        out[(birth, sex, key)] = Slot(birth, sex, key, item)
    return tuple(out.values())


def _slot_texts(slots: tuple[Slot, ...]) -> dict[str, list[str]]:
    """The notification of each item key's reminder (code, label, link, link label), from the
    engine's items; an item key whose slots do not all say the same is left out (its rows go
    through phase 2, each with its own answer)."""
    texts: dict[str, list[str]] = {}
    mixed: set[str] = set()
    for slot in slots:
        if slot.item is None:
            mixed.add(slot.item_key)
            continue
        code, label, url, link_label = _item_text(slot.item)
        text = [str(code), label, url, link_label]
        if texts.setdefault(slot.item_key, text) != text:
            mixed.add(slot.item_key)
    return {key: text for key, text in texts.items() if key not in mixed}


def prevention_candidates_insert(*, day: date, today: date | None = None) -> tuple[int, int]:
    """Phase 1, set-based, in one statement: a ReminderSent row per person and item opening on
    `day` (ON CONFLICT DO NOTHING on its unique key: a second worker or a re-run adds nothing),
    leaving out the opposed and what was already said or planned. Returns the rows inserted
    and, of them, those notified here.

    The common case is finished in the same statement (PostgreSQL): for people whose calendar
    is their birth date's and sex's (nothing in the carnet, nothing said or planned, no
    situation) and whom nobody is told about beyond the notification centre (no account, no
    representative), the engine's answer is the slot's, so the row is born processed and its
    notification is inserted from the rows this statement actually inserted (a data-modifying
    CTE over RETURNING): both commit together or not at all, and a key another worker already
    holds inserts nothing and notifies nothing. The other rows stay pending for phase 2 (their
    own calendar, the channels). SQLite has no data-modifying CTE: every row stays pending."""
    slots = opening_slots(day, today or day)
    if not slots:
        return 0, 0
    postgres = connection.vendor == "postgresql"
    at = timezone.now()
    texts = _slot_texts(slots)
    known = [slot.item_key in texts for slot in slots]
    dates = sorted({slot.birth_date for slot in slots})
    # The patient's id as 32 hex digits on both databases (uuid on PostgreSQL, char(32) on
    # SQLite), as Python's uuid.hex: the same key as prevention_reminder's.
    pid = "REPLACE(CAST(c.id AS TEXT), '-', '')"
    # The birth dates again, as a plain list the planner sees: an index scan on
    # identity_citizen.birth_date whatever it guesses of the join with the slots (EXPLAIN test).
    params: list[Any]
    dates_params: list[Any]
    if postgres:
        # Arrays: a handful of parameters rather than a thousand (the driver's cost is per
        # placeholder; the plan is the same).
        slots_sql = (
            "SELECT * FROM unnest(CAST(%s AS DATE[]), CAST(%s AS TEXT[]), "
            "CAST(%s AS TEXT[]), CAST(%s AS BOOLEAN[]))"
        )
        params = [
            [slot.birth_date for slot in slots],
            [slot.sex for slot in slots],
            [slot.item_key for slot in slots],
            known,
        ]
        dates_sql, dates_params = "= ANY(CAST(%s AS DATE[]))", [dates]
    else:
        slots_sql = "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(slots))
        params = []
        for slot, is_known in zip(slots, known, strict=True):
            params += [slot.birth_date.isoformat(), slot.sex, slot.item_key, is_known]
        dates_sql = "IN (" + ", ".join(["%s"] * len(dates)) + ")"
        dates_params = [d.isoformat() for d in dates]
    # Finished here (born processed, notified below) only when the engine's answer is the
    # slot's and the centre is the only channel: otherwise pending, for phase 2 — a calendar
    # that is more than birth date and sex (`_pending_batch`'s `history`), someone told beyond
    # the centre (its `told`).
    finished = """
        s.known AND c.user_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM enrolment_legalrepresentation lr
                        WHERE lr.represented_id = c.id AND lr.started_at <= %s
                          AND (lr.ended_at IS NULL OR lr.ended_at > %s))
        AND NOT EXISTS (SELECT 1 FROM vaccinations_vaccination v WHERE v.patient_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM agenda_preventionrecord pr WHERE pr.patient_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM agenda_appointment pa
                        WHERE pa.patient_id = c.id AND pa.prevention_key <> '')
        AND NOT EXISTS (SELECT 1 FROM agenda_agendasettings st WHERE st.patient_id = c.id)
    """
    processed = f"CASE WHEN {finished} THEN CAST(%s AS TIMESTAMPTZ) END" if postgres else "NULL"
    sql = f"""
        INSERT INTO agenda_remindersent
            (key, kind, patient_id, item_key, created_at, processed_at, skipped)
        WITH s(birth_date, sex, item_key, known) AS ({slots_sql})
        SELECT 'prev:' || {pid} || ':' || s.item_key, 'prev', c.id, s.item_key, %s,
               {processed}, FALSE
        FROM s JOIN identity_citizen c
          ON c.birth_date = s.birth_date AND (s.sex = '' OR c.sex = s.sex)
        WHERE c.birth_date {dates_sql}
          AND NOT EXISTS (SELECT 1 FROM agenda_agendasettings a
                          WHERE a.patient_id = c.id AND NOT a.personalised_prevention)
          AND NOT EXISTS (SELECT 1 FROM agenda_preventionrecord r
                          WHERE r.patient_id = c.id AND r.key = s.item_key)
          AND NOT EXISTS (SELECT 1 FROM agenda_appointment ap
                          WHERE ap.patient_id = c.id AND ap.prevention_key = s.item_key
                            AND ap.status IN ('booked', 'fulfilled'))
        ON CONFLICT (key) DO NOTHING
    """  # noqa: S608 - only placeholders are interpolated
    params.append(at)
    if postgres:
        params += [at, at, at]
    params += dates_params
    if not postgres:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return max(cursor.rowcount, 0), 0
    # The notifications of the rows this statement inserted and finished, in the statement:
    # the text looked up by item key in one JSON object (a binary search, no join to plan).
    sql = f"""
        WITH inserted AS ({sql} RETURNING patient_id, item_key, processed_at),
        notified AS (
          INSERT INTO notifications_notification (profile_id, code, label, url, link_label,
                                                  created_at, read_at, hidden_from_representatives)
          SELECT i.patient_id, t.text ->> 0, t.text ->> 1, t.text ->> 2, t.text ->> 3,
                 %s, NULL, FALSE
          FROM inserted i CROSS JOIN LATERAL (SELECT CAST(%s AS JSONB) -> i.item_key) t(text)
          WHERE i.processed_at IS NOT NULL
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM notified)
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, at, json.dumps(texts)])
        inserted, notified = cursor.fetchone()
    return int(inserted), int(notified)


def _sweep_days(today: date) -> list[date]:
    """The days whose openings a sweep on `today` reminds: tomorrow (the day before, portal.md
    §7.1) and the days just before it, in case a sweep was missed."""
    first = today + settings.MES_PREVENTION_REMIND_BEFORE
    back = settings.MES_PREVENTION_REMIND_OPENED_WITHIN.days
    return [first - timedelta(days=n) for n in range(back + 1)]


def _known_items(today: date) -> dict[tuple[date, str, str], PreventionItem]:
    """What the engine said in phase 1 for people with nothing recorded: (birth date, sex or
    '', item key) → item."""
    out: dict[tuple[date, str, str], PreventionItem] = {}
    for day in _sweep_days(today):
        for slot in opening_slots(day, today):
            if slot.item is not None:
                out[(slot.birth_date, slot.sex, slot.item_key)] = slot.item
    return out


def _pending_batch(size: int) -> list[tuple[int, str, uuid.UUID, str, date, str, bool, bool]]:
    """The next pending rows, claimed with SKIP LOCKED, each with what the batch needs of its
    person in the same query: birth date and sex; whether their calendar depends on more than
    those (a dose in the carnet, something said, an appointment for an item: their own run of
    the engine); whether someone is told beyond the notification centre (their own account, a
    representative's: the channels)."""
    person = OuterRef("patient_id")
    history = (
        Exists(Vaccination.objects.filter(patient_id=person))
        | Exists(PreventionRecord.objects.filter(patient_id=person))
        | Exists(Appointment.objects.filter(patient_id=person).exclude(prevention_key=""))
        | Exists(AgendaSettings.objects.filter(patient_id=person))
    )
    told = Q(patient__user_id__isnull=False) | Exists(
        LegalRepresentation.objects.current().filter(represented_id=person)
    )
    return list(
        ReminderSent.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(kind=ReminderSent.Kind.PREVENTION, processed_at__isnull=True)
        .annotate(
            history=ExpressionWrapper(history, output_field=BooleanField()),
            told=ExpressionWrapper(told, output_field=BooleanField()),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "key",
            "patient_id",
            "item_key",
            "patient__birth_date",
            "patient__sex",
            "history",
            "told",
        )[:size]
    )


def prevention_pending_process(*, today: date, limit: int | None = None) -> tuple[int, int]:
    """Phase 2, in batches: pending rows, claimed with SKIP LOCKED, are checked against each
    person's exact calendar (a vaccination since recorded in the carnet…) and notified, or
    closed as skipped; a row's processed_at commits with its notification (a crash leaves the
    batch pending for the restart). Returns (notified, skipped).

    Work proportional to the reminders, not to the engine: for people with nothing recorded,
    the engine's answer is phase 1's (same birth date, sex and day), reused; only people with
    a history get their own calendar. People nobody else is told about (no account, no
    representative) get their centre's notification in one bulk insert; the others go
    through `notify_many` (e-mail, SMS, letter)."""
    size = limit or settings.MES_REMINDER_BATCH
    notified = skipped = 0
    pending = ReminderSent.objects.filter(
        kind=ReminderSent.Kind.PREVENTION, processed_at__isnull=True
    )
    # The common day on PostgreSQL: phase 1 finished everything. One probe of the pending
    # rows' partial index then, not the claim query with its EXISTS columns.
    if not pending.exists():
        return notified, skipped
    known = _known_items(today)
    while True:
        with transaction.atomic():
            rows = _pending_batch(size)
            if not rows:
                return notified, skipped
            personal = {row[2] for row in rows if row[6]}
            channels = {row[2] for row in rows if row[7]}
            people = Citizen.objects.in_bulk(personal | channels)
            events: list[Event] = []
            centre_only: list[Notification] = []
            done: list[int] = []
            stale: list[int] = []
            for pk, key, pid, item_key, birth, sex, _, _ in rows:
                item: PreventionItem | None
                if pid in personal:
                    item = _personal_calendar(people[pid], today).get(item_key)
                else:
                    item = (
                        known.get((birth, sex, item_key))
                        or known.get((birth, "", item_key))
                        or _shared_calendar(birth, sex, today).get(item_key)
                    )
                if item is None or item.status not in (ItemStatus.TO_DO, ItemStatus.UPCOMING):
                    stale.append(pk)
                    continue
                done.append(pk)
                if pid in channels:
                    events.append(_item_event(people[pid], item, key))
                else:
                    code, label, url, link_label = _item_text(item)
                    centre_only.append(
                        Notification(
                            profile_id=pid, code=code, label=label, url=url, link_label=link_label
                        )
                    )
            # Set-based: the notifications (and the outbox rows) in bulk, then the claimed rows
            # closed with two UPDATEs, all in the claim's transaction — a crash before commit
            # leaves the whole batch pending, and locked rows are never claimed twice.
            Notification.objects.bulk_create(centre_only, batch_size=1000)
            notify_many(events)
            at = timezone.now()
            ReminderSent.objects.filter(pk__in=done).update(processed_at=at)
            ReminderSent.objects.filter(pk__in=stale).update(processed_at=at, skipped=True)
            notified += len(done)
            skipped += len(stale)
            _personal_calendar.cache_clear()


@lru_cache(maxsize=4096)
def _shared_calendar(birth_date: date, sex: str, today: date) -> dict[str, PreventionItem]:
    """The calendar of anyone born that day, of that sex, with nothing recorded yet."""
    items = prevention_calendar(birth_date=birth_date, sex=sex, today=today)
    return {i.key: i for i in items}


@lru_cache(maxsize=256)
def _personal_calendar(person: Citizen, today: date) -> dict[str, PreventionItem]:
    """One person's own calendar (their rows), once per batch however many items they have."""
    return {i.key: i for i in calendar_for(person, today, personalised=True)}


def situation_candidates_insert(*, today: date) -> int:
    """Phase 1 for the people who declared situations (a pregnancy, a chronic disease…): items
    that birth date and sex alone do not open (the pregnancy's vaccinations and dental
    check-up…) come from each one's own calendar — the per-person engine, for these few
    people only. Same pending rows, same keys (ON CONFLICT: nothing twice)."""
    days = set(_sweep_days(today))
    rows: list[ReminderSent] = []
    declared = AgendaSettings.objects.filter(personalised_prevention=True).select_related("patient")
    for setting in declared.iterator(chunk_size=settings.MES_REMINDER_BATCH):
        if not (setting.situations or setting.pregnancy_due_on):
            continue
        person = setting.patient
        rows += [
            ReminderSent(
                key=f"prev:{person.pk.hex}:{item.key}",
                kind=ReminderSent.Kind.PREVENTION,
                patient=person,
                item_key=item.key,
            )
            for item in calendar_for(person, today, personalised=True)
            if item.window_start in days and is_reminded(item, item.window_start)
        ]
    if not rows:
        return 0
    return len(ReminderSent.objects.bulk_create(rows, ignore_conflicts=True))


def prevention_reminders(*, today: date) -> tuple[int, int]:
    """« Bientôt dû »: the items opening tomorrow (the day before, portal.md §7.1), and those
    opened in the last days in case a sweep was missed. Returns (candidates, notified)."""
    candidates = notified = 0
    for day in _sweep_days(today):
        inserted, finished = prevention_candidates_insert(day=day, today=today)
        candidates += inserted
        notified += finished
    candidates += situation_candidates_insert(today=today)
    notified += prevention_pending_process(today=today)[0]
    return candidates, notified


def prevention_reminder(person: Citizen, item: PreventionItem) -> bool:
    """Remind one prevention item of one person, once (False: already reminded)."""
    key = f"prev:{person.pk.hex}:{item.key}"
    with transaction.atomic():
        if not _claim(key, kind=ReminderSent.Kind.PREVENTION, patient=person, item_key=item.key):
            return False
        _notify_item(person, item, key)
    return True


def _item_text(item: PreventionItem) -> tuple[Notification.Code, str, str, str]:
    """The reminder's code, label, link and link label (no health detail leaves the centre:
    the channels carry a generic text)."""
    return (
        _code(item),
        f"{item.type_label} à planifier prochainement : {item.label}",
        _item_url(item.key),
        "Voir la vaccination" if item.is_vaccination else "Voir l'examen médical",
    )


def _item_event(person: Citizen, item: PreventionItem, key: str) -> Event:
    code, label, url, link_label = _item_text(item)
    return Event(profile=person, code=code, label=label, url=url, link_label=link_label, key=key)


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


def _notify_user_reminder(reminder: UserReminder) -> bool:
    """Notify one « Rappel » (RAPPEL_AGENDA), once: its key carries its time, so a moved
    reminder is notified at its new time, once. The label stays in the centre; the channels
    carry a generic text (never a health detail in an e-mail or SMS)."""
    key = f"rappel:{reminder.pk.hex}:{reminder.at.isoformat()}"
    with transaction.atomic():
        if not _claim(
            key,
            kind=ReminderSent.Kind.USER,
            patient_id=reminder.patient_id,
            user_reminder=reminder,
        ):
            return False
        when = timezone.localtime(reminder.at)
        notify_through_channels(
            profile=reminder.patient,
            code=Notification.Code.AGENDA_REMINDER,
            label=f"Rappel : {reminder.title} ({when:%d/%m/%Y à %H:%M})"[:300],
            url=reverse("portal:user_reminder_edit", args=[reminder.pk]),
            link_label="Voir le rappel",
            key=key,
        )
    return True


def user_reminder_due(*, reminder_id: uuid.UUID, now: datetime | None = None) -> bool:
    """The task at a reminder's time: notify it if it is due (not moved later, not deleted)."""
    now = now or timezone.now()
    reminder = UserReminder.objects.select_related("patient").filter(pk=reminder_id).first()
    if reminder is None or reminder.at > now:
        return False  # deleted, or moved later: its own task comes then
    return _notify_user_reminder(reminder)


def user_reminders(*, now: datetime) -> int:
    """The hourly sweep's safety net: every reminder due in the last MES_USER_REMINDER_LATE not
    yet notified (its task lost with a crashed queue)."""
    sent = 0
    qs = UserReminder.objects.filter(
        at__lte=now, at__gt=now - settings.MES_USER_REMINDER_LATE
    ).select_related("patient")
    for reminder in qs.iterator(chunk_size=settings.MES_REMINDER_BATCH):
        sent += _notify_user_reminder(reminder)
    return sent


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """The daily sweep (run it hourly for the 1-hour reminders): every kind of reminder."""
    now = now or timezone.now()
    result = SweepResult(appointments=appointment_reminders(now=now))
    result.user = user_reminders(now=now)
    result.people, result.prevention = prevention_reminders(today=timezone.localdate(now))
    return result
