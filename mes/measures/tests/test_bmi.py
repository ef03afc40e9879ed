"""The BMI: computed from each weight and the height of its time, never stored; adult bands."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mes.measures import bmi, profiles

PARIS = ZoneInfo("Europe/Paris")
D = Decimal


def at(y, m, d):
    return datetime(y, m, d, 9, 0, tzinfo=PARIS)


def test_compute_rounds_half_up_to_one_decimal():
    assert bmi.compute(D(84), D(165)) == D("30.9")  # Louise at diagnosis: 30,85 → 30,9
    assert bmi.compute(D("21"), D("117")) == D("15.3")  # Léo at 6: 15,34


def test_each_weight_takes_the_latest_height_on_or_before_it():
    heights = [bmi.Sample(at(2024, 1, 1), D(100)), bmi.Sample(at(2025, 1, 1), D(110))]
    weights = [
        bmi.Sample(at(2024, 6, 1), D(16)),
        bmi.Sample(at(2025, 1, 1), D(18)),  # same moment as a height: that height applies
        bmi.Sample(at(2023, 6, 1), D(14)),  # a child's weight before any height: no BMI
    ]
    points = bmi.series(weights, heights, date(2020, 5, 17))
    assert [(p.at, p.value, p.height) for p in points] == [
        (at(2024, 6, 1), D(16), D(100)),
        (at(2025, 1, 1), D("14.9"), D(110)),
    ]


def test_an_adult_weight_before_any_height_takes_the_first_adult_height():
    heights = [bmi.Sample(at(2025, 3, 1), D(165))]
    weights = [bmi.Sample(at(2024, 3, 1), D(84)), bmi.Sample(at(2026, 1, 1), D(77))]
    points = bmi.series(weights, heights, date(1981, 3, 12))
    assert [p.value for p in points] == [D("30.9"), D("28.3")]


def test_no_height_no_bmi():
    assert bmi.series([bmi.Sample(at(2025, 1, 1), D(70))], [], date(1980, 1, 1)) == []


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("15.9", "Dénutrition"),
        ("16.5", "Maigreur"),
        ("18.4", "Maigreur"),
        ("18.5", "Corpulence normale"),
        ("24.9", "Corpulence normale"),
        ("25", "Surpoids"),
        ("30", "Obésité modérée"),
        ("35", "Obésité sévère"),
        ("39.9", "Obésité sévère"),
        ("40", "Obésité massive"),
        ("52", "Obésité massive"),
    ],
)
def test_adult_bands(value, label):
    assert profiles.bmi_band(D(value)).label == label


def test_bands_are_for_adults_only():
    point = bmi.series(
        [bmi.Sample(at(2026, 1, 1), D(21))], [bmi.Sample(at(2026, 1, 1), D(117))], date(2020, 5, 17)
    )[0]
    assert bmi.band_for(point, date(2020, 5, 17)) is None
    # The same 15,3 kg/m² would read as « dénutrition » for an adult.
    assert bmi.band_for(point, date(1990, 1, 1)).label == "Dénutrition"


def test_band_ranges_read_in_french():
    ranges = [profiles.bmi_band_range(b) for b in profiles.BMI_BANDS]
    assert ranges[0] == "moins de 16,5"
    assert ranges[2] == "de 18,5 à moins de 25"
    assert ranges[-1] == "40 ou plus"
