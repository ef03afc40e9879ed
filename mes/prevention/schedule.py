"""The whole prevention calendar of a person (spec/prevention.md §2 to §7), as a pure engine.

`prevention_calendar(...)` answers, for one person (date of birth, sex, situations) on one day,
every item of the calendar that concerns them: the 20 mandatory child examinations, M'T dents,
the adult dental check-up, the four « Mon bilan prévention », the organised cancer screenings
and the glaucoma check, plus the vaccinations of `mes.prevention.calendar`. Each item has a due
window, a status (à venir, à faire, planifié with its appointment, fait with a date, ignoré,
non concerné, non renseigné) and a plain-French reason.

The rules are data (`data/prevention_rules_2025.toml`, versioned, each rule with its source);
this module has no models and no HTTP: the agenda (mes.agenda) calls it with plain values.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from .calendar import (
    OBLIGATOIRE,
    RECOMMANDE,
    Calendar,
    CalendarError,
    CalendarItem,
    DoneVaccination,
    Source,
    Span,
    Status,
    default_calendar,
    vaccination_status,
)

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_RULES = DATA_DIR / "prevention_rules_2025.toml"

VACCINATION_TYPE = "CAR_VAC"
SCHEDULES = ("window", "at_ages", "every", "once_in_window", "pregnancy")
# Items whose window ended before this long ago and about which nothing was said are left out
# (the agenda is a forward calendar; what was done stays as history).
DEFAULT_LOOKBACK = Span(months=12)
# « Prochains »: what starts before 1 January of the year after next (prevention.md §6.4).
HORIZON_YEARS = 2
# A lifelong yearly rule (the adult dental check-up) is unrolled this many times at most.
MAX_REPEATS = 120


class ItemStatus(StrEnum):
    UPCOMING = "à venir"
    TO_DO = "à faire"
    PLANNED = "planifié"
    DONE = "fait"
    IGNORED = "ignoré"
    NOT_CONCERNED = "non concerné"
    NOT_SPECIFIED = "non renseigné"

    @property
    def label(self) -> str:
        return {
            ItemStatus.UPCOMING: "À venir",
            ItemStatus.TO_DO: "À planifier",
            ItemStatus.PLANNED: "Planifié",
            ItemStatus.DONE: "Réalisé",
            ItemStatus.IGNORED: "Ignoré",
            ItemStatus.NOT_CONCERNED: "Non concerné",
            ItemStatus.NOT_SPECIFIED: "Non renseigné",
        }[self]


# What the person (or their representative) may say about an item.
RECORDABLE = (ItemStatus.DONE, ItemStatus.IGNORED, ItemStatus.NOT_CONCERNED)


@dataclass(frozen=True)
class Record:
    """What was said about one item: fait (with an optional date), ignoré, non concerné."""

    status: ItemStatus
    on: date | None = None


@dataclass(frozen=True)
class Planned:
    """An appointment linked to an item (not cancelled): its start and the caller's ref."""

    starts_at: datetime
    ref: object = None


@dataclass(frozen=True)
class PreventionRule:
    id: str
    label: str
    type: str
    level: str
    schedule: str
    reason: str
    source: tuple[str, ...]
    sex: str = "any"
    start: Span | None = None  # window [start, end) for "window" and "pregnancy"
    end: Span | None = None
    ages: tuple[Span, ...] = ()
    window: Span | None = None
    every: Span | None = None
    age_min: Span | None = None
    age_max: Span | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    excluded_if: tuple[str, ...] = ()
    reanchor: tuple[tuple[str, Span], ...] = ()

    def valid_at(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_to is not None and day > self.valid_to)


@dataclass(frozen=True)
class RuleSet:
    version: str
    title: str
    types: dict[str, str]
    conditions: dict[str, str]
    sources: dict[str, str]
    rules: tuple[PreventionRule, ...]

    def source(self, key: str) -> Source:
        return Source(key, self.sources.get(key, key))

    def rule(self, rule_id: str) -> PreventionRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _span(value: Any) -> Span | None:
    return None if value is None else Span.parse(str(value))


