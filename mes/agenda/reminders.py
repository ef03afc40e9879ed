"""The daily reminders (portal.md §7.1): appointment reminders at the chosen time, and
« bientôt dû » prevention reminders the day before an item's window opens.

Exactly once, by construction: each reminder has an idempotency key (`rdv:…`, `prev:…`,
`rappel:…`), and the notification that tells it is its own record of « already said »: the key
is unique among notifications, and its outbox rows are written only by the statement that
inserted it. A second worker (or a worker restarted after a crash, at-least-once delivery of
tasks) finds the key taken — the database lets one insert in, blocking the other until the
first commits — and notifies nothing. One rule, one place: whatever reads « was this said? »
reads `Notification.key`. Work goes set-based or in batches of people
(settings.MES_REMINDER_BATCH), never one task per person.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS

from mes.enrolment.policies import citizen_side_q, citizen_side_sql
from mes.identity.models import Citizen
from mes.notifications.channels.many import Event
from mes.notifications.channels.person import notify_once
from mes.notifications.channels.set_based import notify_events, notify_select
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

from .models import AgendaSettings, Appointment, UserReminder
from .selectors import calendar_for

SWEEP_ACTOR_NAME = "rappels-agenda"
LONGEST_REMINDER = max(Appointment.REMINDER_DELAYS.values())


@dataclass
class SweepResult:
    appointments: int = 0
    prevention: int = 0
    people: int = 0
    user: int = 0


def appointment_reminders(*, now: datetime) -> int:
    """Remind every booked appointment whose reminder time has come (not past its start)."""
    sent = 0
    qs = (
        Appointment.objects.filter(
            citizen_side_q("patient__"),
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
        when = timezone.localtime(a.starts_at)
        # The start is in the key: a moved appointment is reminded again, once.
        sent += notify_once(
            profile=a.patient,
            code=Notification.Code.APPOINTMENT_REMINDER,
            label=f"Rappel : rendez-vous le {when:%d/%m/%Y à %H:%M}",
            url=reverse("portal:appointment", args=[a.pk]),
            link_label="Voir le rendez-vous",
            key=appointment_key(a),
            # A minor's secret care: told to the holder's centre only, never to the parents.
            hidden_from_representatives=a.hidden_from_representatives,
        )
    return sent


def appointment_key(appointment: Appointment) -> str:
    """The idempotency key of an appointment's reminder (its start in it, in UTC as read from
    the database whatever the instance's zone: moved, reminded again once)."""
    return f"rdv:{appointment.pk}:{appointment.starts_at.astimezone(UTC).isoformat()}"


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


def prevention_key(patient_id: uuid.UUID, item_key: str) -> str:
    """The idempotency key of a person's « bientôt dû » reminder for one item."""
    return f"prev:{patient_id.hex}:{item_key}"


@dataclass(frozen=True)
class _DaySql:
    """The join of the citizens to a day's opening slots, with the exclusions, in the
    database's dialect: `slots` the rows of the slots `s(birth_date, sex, item_key)`,
    `where` the join's condition on the citizens `c` (indexed by birth date) and the
    exclusions, with their `params`."""

    slots: str
    where: str
    params: dict[str, Any]

    def select(self, columns: str, *, lateral: str = "", condition: str = "") -> str:
        """SELECT `columns` of the candidates (`lateral`: a join on the slot, before the
        citizens; `condition`: more of the WHERE)."""
        return f"""
        WITH s(birth_date, sex, item_key) AS ({self.slots})
        SELECT {columns}
        FROM s {lateral}
        JOIN identity_citizen c ON c.birth_date = s.birth_date AND (s.sex = '' OR c.sex = s.sex)
        WHERE {self.where} {condition}
        """  # noqa: S608 - only placeholders are interpolated


# The patient's id as 32 hex digits on both databases (uuid on PostgreSQL, char(32) on
# SQLite), as Python's uuid.hex: the same key as prevention_key's.
_KEY_SQL = "'prev:' || REPLACE(CAST(c.id AS TEXT), '-', '') || ':' || s.item_key"
# A calendar that is more than birth date and sex: a dose in the carnet, something said, an
# appointment for an item, settings (an opposition is excluded; situations): the person's
# own run of the engine, in Python (phase 2).
_HISTORY_SQL = """(
    EXISTS (SELECT 1 FROM vaccinations_vaccination v WHERE v.patient_id = c.id)
    OR EXISTS (SELECT 1 FROM agenda_preventionrecord pr WHERE pr.patient_id = c.id)
    OR EXISTS (SELECT 1 FROM agenda_appointment pa
               WHERE pa.patient_id = c.id AND pa.prevention_key <> '')
    OR EXISTS (SELECT 1 FROM agenda_agendasettings st WHERE st.patient_id = c.id))"""


