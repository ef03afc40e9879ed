"""A day of continuous glucose readings, reproducible (the same day gives the same values)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
# One reading every 30 minutes: 48 values a day (sensors read every 5 to 15 minutes; a companion
# app sends a summary rate to the health record).
STEP = timedelta(minutes=30)
# Meals at 7:30, 12:30 and 19:30, each followed by a rise peaking about an hour later.
MEALS = (time(7, 30), time(12, 30), time(19, 30))
LOW, HIGH = 70, 180  # the target range of the international consensus on time in range (mg/dL)


@dataclass(frozen=True)
class Reading:
    at: datetime  # aware, Europe/Paris
    mg_dl: int


def _meal_rise(minutes_after: float) -> float:
    if minutes_after < 0 or minutes_after > 240:
        return 0.0
    return 85 * (minutes_after / 60) * math.exp(1 - minutes_after / 60)


def day_of_readings(day: date) -> list[Reading]:
    """48 readings of `day`, from 00:00 to 23:30, between 40 and 400 mg/dL."""
    rng = random.Random(day.toordinal())  # noqa: S311 - sample data, not a secret
    start = datetime.combine(day, time(0, 0), PARIS)
    readings = []
    for i in range(24 * 60 // (STEP.seconds // 60)):
        at = start + i * STEP
        base = 105 + 12 * math.sin((at.hour + at.minute / 60 - 4) / 24 * 2 * math.pi)
        rise = sum(
            _meal_rise((at - datetime.combine(day, meal, PARIS)).total_seconds() / 60)
            for meal in MEALS
        )
        value = round(base + rise + rng.gauss(0, 8))
        readings.append(Reading(at=at, mg_dl=max(40, min(400, value))))
    return readings


@dataclass(frozen=True)
class Summary:
    mean: float
    gmi: float  # glucose management indicator, % (Bergenstal 2018: 3.31 + 0.02392 × mean mg/dL)
    in_range: float  # share of readings in 70–180 mg/dL
    below: float
    above: float


def summarise(readings: list[Reading]) -> Summary:
    values = [r.mg_dl for r in readings]
    n = len(values)
    mean = sum(values) / n
    return Summary(
        mean=mean,
        gmi=3.31 + 0.02392 * mean,
        in_range=sum(LOW <= v <= HIGH for v in values) / n,
        below=sum(v < LOW for v in values) / n,
        above=sum(v > HIGH for v in values) / n,
    )