def _rule(raw: dict[str, Any], known: dict[str, dict[str, str]]) -> PreventionRule:
    rid = raw.get("id", "?")
    unknown = set(raw.get("source", ())) - set(known["sources"])
    unknown |= set(raw.get("excluded_if", ())) - set(known["conditions"])
    if raw.get("type") not in known["types"]:
        unknown.add(str(raw.get("type")))
    if unknown:
        raise CalendarError(f"règle {rid} : codes inconnus {sorted(unknown)}")
    if not raw.get("source"):
        raise CalendarError(f"règle {rid} : aucune source")
    if raw.get("level") not in (OBLIGATOIRE, RECOMMANDE):
        raise CalendarError(f"règle {rid} : niveau inconnu {raw.get('level')!r}")
    schedule = raw.get("schedule")
    if schedule not in SCHEDULES:
        raise CalendarError(f"règle {rid} : calendrier inconnu {schedule!r}")
    rule = PreventionRule(
        id=rid,
        label=raw["label"],
        type=raw["type"],
        level=raw["level"],
        schedule=schedule,
        reason=raw["reason"],
        source=tuple(raw["source"]),
        sex=raw.get("sex", "any"),
        start=_span(raw.get("from")),
        end=_span(raw.get("to")),
        ages=tuple(Span.parse(a) for a in raw.get("ages", ())),
        window=_span(raw.get("window")),
        every=_span(raw.get("every")),
        age_min=_span(raw.get("age_min")),
        age_max=_span(raw.get("age_max")),
        valid_from=raw.get("valid_from"),
        valid_to=raw.get("valid_to"),
        excluded_if=tuple(raw.get("excluded_if", ())),
        reanchor=tuple((r["rule"], Span.parse(r["delay"])) for r in raw.get("reanchor", ())),
    )
    needs = {
        "window": rule.start is not None and rule.end is not None,
        "pregnancy": rule.start is not None and rule.end is not None,
        "at_ages": bool(rule.ages) and rule.window is not None,
        "every": rule.every is not None and rule.age_min is not None,
        "once_in_window": rule.age_min is not None and rule.age_max is not None,
    }
    if not needs[schedule]:
        raise CalendarError(f"règle {rid} : champs manquants pour « {schedule} »")
    return rule


def load_rules(path: Path) -> RuleSet:
    """Read and check a rules file (unknown codes, shapes and duplicate ids are refused)."""
    with path.open("rb") as f:
        raw = tomllib.load(f)
    known = {k: raw.get(k, {}) for k in ("types", "conditions", "sources")}
    rules = tuple(_rule(r, known) for r in raw.get("rules", ()))
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise CalendarError("identifiants de règles en double")
    for rule in rules:
        for target, _ in rule.reanchor:
            if target not in ids:
                raise CalendarError(f"règle {rule.id} : règle de référence inconnue {target}")
    return RuleSet(
        version=str(raw["version"]),
        title=raw["title"],
        types=dict(known["types"]),
        conditions=dict(known["conditions"]),
        sources=dict(known["sources"]),
        rules=rules,
    )


@cache
def default_rules() -> RuleSet:
    return load_rules(DEFAULT_RULES)


# --- the items -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreventionItem:
    key: str  # stable: rule id, plus « @age » for a repeated rule (what records refer to)
    rule_id: str
    rule_version: str
    type: str  # MES type code (prevention.md §6.2)
    type_label: str
    label: str
    mandatory: bool
    window_start: date
    window_end: date | None  # exclusive; None: no end
    status: ItemStatus
    overdue: bool  # à faire after its window (a vaccination to catch up)
    done_on: date | None
    planned: Planned | None
    reason: str
    sources: tuple[Source, ...]
    vaccination: CalendarItem | None = None

    @property
    def is_vaccination(self) -> bool:
        return self.type == VACCINATION_TYPE

    @property
    def is_screening(self) -> bool:
        return self.type == "EXAMEN_DEPISTAGE"

    @property
    def level_label(self) -> str:
        if self.is_vaccination:
            return "Vaccination obligatoire" if self.mandatory else "Vaccination recommandée"
        return "Examen obligatoire" if self.mandatory else "Examen recommandé"

    @property
    def last_day(self) -> date | None:
        from datetime import timedelta

        return self.window_end - timedelta(days=1) if self.window_end else None

    @property
    def open(self) -> bool:
        """Still something to do: à faire or planifié."""
        return self.status in (ItemStatus.TO_DO, ItemStatus.PLANNED)


@dataclass(frozen=True)
class _Slot:
    key: str
    label: str
    start: date
    end: date | None
    reason: str


def _age_label(span: Span) -> str:
    return str(span.years) if span.months % 12 == 0 else f"{span.months} mois"