def _day_sql(slots: tuple[Slot, ...], postgres: bool) -> _DaySql:
    """The candidates of a day: the citizens (by birth date and sex, indexed) joined to the
    slots, leaving out those whose espace is not open to them (not activated, closed…), the
    opposed to personalised prevention and what was said or planned about the item."""
    dates = sorted({slot.birth_date for slot in slots})
    params: dict[str, Any]
    if postgres:
        # Arrays: a handful of parameters rather than a thousand (the driver's cost is per
        # placeholder; the plan is the same). The birth dates again, as a plain list the
        # planner sees: an index scan on identity_citizen.birth_date whatever it guesses of
        # the join with the slots (EXPLAIN test).
        slots_sql = (
            "SELECT * FROM unnest(CAST(%(s_birth)s AS DATE[]), CAST(%(s_sex)s AS TEXT[]), "
            "CAST(%(s_item)s AS TEXT[]))"
        )
        params = {
            "s_birth": [slot.birth_date for slot in slots],
            "s_sex": [slot.sex for slot in slots],
            "s_item": [slot.item_key for slot in slots],
            "s_dates": dates,
        }
        dates_sql = "= ANY(CAST(%(s_dates)s AS DATE[]))"
    else:
        rows = []
        params = {}
        for n, slot in enumerate(slots):
            rows.append(f"(%(b{n})s, %(x{n})s, %(i{n})s)")
            params |= {f"b{n}": slot.birth_date.isoformat(), f"x{n}": slot.sex}
            params[f"i{n}"] = slot.item_key
        slots_sql = "VALUES " + ", ".join(rows)
        names = [f"%(d{n})s" for n in range(len(dates))]
        params |= {f"d{n}": d.isoformat() for n, d in enumerate(dates)}
        dates_sql = "IN (" + ", ".join(names) + ")"
    where = f"""c.birth_date {dates_sql}
          AND {citizen_side_sql("c.id")}
          AND NOT EXISTS (SELECT 1 FROM agenda_agendasettings a
                          WHERE a.patient_id = c.id AND NOT a.personalised_prevention)
          AND NOT EXISTS (SELECT 1 FROM agenda_preventionrecord r
                          WHERE r.patient_id = c.id AND r.key = s.item_key)
          AND NOT EXISTS (SELECT 1 FROM agenda_appointment ap
                          WHERE ap.patient_id = c.id AND ap.prevention_key = s.item_key
                            AND ap.status IN ('booked', 'fulfilled'))"""  # noqa: S608 - placeholders
    return _DaySql(slots=slots_sql, where=where, params=params)


def prevention_day_notify(*, day: date, today: date | None = None) -> tuple[int, int]:
    """Phase 1, set-based, in one statement (PostgreSQL): the reminders of the items opening
    on `day` for everyone whose calendar is their birth date's and sex's (nothing in the
    carnet, nothing said or planned, no situation) — the engine's answer is then the slot's —
    written by the one notification writer (`notify_select`): each person's notification keyed
    `prev:<person>:<item>` (ON CONFLICT DO NOTHING: a second worker or a re-run adds nothing),
    and, from the rows actually inserted, the outbox rows of whoever is told beyond the centre
    (the holder's account, the representatives: their preferences, a letter). Returns (the
    reminders notified, the candidates left to phase 2: a calendar of their own, an item whose
    slots do not all say the same). SQLite (no data-modifying CTE): phase 2 does it all."""
    slots = opening_slots(day, today or day)
    if connection.vendor != "postgresql" or not slots:
        return 0, len(slots)
    texts = _slot_texts(slots)
    day_sql = _day_sql(slots, postgres=True)
    # The text looked up by item key in one JSON object (a binary search, no join to plan);
    # an item without one text is not ready, nor is a person with a calendar of their own.
    source = day_sql.select(
        f"c.id, t.text ->> 0, t.text ->> 1, t.text ->> 2, t.text ->> 3, {_KEY_SQL}, c.user_id, "
        f"t.text IS NOT NULL AND NOT {_HISTORY_SQL}",
        lateral="CROSS JOIN LATERAL (SELECT CAST(%(s_texts)s AS JSONB) -> s.item_key) t(text)",
    )
    with transaction.atomic():
        written = notify_select(
            source,
            {**day_sql.params, "s_texts": json.dumps(texts)},
            codes=PREVENTION_CODES,
        )
    return written.notified, written.left


