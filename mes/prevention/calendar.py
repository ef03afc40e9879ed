"""The official vaccination calendar as an engine (spec/prevention.md §1 and §7).

`vaccination_status(birth_date, sex, today, done)` answers, for one person, which vaccinations
of the calendar are done, to do, late or to come, with their due date or window, by matching
the doses already recorded to the rules by valence (the diseases a vaccine protects against).

The rules are data: `data/vaccination_calendar_2025.toml`, versioned, each rule with its source.
This module is pure (no models, no HTTP): the carnet de vaccination, the synthesis PDF and a
later agenda all call it with plain values.
"""

from __future__ import annotations

import calendar as _calendar
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_CALENDAR = DATA_DIR / "vaccination_calendar_2025.toml"

OBLIGATOIRE, RECOMMANDE = "obligatoire", "recommande"
SEQUENCE, ALTERNATIVES = "sequence", "alternatives"
ANCHOR_BIRTH, ANCHOR_PREGNANCY = "naissance", "grossesse"
LIFELONG = "lifelong"
# A pregnancy lasts at most 42 weeks of amenorrhoea: after that the « grossesse » condition ends.
PREGNANCY_LENGTH = timedelta(weeks=42)


class Status(StrEnum):
    DONE = "fait"
    TO_DO = "à faire"
    OVERDUE = "en retard"
    UPCOMING = "à venir"


class CalendarError(ValueError):
    """The calendar data file is malformed."""


# --- durations ---------------------------------------------------------------------------------