def _slots(
    rule: PreventionRule,
    birth: date,
    pregnancy_start: date | None,
    done: Mapping[str, list[date]],
    stop: date | None = None,
    since: date | None = None,
) -> list[_Slot]:
    """Every window of a rule for this person (each checked against the rule's version).

    stop / since: a repeated rule's windows starting from `stop` on, or ended well before
    `since`, are not wanted (outside the calendar's period, nothing recorded about them): the
    series is walked only around the period instead of from its first age to MAX_REPEATS, the
    cost that mattered in the daily reminder sweep."""
    out: list[_Slot] = []
    if rule.schedule == "window":
        assert rule.start is not None and rule.end is not None
        out.append(_Slot(rule.id, rule.label, rule.start.after(birth), rule.end.after(birth), ""))
    elif rule.schedule == "pregnancy":
        if pregnancy_start is None:
            return []
        assert rule.start is not None and rule.end is not None
        start = rule.start.after(pregnancy_start)
        key = f"{rule.id}@{pregnancy_start:%Y-%m-%d}"
        out.append(_Slot(key, rule.label, start, rule.end.after(pregnancy_start), ""))
    elif rule.schedule == "at_ages":
        assert rule.window is not None
        for age in rule.ages:
            years = _age_label(age)
            start = age.after(birth)
            out.append(
                _Slot(
                    f"{rule.id}@{years}",
                    rule.label.replace("{age}", years),
                    start,
                    rule.window.after(start),
                    "",
                )
            )
    elif rule.schedule == "once_in_window":
        assert rule.age_min is not None and rule.age_max is not None
        out.append(
            _Slot(rule.id, rule.label, rule.age_min.after(birth), rule.age_max.after(birth), "")
        )
    else:  # every
        assert rule.every is not None and rule.age_min is not None
        window = rule.window or rule.every
        first = rule.age_min.after(birth)
        # Screenings restart a full interval after the last one done (prevention.md §5.1).
        anchors = [
            delay.after(max(done[target])) for target, delay in rule.reanchor if done.get(target)
        ]
        base = max([first, *anchors])
        by_age = base == first  # keyed and labelled by age while on the birthday series
        limit = rule.age_max.after(birth) if rule.age_max is not None else None
        first_step = 0
        if since is not None and rule.every.months and not rule.every.days:
            # Two intervals of margin: a window may be longer than the interval.
            months = (since.year - base.year) * 12 + since.month - base.month
            first_step = max(
                0, months // rule.every.months - 2 - window.months // rule.every.months
            )
        for step in range(first_step, MAX_REPEATS):
            shift = Span(rule.every.months * step, rule.every.days * step)
            start = shift.after(base)
            if (limit is not None and start >= limit) or (stop is not None and start >= stop):
                break
            end = window.after(start)
            if limit is not None and end > limit:
                end = limit
            years = _age_label(rule.age_min + shift)
            key = f"{rule.id}@{years}" if by_age else f"{rule.id}@{start:%Y-%m-%d}"
            label = rule.label.replace("{age}", years) if by_age else rule.label
            out.append(_Slot(key, label.replace(" des {age} ans", ""), start, end, ""))
    return [s for s in out if rule.valid_at(s.start)]


def _status_of(
    key: str,
    start: date,
    end: date | None,
    today: date,
    records: Mapping[str, Record],
    planned: Mapping[str, Planned],
) -> tuple[ItemStatus, date | None, Planned | None]:
    record = records.get(key)
    if record is not None:
        return record.status, record.on, None
    plan = planned.get(key)
    if plan is not None:
        day = plan.starts_at.date()
        if day < today:
            # A past appointment for this item (not cancelled): the item was done that day.
            return ItemStatus.DONE, day, plan
        return ItemStatus.PLANNED, None, plan
    if today < start:
        return ItemStatus.UPCOMING, None, None
    if end is None or today < end:
        return ItemStatus.TO_DO, None, None
    return ItemStatus.NOT_SPECIFIED, None, None


def _vaccination_item(
    item: CalendarItem,
    calendar: Calendar,
    today: date,
    records: Mapping[str, Record],
    planned: Mapping[str, Planned],
) -> PreventionItem:
    start = item.window_start or item.done_on or item.due_date or today
    end = item.window_end
    overdue = item.status is Status.OVERDUE
    if item.status is Status.DONE:
        status, done_on, plan = ItemStatus.DONE, item.done_on, None
    else:
        # Overdue doses stay « à faire » until their catch-up ends (the vaccination engine
        # already left out what can no longer be caught up).
        status, done_on, plan = _status_of(
            item.key, start, item.catch_up_until if overdue else end, today, records, planned
        )
    label = item.label if item.doses_in_rule <= 1 else f"{item.label} – {item.dose_label}"
    if item.dose_number is None and not item.label.endswith(item.dose_label):
        label = f"{item.label} – {item.dose_label}"
    return PreventionItem(
        key=item.key,
        rule_id=item.rule_id,
        rule_version=f"vaccinations {calendar.version}",
        type=VACCINATION_TYPE,
        type_label="Vaccination",
        label=label,
        mandatory=item.mandatory,
        window_start=start,
        window_end=end,
        status=status,
        overdue=overdue and status is ItemStatus.TO_DO,
        done_on=done_on,
        planned=plan,
        reason=item.reason,
        sources=item.sources,
        vaccination=item,
    )


def horizon_of(today: date) -> date:
    return date(today.year + HORIZON_YEARS, 1, 1)