def _unsaid_candidates(day: date, today: date) -> list[tuple[uuid.UUID, str, date, str, bool]]:
    """Phase 2's candidates of a day: (person, item key, birth date, sex, history) of the
    reminders not said yet that phase 1 leaves to Python — on PostgreSQL the people whose
    calendar is more than birth date and sex, and the items whose slots do not all say the
    same; on SQLite every one."""
    slots = opening_slots(day, today)
    if not slots:
        return []
    postgres = connection.vendor == "postgresql"
    day_sql = _day_sql(slots, postgres=postgres)
    texts = _slot_texts(slots)
    condition = ""
    params = dict(day_sql.params)
    if postgres:
        condition = f"AND ({_HISTORY_SQL} OR NOT (s.item_key = ANY(%(s_known)s)))"
        params["s_known"] = sorted(texts)
    condition += f"""
          AND NOT EXISTS (SELECT 1 FROM notifications_notification n WHERE n.key = {_KEY_SQL})
        ORDER BY c.id, s.item_key"""  # noqa: S608 - only placeholders are interpolated
    sql = day_sql.select(
        f"c.id, s.item_key, c.birth_date, c.sex, {_HISTORY_SQL}", condition=condition
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # SQLite gives the id as 32 hex digits and the date as text.
    return [
        (
            pid if isinstance(pid, uuid.UUID) else uuid.UUID(pid),
            item_key,
            birth if isinstance(birth, date) else date.fromisoformat(birth),
            sex,
            bool(history),
        )
        for pid, item_key, birth, sex, history in rows
    ]


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


def prevention_unsaid_notify(*, today: date, days: list[date] | None = None) -> tuple[int, int]:
    """Phase 2, in batches: the reminders phase 1 leaves to Python (the people whose calendar
    is more than birth date and sex; every one on SQLite), each checked against the person's
    own calendar (a vaccination since recorded in the carnet…) and notified by the one writer
    (`notify_events`: one statement per batch on PostgreSQL, ON CONFLICT on the keys), each
    batch in its transaction: a crash rolls its batch back whole, and the restart finds its
    keys free. Returns (candidates, notified); a candidate found stale is simply not notified
    (the next sweep asks the engine again, for as long as its window is in the catch-up days).
    `days`: the sweep's days to look at (by default all; the sweep passes those where phase 1
    left something).

    For people with nothing recorded (SQLite), the engine's answer is phase 1's (same birth
    date, sex and day), reused; only people with a history get their own calendar."""
    size = settings.MES_REMINDER_BATCH
    days = _sweep_days(today) if days is None else days
    rows = [row for day in days for row in _unsaid_candidates(day, today)]
    if not rows:
        return 0, 0
    known = _known_items(today)
    notified = 0
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        with transaction.atomic():
            people = Citizen.objects.in_bulk({row[0] for row in batch})
            events: list[Event] = []
            for pid, item_key, birth, sex, history in batch:
                item: PreventionItem | None
                if history:
                    item = _personal_calendar(people[pid], today).get(item_key)
                else:
                    item = (
                        known.get((birth, sex, item_key))
                        or known.get((birth, "", item_key))
                        or _shared_calendar(birth, sex, today).get(item_key)
                    )
                if item is not None and item.status in (ItemStatus.TO_DO, ItemStatus.UPCOMING):
                    events.append(_item_event(people[pid], item, prevention_key(pid, item_key)))
            notified += notify_events(events)
        _personal_calendar.cache_clear()
    return len(rows), notified


@lru_cache(maxsize=4096)
def _shared_calendar(birth_date: date, sex: str, today: date) -> dict[str, PreventionItem]:
    """The calendar of anyone born that day, of that sex, with nothing recorded yet."""
    items = prevention_calendar(birth_date=birth_date, sex=sex, today=today)
    return {i.key: i for i in items}


@lru_cache(maxsize=256)
def _personal_calendar(person: Citizen, today: date) -> dict[str, PreventionItem]:
    """One person's own calendar (their rows), once per batch however many items they have."""
    return {i.key: i for i in calendar_for(person, today, personalised=True)}


def situation_reminders(*, today: date) -> tuple[int, int]:
    """The reminders of the people who declared situations (a pregnancy, a chronic disease…):
    items that birth date and sex alone do not open (the pregnancy's vaccinations and dental
    check-up…) come from each one's own calendar — the per-person engine, for these few
    people only — notified by the one writer, same keys (ON CONFLICT: nothing twice).
    Returns (candidates, notified)."""
    days = set(_sweep_days(today))
    candidates = notified = 0
    events: list[Event] = []
    # Only those who declared something (the others' settings are an opposition lifted).
    declared = (
        AgendaSettings.objects.filter(personalised_prevention=True)
        .filter(citizen_side_q("patient__"))
        .filter(Q(pregnancy_due_on__isnull=False) | ~Q(situations=[]))
        .select_related("patient")
    )
    for setting in declared.iterator(chunk_size=settings.MES_REMINDER_BATCH):
        person = setting.patient
        events += [
            _item_event(person, item, prevention_key(person.pk, item.key))
            for item in calendar_for(person, today, personalised=True)
            if item.window_start in days and is_reminded(item, item.window_start)
        ]
        if len(events) >= settings.MES_REMINDER_BATCH:
            candidates += len(events)
            with transaction.atomic():
                notified += notify_events(events)
            events = []
    candidates += len(events)
    with transaction.atomic():
        notified += notify_events(events)
    return candidates, notified


def prevention_reminders(*, today: date) -> tuple[int, int]:
    """« Bientôt dû »: the items opening tomorrow (the day before, portal.md §7.1), and those
    opened in the last days in case a sweep was missed. Returns (candidates, notified)."""
    candidates = notified = 0
    left: list[date] = []
    for day in _sweep_days(today):
        done, rest = prevention_day_notify(day=day, today=today)
        candidates += done
        notified += done
        if rest:
            left.append(day)
    # Phase 2 only for the days where phase 1 left candidates (on the common day, none).
    phase2 = prevention_unsaid_notify(today=today, days=left) if left else (0, 0)
    for found, told in (situation_reminders(today=today), phase2):
        candidates += found
        notified += told
    return candidates, notified


def prevention_reminder(person: Citizen, item: PreventionItem) -> bool:
    """Remind one prevention item of one person, once (False: already reminded)."""
    event = _item_event(person, item, prevention_key(person.pk, item.key))
    return notify_once(
        profile=person,
        code=event.code,
        label=event.label,
        url=event.url,
        link_label=event.link_label,
        key=event.key,
    )


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


@lru_cache(maxsize=1)
def _item_url_parts() -> tuple[str, str]:
    """The item page's URL around its key, from one reverse() (the marker has no character
    that reverse() would quote)."""
    head, tail = reverse("portal:agenda_item", kwargs={"key": "CLE"}).split("CLE")
    return head, tail


def _item_url(item_key: str) -> str:
    """`reverse("portal:agenda_item", kwargs={"key": item_key})` without the resolver's work
    for each of the day's few hundred items: the route around the key, the key quoted as
    reverse() quotes it (a test compares the two for every item key of the rules)."""
    head, tail = _item_url_parts()
    return head + quote(item_key, safe=RFC3986_SUBDELIMS + "/~:@") + tail


def _notify_user_reminder(reminder: UserReminder) -> bool:
    """Notify one « Rappel » (RAPPEL_AGENDA), once: its key carries its time, so a moved
    reminder is notified at its new time, once. The label stays in the centre; the channels
    carry a generic text (never a health detail in an e-mail or SMS)."""
    when = timezone.localtime(reminder.at)
    return notify_once(
        profile=reminder.patient,
        code=Notification.Code.AGENDA_REMINDER,
        label=f"Rappel : {reminder.title} ({when:%d/%m/%Y à %H:%M})"[:300],
        url=reverse("portal:user_reminder_edit", args=[reminder.pk]),
        link_label="Voir le rappel",
        key=user_reminder_key(reminder),
    )


def user_reminder_key(reminder: UserReminder) -> str:
    """The idempotency key of a « Rappel » (its time in it: moved, notified again once)."""
    return f"rappel:{reminder.pk.hex}:{reminder.at.astimezone(UTC).isoformat()}"


def user_reminder_due(*, reminder_id: uuid.UUID, now: datetime | None = None) -> bool:
    """The task at a reminder's time: notify it if it is due (not moved later, not deleted)."""
    now = now or timezone.now()
    reminder = (
        UserReminder.objects.select_related("patient")
        .filter(citizen_side_q("patient__"), pk=reminder_id)
        .first()
    )
    if reminder is None or reminder.at > now:
        return False  # deleted, or moved later: its own task comes then
    return _notify_user_reminder(reminder)


def user_reminders(*, now: datetime) -> int:
    """The hourly sweep's safety net: every reminder due in the last MES_USER_REMINDER_LATE not
    yet notified (its task lost with a crashed queue)."""
    sent = 0
    qs = UserReminder.objects.filter(
        citizen_side_q("patient__"), at__lte=now, at__gt=now - settings.MES_USER_REMINDER_LATE
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
