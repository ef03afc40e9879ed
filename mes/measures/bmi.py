"""The BMI is computed, never entered nor stored (mes-spec §9: « Bmi observation cannot be
created »): one value per weight, with the height that applied on that day.

A selector over rows the caller was already allowed to read.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from . import profiles
from .profiles import ADULT_AGE, BmiBand


@dataclass(frozen=True)
class Sample:
    at: datetime
    value: Decimal


@dataclass(frozen=True)
class BmiPoint:
    at: datetime
    value: Decimal  # kg/m², one decimal
    weight: Decimal  # kg
    height: Decimal  # cm
    height_at: datetime


def compute(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """kg / m², rounded half up to one decimal."""
    metres = height_cm / Decimal(100)
    return (weight_kg / (metres * metres)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def series(weights: list[Sample], heights: list[Sample], birth_date: date) -> list[BmiPoint]:
    """One BMI per weight, oldest first.

    Each weight takes the latest height measured on or before it. An adult's height does not
    change, so an adult weight with no earlier height takes the first height measured as an
    adult after it; a child's never does (they grow: no BMI without a height of the time).
    """
    hs = sorted(heights, key=lambda s: s.at)
    keys = [h.at for h in hs]
    adult_heights = [h for h in hs if _age_on(birth_date, _day(h.at)) >= ADULT_AGE]
    out: list[BmiPoint] = []
    for w in sorted(weights, key=lambda s: s.at):
        i = bisect.bisect_right(keys, w.at)
        height = hs[i - 1] if i else None
        if height is None and _age_on(birth_date, _day(w.at)) >= ADULT_AGE and adult_heights:
            height = adult_heights[0]
        if height is None or height.value <= 0:
            continue
        out.append(BmiPoint(w.at, compute(w.value, height.value), w.value, height.value, height.at))
    return out


def _day(at: datetime) -> date:
    return timezone.localtime(at).date() if timezone.is_aware(at) else at.date()


def band_for(point: BmiPoint, birth_date: date) -> BmiBand | None:
    """The adult band of this BMI, or None for a child (read on the corpulence curves)."""
    if _age_on(birth_date, _day(point.at)) < ADULT_AGE:
        return None
    return profiles.bmi_band(point.value)