def prevention_calendar(
    *,
    birth_date: date,
    sex: str,
    today: date,
    vaccinations: Iterable[DoneVaccination] = (),
    records: Mapping[str, Record] | None = None,
    planned: Mapping[str, Planned] | None = None,
    conditions: Iterable[str] = (),
    pregnancy_start: date | None = None,
    personalised: bool = True,
    since: date | None = None,
    horizon: date | None = None,
    rules: RuleSet | None = None,
    calendar: Calendar | None = None,
) -> list[PreventionItem]:
    """Every prevention item that concerns this person, sorted by window start.

    records: what was said per item key (fait with a date, ignoré, non concerné); planned: the
    appointment linked to an item; vaccinations: the doses of the carnet (a dose recorded there
    marks its vaccination item fait). personalised=False (opposition of décret n° 2024-468):
    only the statutory calendar stays, the mandatory examinations and vaccinations. Items are
    those whose window reaches [since, horizon) (default: the last 12 months to 1 January of
    the year after next), plus any item recorded as fait inside that period.
    """
    rs = rules or default_rules()
    cal = calendar or default_calendar()
    records = records or {}
    planned = planned or {}
    conds = set(conditions)
    since = since or DEFAULT_LOOKBACK.before(today)
    horizon = horizon or horizon_of(today)
    done_by_rule: dict[str, list[date]] = {}
    for key, record in records.items():
        if record.status is ItemStatus.DONE and record.on is not None:
            done_by_rule.setdefault(key.split("@")[0], []).append(record.on)
    for key, appointment in planned.items():
        if appointment.starts_at.date() < today:
            done_by_rule.setdefault(key.split("@")[0], []).append(appointment.starts_at.date())

    items: list[PreventionItem] = []
    for rule in rs.rules:
        if rule.sex != "any" and rule.sex != sex:
            continue
        if conds & set(rule.excluded_if):
            continue
        if not personalised and rule.level != OBLIGATOIRE:
            continue
        recorded = any(key.split("@")[0] == rule.id for key in records)
        slots = _slots(
            rule,
            birth_date,
            pregnancy_start,
            done_by_rule,
            None if recorded else horizon,
            None if recorded else since,
        )
        known = {slot.key for slot in slots}
        # A screening done earlier moved its series: keep the done one as history.
        for key, record in records.items():
            if key.split("@")[0] == rule.id and key not in known and record.on is not None:
                slots.append(
                    _Slot(key, rule.label.replace(" des {age} ans", ""), record.on, record.on, "")
                )
        for slot in slots:
            status, done_on, plan = _status_of(
                slot.key, slot.start, slot.end, today, records, planned
            )
            relevant = slot.start < horizon and (slot.end is None or slot.end > since)
            if status is ItemStatus.DONE and done_on is not None:
                relevant = relevant or done_on >= since
            if not relevant:
                continue
            items.append(
                PreventionItem(
                    key=slot.key,
                    rule_id=rule.id,
                    rule_version=rs.version,
                    type=rule.type,
                    type_label=rs.types[rule.type],
                    label=slot.label,
                    mandatory=rule.level == OBLIGATOIRE,
                    window_start=slot.start,
                    window_end=slot.end,
                    status=status,
                    overdue=False,
                    done_on=done_on,
                    planned=plan,
                    reason=rule.reason,
                    sources=tuple(rs.source(k) for k in rule.source),
                )
            )

    for vac in vaccination_status(
        birth_date,
        sex,
        today,
        list(vaccinations),
        conditions=conds,
        pregnancy_start=pregnancy_start,
        calendar=cal,
    ):
        if not personalised and not vac.mandatory:
            continue
        item = _vaccination_item(vac, cal, today, records, planned)
        if item.window_start >= horizon and item.status is not ItemStatus.DONE:
            continue
        if item.status is ItemStatus.DONE and (item.done_on or today) < since:
            continue
        items.append(item)
    return sorted(items, key=lambda i: (i.done_on or i.window_start, i.key))


def reason_text(item: PreventionItem, *, first_name: str = "") -> str:
    """Why the item is shown, in plain French (décret n° 2024-468: each suggestion says why).

    first_name: the child's (or represented person's) first name; empty for one's own agenda.
    """
    whose = f"de {first_name}" if first_name else "votre"
    basis = [f"la date de naissance {whose}" if first_name else "votre date de naissance"]
    if item.rule_id.startswith(("DEPISTAGE_SEIN", "DEPISTAGE_COL")):
        basis.append("le sexe indiqué dans le profil")
    if item.is_vaccination:
        basis.append("le carnet de vaccination")
    return f"Proposé d'après {' et '.join(basis)} : {item.reason[:1].lower()}{item.reason[1:]}."