_SPAN = re.compile(r"^(\d+)([dwmy])$")
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, order=True)
class Span:
    """An age or a delay: calendar months plus days (weeks are 7 days, years 12 months)."""

    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Span:
        m = _SPAN.match(text.strip())
        if not m:
            raise CalendarError(f"durée illisible : {text!r}")
        n, unit = int(m.group(1)), m.group(2)
        if unit == "d":
            return cls(days=n)
        if unit == "w":
            return cls(days=7 * n)
        if unit == "m":
            return cls(months=n)
        return cls(months=12 * n)

    def __add__(self, other: Span) -> Span:
        return Span(self.months + other.months, self.days + other.days)

    def __sub__(self, other: Span) -> Span:
        return Span(self.months - other.months, self.days - other.days)

    def half(self) -> Span:
        return Span(self.months // 2, self.days // 2)

    def after(self, day: date) -> date:
        """day + this span: months first (the day clamped to the month's length), then days."""
        # Hot path of the reminder sweep (hundreds of thousands of calls a day): a table of
        # month lengths instead of calendar.monthrange.
        if self.months:
            year, month = divmod(day.year * 12 + day.month - 1 + self.months, 12)
            last = _MONTH_DAYS[month] + (month == 1 and _calendar.isleap(year))
            day = date(year, month + 1, min(day.day, last))
        return day + timedelta(days=self.days) if self.days else day

    def before(self, day: date) -> date:
        """day - this span (the inverse of `after`)."""
        return Span(-self.months, -self.days).after(day)

    @property
    def years(self) -> int:
        return self.months // 12


def _span(value: Any) -> Span | None:
    return None if value is None else Span.parse(str(value))


# --- the calendar data -------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str  # « S:16 », the source list of spec/prevention.md
    label: str


@dataclass(frozen=True)
class DoseSpec:
    label: str  # « 1re dose », « Rappel »
    age: str  # « à 2 mois », « entre 11 et 14 ans »
    start: Span | None = None  # window [start, end) from the anchor (birth or pregnancy)
    end: Span | None = None
    after: Span | None = None  # earliest, after the previous dose of the rule
    due: Span | None = None  # recommended, after the previous dose (default: after)
    until: Span | None = None  # end of the window, after the previous dose
    counts_from: Span | None = None  # earliest age at which a recorded dose counts
    min_interval: Span | None = None  # least delay after the previous dose

    @property
    def relative(self) -> bool:
        return self.start is None


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    valences: frozenset[str]
    level: str
    group: str
    reason: str
    source: tuple[str, ...]
    doses: tuple[DoseSpec, ...] = ()
    note: str = ""
    sex: str = "any"
    born_from: date | None = None
    born_until: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    conditions: tuple[str, ...] = ()
    presumed_if_dose_within: Span | None = None
    catch_up_until: Span | None = None
    catch_up_lifelong: bool = False
    campaign: str | None = None
    age_min: Span | None = None
    age_max: Span | None = None
    min_interval: Span | None = None  # seasonal: least delay after the last dose
    once: bool = False
    immunisation: bool = False  # an antibody, not a vaccine (nirsévimab)
    anchor: str = ANCHOR_BIRTH
    instance: str = ""  # « 75 ans » for the repeats of a rule (dTP every 10 years)

    @property
    def mandatory(self) -> bool:
        return self.level == OBLIGATOIRE

    @property
    def seasonal(self) -> bool:
        return self.campaign is not None and not self.doses


@dataclass(frozen=True)
class Season:
    year: int
    start: date
    end: date  # inclusive, as announced (« jusqu'au 31 janvier »)
    counts_from: date


@dataclass(frozen=True)
class Campaign:
    key: str
    label: str
    start: tuple[int, int]
    end: tuple[int, int]
    counts_from: tuple[int, int]
    overrides: dict[int, tuple[date, date]] = field(default_factory=dict)
    source: tuple[str, ...] = ()

    def season(self, year: int) -> Season:
        start = date(year, *self.start)
        end_year = year + 1 if self.end < self.start else year
        end = date(end_year, *self.end)
        if year in self.overrides:
            start, end = self.overrides[year]
        counts_year = year - 1 if self.counts_from > self.start else year
        return Season(year, start, end, date(counts_year, *self.counts_from))

    def current_or_next(self, today: date) -> Season:
        """The season still open on `today`, or the next one to open."""
        for year in (today.year - 1, today.year, today.year + 1):
            season = self.season(year)
            if today <= season.end:
                return season
        return self.season(today.year + 1)  # pragma: no cover - the loop always returns

    def seasons_around(self, day: date) -> list[Season]:
        return [self.season(y) for y in (day.year - 1, day.year, day.year + 1)]


@dataclass(frozen=True)
class Calendar:
    version: str
    title: str
    valences: dict[str, str]
    conditions: dict[str, str]
    sources: dict[str, str]
    campaigns: dict[str, Campaign]
    group_modes: dict[str, str]
    rules: tuple[Rule, ...]

    def valence_label(self, code: str) -> str:
        return self.valences.get(code, code)

    def source(self, key: str) -> Source:
        return Source(key, self.sources.get(key, key))

    def groups(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for rule in self.rules:
            out.setdefault(rule.group, []).append(rule)
        return out


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(x) for x in str(text).split("-"))
    return month, day


def _dose(raw: dict[str, Any]) -> DoseSpec:
    return DoseSpec(
        label=raw["label"],
        age=raw.get("age", ""),
        start=_span(raw.get("from")),
        end=_span(raw.get("to")),
        after=_span(raw.get("after")),
        due=_span(raw.get("due")),
        until=_span(raw.get("until")),
        counts_from=_span(raw.get("counts_from")),
        min_interval=_span(raw.get("min_interval")),
    )


def _repeats(rule: Rule, every: Span, until: Span) -> list[Rule]:
    """dTP at 65 « puis tous les 10 ans »: one rule per booster age, each due until the next."""
    first = rule.doses[0]
    assert first.start is not None and first.end is not None
    length = first.end - first.start
    out = []
    age = first.start
    while age < until:
        label = f"à {age.years} ans"
        dose = replace(
            first, start=age, end=age + length, counts_from=age - every.half(), age=label
        )
        out.append(
            replace(
                rule,
                doses=(dose,),
                catch_up_until=age + every,
                instance=str(age.years),
            )
        )
        age = age + every
    return out


def _rule(raw: dict[str, Any], known: dict[str, dict[str, str]]) -> list[Rule]:
    rid = raw.get("id", "?")
    unknown = set(raw.get("valences", ())) - set(known["valences"])
    unknown |= set(raw.get("conditions", ())) - set(known["conditions"])
    unknown |= set(raw.get("source", ())) - set(known["sources"])
    if unknown:
        raise CalendarError(f"règle {rid} : codes inconnus {sorted(unknown)}")
    if raw.get("level") not in (OBLIGATOIRE, RECOMMANDE):
        raise CalendarError(f"règle {rid} : niveau inconnu {raw.get('level')!r}")
    catch_up = raw.get("catch_up_until")
    doses = tuple(_dose(d) for d in raw.get("doses", ()))
    if doses and doses[0].relative:
        raise CalendarError(f"règle {rid} : la première dose doit être placée par un âge")
    if not doses and "campaign" not in raw:
        raise CalendarError(f"règle {rid} : ni doses ni campagne")
    rule = Rule(
        id=rid,
        label=raw["label"],
        valences=frozenset(raw["valences"]),
        level=raw["level"],
        group=raw.get("group", rid),
        reason=raw.get("reason", ""),
        source=tuple(raw.get("source", ())),
        doses=doses,
        note=raw.get("note", ""),
        sex=raw.get("sex", "any"),
        born_from=raw.get("born_from"),
        born_until=raw.get("born_until"),
        valid_from=raw.get("valid_from"),
        valid_to=raw.get("valid_to"),
        conditions=tuple(raw.get("conditions", ())),
        presumed_if_dose_within=_span(raw.get("presumed_if_dose_within")),
        catch_up_until=None if catch_up in (None, LIFELONG) else Span.parse(catch_up),
        catch_up_lifelong=catch_up == LIFELONG,
        campaign=raw.get("campaign"),
        age_min=_span(raw.get("age_min")),
        age_max=_span(raw.get("age_max")),
        min_interval=_span(raw.get("min_interval")),
        once=bool(raw.get("once", False)),
        immunisation=bool(raw.get("immunisation", False)),
        anchor=raw.get("anchor", ANCHOR_BIRTH),
    )
    if "every" in raw:
        return _repeats(rule, Span.parse(raw["every"]), Span.parse(raw["until"]))
    return [rule]


def load_calendar(path: Path) -> Calendar:
    """Read and check a calendar data file (unknown codes and shapes are refused)."""
    with path.open("rb") as f:
        raw = tomllib.load(f)
    known = {k: raw.get(k, {}) for k in ("valences", "conditions", "sources")}
    campaigns = {
        key: Campaign(
            key=key,
            label=c["label"],
            start=_month_day(c["start"]),
            end=_month_day(c["end"]),
            counts_from=_month_day(c["counts_from"]),
            overrides={s["year"]: (s["start"], s["end"]) for s in c.get("seasons", ())},
            source=tuple(c.get("source", ())),
        )
        for key, c in raw.get("campaigns", {}).items()
    }
    rules: list[Rule] = []
    for r in raw.get("rules", ()):
        rules.extend(_rule(r, known))
        if r.get("campaign") and r["campaign"] not in campaigns:
            raise CalendarError(f"règle {r['id']} : campagne inconnue {r['campaign']!r}")
    ids = [(r.id, r.instance) for r in rules]
    if len(ids) != len(set(ids)):
        raise CalendarError("identifiants de règles en double")
    return Calendar(
        version=str(raw["version"]),
        title=raw["title"],
        valences=dict(known["valences"]),
        conditions=dict(known["conditions"]),
        sources=dict(known["sources"]),
        campaigns=campaigns,
        group_modes=dict(raw.get("groups", {})),
        rules=tuple(rules),
    )


@cache
def default_calendar() -> Calendar:
    return load_calendar(DEFAULT_CALENDAR)


# --- the engine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoneVaccination:
    """A dose already given: its date and the valences (diseases) it covers."""

    date: date
    valences: frozenset[str]
    ref: object = None  # the caller's identifier of the record, given back on the item


@dataclass(frozen=True)
class CalendarItem:
    key: str  # unique in one answer: rule, instance, dose or season
    rule_id: str
    calendar_version: str
    label: str
    dose_label: str
    dose_number: int | None  # None for a seasonal dose
    doses_in_rule: int
    valences: tuple[str, ...]
    diseases: tuple[str, ...]
    mandatory: bool
    immunisation: bool
    status: Status
    age_label: str
    due_date: date | None
    window_start: date | None
    window_end: date | None  # exclusive
    catch_up_until: date | None  # exclusive; None: no end (or no catch-up when overdue is moot)
    done_on: date | None
    done_ref: object
    reason: str
    note: str
    sources: tuple[Source, ...]
    campaign: str = ""

    @property
    def level_label(self) -> str:
        return "Vaccination obligatoire" if self.mandatory else "Vaccination recommandée"

    @property
    def pending(self) -> bool:
        return self.status is not Status.DONE


@dataclass
class _Person:
    birth_date: date
    sex: str
    today: date
    conditions: frozenset[str]
    pregnancy_start: date | None
    done: list[DoneVaccination]

    def origin(self, rule: Rule) -> date | None:
        return self.pregnancy_start if rule.anchor == ANCHOR_PREGNANCY else self.birth_date

    def at(self, span: Span, origin: date | None = None) -> date:
        return span.after(origin or self.birth_date)


def _clamp(day: date, low: date | None, high: date | None) -> date:
    if high is not None and day > high:
        day = high
    if low is not None and day < low:
        day = low
    return day


def _valid(rule: Rule, ref: date) -> bool:
    if rule.valid_from is not None and ref < rule.valid_from:
        return False
    return not (rule.valid_to is not None and ref > rule.valid_to)


def _matching(rule: Rule, person: _Person) -> list[tuple[int, DoneVaccination]]:
    return [(i, d) for i, d in enumerate(person.done) if rule.valences <= d.valences]


def _conditions_met(rule: Rule, person: _Person, before: date) -> bool:
    if not rule.conditions:
        return True
    if person.conditions & set(rule.conditions):
        return True
    if rule.presumed_if_dose_within is not None:
        # A dose shortly before (e.g. last season's flu vaccine) shows the person is in the group.
        since = rule.presumed_if_dose_within.before(before)
        return any(since <= d.date <= before for _, d in _matching(rule, person))
    return False


def _fits(rule: Rule, person: _Person) -> bool:
    """Sex, cohort and anchor: what does not depend on the date the item is considered."""
    if rule.sex != "any" and rule.sex != person.sex:
        return False
    if rule.born_from is not None and person.birth_date < rule.born_from:
        return False
    if rule.born_until is not None and person.birth_date > rule.born_until:
        return False
    return not (rule.anchor == ANCHOR_PREGNANCY and person.pregnancy_start is None)


def _rule_span(rule: Rule, person: _Person) -> tuple[date, date | None]:
    """When the rule's items are actionable: from the first window to the end of catch-up."""
    origin = person.origin(rule)
    assert origin is not None and rule.doses[0].start is not None
    start = person.at(rule.doses[0].start, origin)
    if rule.catch_up_lifelong:
        return start, None
    if rule.catch_up_until is not None:
        return start, person.at(rule.catch_up_until, origin)
    ends = [d.end for d in rule.doses if d.end is not None]
    if not ends or any(d.start is not None and d.end is None for d in rule.doses):
        return start, None
    return start, person.at(max(ends), origin)


def _applies(rule: Rule, person: _Person) -> bool:
    if not _fits(rule, person):
        return False
    start, end = _rule_span(rule, person)
    ref = _clamp(person.today, start, end)
    return _valid(rule, ref) and _conditions_met(rule, person, ref)


def _first_dose_bounds(rule: Rule, person: _Person) -> tuple[date, date | None]:
    origin = person.origin(rule)
    first = rule.doses[0]
    assert origin is not None and first.start is not None
    low = person.at(first.counts_from or first.start, origin)
    return low, (person.at(first.end, origin) if first.end is not None else None)


def _choose(rules: Sequence[Rule], person: _Person) -> Rule | None:
    """Alternatives: the scheme the person started, else the first one still open to them."""
    candidates = [r for r in rules if _applies(r, person)]
    for rule in candidates:
        low, high = _first_dose_bounds(rule, person)
        if any(
            low <= d.date and (high is None or d.date < high) for _, d in _matching(rule, person)
        ):
            return rule
    for rule in candidates:
        _, high = _first_dose_bounds(rule, person)
        if high is None or person.today < high:
            return rule
    return None


def _item(
    rule: Rule,
    calendar: Calendar,
    *,
    key: str,
    dose_label: str,
    dose_number: int | None,
    status: Status,
    age_label: str,
    due: date | None,
    start: date | None,
    end: date | None,
    catch_up: date | None,
    done: DoneVaccination | None,
) -> CalendarItem:
    valences = tuple(sorted(rule.valences, key=list(calendar.valences).index))
    return CalendarItem(
        key=key,
        rule_id=rule.id,
        calendar_version=calendar.version,
        label=rule.label,
        dose_label=dose_label,
        dose_number=dose_number,
        doses_in_rule=len(rule.doses),
        valences=valences,
        diseases=tuple(calendar.valence_label(v) for v in valences),
        mandatory=rule.mandatory,
        immunisation=rule.immunisation,
        status=status,
        age_label=age_label,
        due_date=due,
        window_start=start,
        window_end=end,
        catch_up_until=catch_up,
        done_on=done.date if done else None,
        done_ref=done.ref if done else None,
        reason=rule.reason,
        note=rule.note,
        sources=tuple(calendar.source(k) for k in rule.source),
        campaign=rule.campaign or "",
    )


def _campaign_window(
    rule: Rule, calendar: Calendar, start: date, end: date | None
) -> tuple[date, date | None] | None:
    """A pregnancy window cut to the campaign season it falls in (VRS: September to January)."""
    if rule.campaign is None:
        return start, end
    campaign = calendar.campaigns[rule.campaign]
    for season in campaign.seasons_around(start):
        s = max(start, season.start)
        e = min(end, season.end + timedelta(days=1)) if end else season.end + timedelta(days=1)
        if s < e:
            return s, e
    return None


def _evaluate_doses(
    rule: Rule, calendar: Calendar, person: _Person, used: set[int]
) -> list[CalendarItem]:
    origin = person.origin(rule)
    assert origin is not None
    today = person.today
    _, rule_end = _rule_span(rule, person)
    catch_up_end: date | None = None
    if rule.catch_up_until is not None:
        catch_up_end = person.at(rule.catch_up_until, origin)
    matching = _matching(rule, person)
    items: list[CalendarItem] = []
    prev_date: date | None = None  # the previous dose: given, or else its due date
    prev_given = True
    prev_omitted = False
    instance = f"@{rule.instance}" if rule.instance else ""
    for n, dose in enumerate(rule.doses, start=1):
        key = f"{rule.id}{instance}#{n}"
        # Which recorded dose counts: the earliest one not yet counted in this group, after the
        # previous dose, inside the ages at which this dose may have been given.
        if dose.relative:
            low = prev_date if prev_given else None
        else:
            assert dose.start is not None
            low = person.at(dose.counts_from or dose.start, origin)
        # A dose placed after the previous one may fall after the window of the first.
        high = None if dose.relative else rule_end
        found = None
        for i, d in sorted(matching, key=lambda m: m[1].date):
            if i in used or (low is not None and d.date < low):
                continue
            if prev_given and prev_date is not None and d.date <= prev_date:
                continue
            if high is not None and d.date >= high:
                continue
            if dose.relative and not prev_given:
                continue
            found = (i, d)
            break
        if found is not None:
            used.add(found[0])
            d = found[1]
            items.append(
                _item(
                    rule,
                    calendar,
                    key=key,
                    dose_label=dose.label,
                    dose_number=n,
                    status=Status.DONE,
                    age_label=dose.age,
                    due=None,
                    start=None,
                    end=None,
                    catch_up=None,
                    done=d,
                )
            )
            prev_date, prev_given, prev_omitted = d.date, True, False
            continue

        # Not done: place its window.
        if dose.relative:
            if prev_omitted or prev_date is None:
                prev_omitted = True
                continue
            assert dose.after is not None
            # After a dose not yet given, the next one is placed from today at the earliest.
            base = prev_date if prev_given else max(prev_date, today)
            start = dose.after.after(base)
            due = (dose.due or dose.after).after(base)
            end = dose.until.after(base) if dose.until else None
        else:
            assert dose.start is not None
            start = person.at(dose.start, origin)
            end = person.at(dose.end, origin) if dose.end else None
            if prev_given and prev_date is not None and dose.min_interval is not None:
                earliest = dose.min_interval.after(prev_date)
                if earliest > start:
                    if end is not None:
                        end = earliest + (end - start)
                    start = earliest
            due = start
            window = _campaign_window(rule, calendar, start, end)
            if window is None:
                prev_omitted = True
                continue
            start, end = window
            due = max(due, start)

        if (dose.relative and not prev_given) or today < start:
            status = Status.UPCOMING
        elif end is None or today < end:
            status = Status.TO_DO
        elif rule.catch_up_lifelong or (catch_up_end is not None and today < catch_up_end):
            status = Status.OVERDUE
        else:
            # Past its window and its catch-up: the calendar no longer proposes it.
            prev_date, prev_given, prev_omitted = due, False, True
            continue
        items.append(
            _item(
                rule,
                calendar,
                key=key,
                dose_label=dose.label,
                dose_number=n,
                status=status,
                age_label=dose.age,
                due=due,
                start=start,
                end=end,
                catch_up=None if rule.catch_up_lifelong else catch_up_end,
                done=None,
            )
        )
        prev_date, prev_given, prev_omitted = due, False, False
    return items


def _seasonal_applies(rule: Rule, person: _Person, season: Season) -> bool:
    if not _fits(rule, person):
        return False
    # The person reaches the minimal age during the campaign, or is under the maximal age
    # when it opens.
    if rule.age_min is not None and person.at(rule.age_min) > season.end:
        return False
    if rule.age_max is not None and person.at(rule.age_max) <= season.start:
        return False
    ref = _clamp(person.today, season.start, season.end)
    return _valid(rule, ref) and _conditions_met(rule, person, season.end)


def _season_label(campaign: Campaign, season: Season) -> str:
    if season.end.year > season.start.year:
        return f"Saison {season.start.year}-{season.end.year}"
    return f"Saison {season.start.year}"


def _evaluate_season(rule: Rule, calendar: Calendar, person: _Person) -> CalendarItem:
    assert rule.campaign is not None
    campaign = calendar.campaigns[rule.campaign]
    season = campaign.current_or_next(person.today)
    matching = sorted((d for _, d in _matching(rule, person)), key=lambda d: d.date)
    label = _season_label(campaign, season)
    common: dict[str, Any] = {
        "key": f"{rule.id}@{season.year}",
        "dose_label": "Dose unique" if rule.once else label,
        "dose_number": None,
        "age_label": campaign.label,
        "catch_up": None,
    }
    done = None
    if rule.once:
        done = matching[0] if matching else None
    else:
        done = next((d for d in matching if season.counts_from <= d.date <= season.end), None)
    if done is not None:
        return _item(
            rule,
            calendar,
            status=Status.DONE,
            due=None,
            start=None,
            end=None,
            done=done,
            **common,
        )
    due = max(season.start, person.birth_date)
    if rule.age_min is not None:
        due = max(due, person.at(rule.age_min))
    if rule.min_interval is not None and matching:
        due = max(due, rule.min_interval.after(matching[-1].date))
    status = Status.UPCOMING if person.today < due else Status.TO_DO
    return _item(
        rule,
        calendar,
        status=status,
        due=due,
        start=season.start,
        end=season.end + timedelta(days=1),
        done=None,
        **common,
    )


def _seasonal_group(rules: Sequence[Rule], calendar: Calendar, person: _Person) -> list[Rule]:
    campaign = calendar.campaigns[rules[0].campaign or ""]
    season = campaign.current_or_next(person.today)
    return [r for r in rules if _seasonal_applies(r, person, season)]


def vaccination_status(
    birth_date: date,
    sex: str,
    today: date,
    done: Iterable[DoneVaccination],
    *,
    conditions: Iterable[str] = (),
    pregnancy_start: date | None = None,
    calendar: Calendar | None = None,
) -> list[CalendarItem]:
    """Every vaccination of the calendar that concerns this person, with its status.

    sex: « F », « M » (anything else matches only the rules for everyone). conditions: the
    situations of [conditions] the caller knows (maladie_chronique, immunodepression…);
    pregnancy_start: the first day of amenorrhoea of a pregnancy in progress. Items past their
    window and catch-up and never done are left out; done doses are matched by valence, each
    counted once per group of rules. Sorted by due date (done ones by their date).
    """
    cal = calendar or default_calendar()
    conds = frozenset(conditions)
    if pregnancy_start is not None and pregnancy_start <= today < (
        pregnancy_start + PREGNANCY_LENGTH
    ):
        conds |= {"grossesse"}
    elif pregnancy_start is not None:
        pregnancy_start = None
    person = _Person(
        birth_date=birth_date,
        sex=sex,
        today=today,
        conditions=conds,
        pregnancy_start=pregnancy_start,
        done=sorted(done, key=lambda d: d.date),
    )
    items: list[CalendarItem] = []
    for group, rules in cal.groups().items():
        mode = cal.group_modes.get(group, SEQUENCE)
        if rules[0].seasonal:
            chosen = _seasonal_group(rules, cal, person)
            if chosen:
                items.append(_evaluate_season(chosen[0], cal, person))
            continue
        used: set[int] = set()
        if mode == ALTERNATIVES:
            rule = _choose(rules, person)
            if rule is not None:
                items.extend(_evaluate_doses(rule, cal, person, used))
            continue
        for rule in rules:
            if _applies(rule, person):
                items.extend(_evaluate_doses(rule, cal, person, used))
    return sorted(items, key=lambda it: (it.done_on or it.due_date or today, it.key))
