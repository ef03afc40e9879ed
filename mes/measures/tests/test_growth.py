"""The reference growth curves: the LMS tables give back the WHO's own published values."""

from __future__ import annotations

from datetime import date

import pytest

from mes.measures import growth
from mes.measures.profiles import MeasureCode

W, H, C, B = (
    MeasureCode.WEIGHT,
    MeasureCode.HEIGHT,
    MeasureCode.HEAD_CIRCUMFERENCE,
    MeasureCode.BODY_MASS_INDEX,
)


# (measure, sex, month, -2 SD, +2 SD) as printed in the WHO tables (the SD2neg and SD2 columns).
WHO_PRINTED = [
    (W, "M", 12, 7.7, 12.0),
    (W, "F", 36, 10.8, 18.1),
    (W, "M", 120, 23.206, 45.038),
    (H, "M", 18, 76.9, 87.7),
    (H, "F", 48, 94.1, 111.3),
    (H, "M", 120, 125.032, 150.527),
    (H, "F", 180, 147.911, 175.427),
    (C, "M", 6, 40.9, 45.8),
    (C, "F", 24, 44.4, 50.0),
    (B, "F", 48, 12.8, 18.5),
    (B, "M", 144, 14.453, 23.581),
    (B, "F", 180, 15.871, 28.224),
]


@pytest.mark.parametrize(("code", "sex", "month", "low", "high"), WHO_PRINTED)
def test_lms_rows_give_back_the_published_z_scores(code, sex, month, low, high):
    table = growth.table(code, sex)
    assert table is not None
    decimals = 1 if low == round(low, 1) and high == round(high, 1) else 2
    assert round(table.value_at(month, -2), decimals) == pytest.approx(low, abs=0.051)
    assert round(table.value_at(month, 2), decimals) == pytest.approx(high, abs=0.051)


def test_the_median_is_m_and_z_score_inverts_the_curve():
    table = growth.table(H, "M")
    assert table.value_at(60, 0) == pytest.approx(109.9638)
    assert table.z_score(60, table.value_at(60, 1.5)) == pytest.approx(1.5)
    # Between two rows, the parameters are interpolated: the curve stays between its neighbours.
    assert table.value_at(24, 0) < table.value_at(25.5, 0) < table.value_at(27, 0)


def test_ranges_of_the_tables():
    assert growth.table(C, "F").last_month == 60
    assert growth.table(W, "F").last_month == 120
    assert growth.table(H, "F").last_month == 228
    assert growth.table(W, "M").value_at(130, 0) is None
    assert growth.table(W, "I") is None and growth.table(MeasureCode.GLUCOSE, "M") is None


def test_every_file_names_its_source():
    for code in (W, H, C, B):
        for sex in ("M", "F"):
            assert growth.table(code, sex).source.startswith("Organisation mondiale de la santé")


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2020, 5, 17), "moins d'un mois"),
        (date(2020, 10, 20), "5 mois"),
        (date(2021, 5, 17), "1 an"),
        (date(2026, 7, 16), "6 ans et 1 mois"),
        (date(2026, 7, 17), "6 ans et 2 mois"),
    ],
)
def test_age_label(day, label):
    assert growth.age_label(date(2020, 5, 17), day) == label
