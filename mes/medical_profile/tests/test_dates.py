"""Partial dates: year required, a day needs a month, after the birth date, never in the future."""

from __future__ import annotations

from datetime import date

import pytest

from mes.lib.errors import InvalidInput
from mes.medical_profile.dates import DateParts, PartialDate, check_period, columns, resolve

BIRTH = date(1985, 5, 14)
TODAY = date(2026, 3, 10)


def _resolve(parts, required=True):
    return resolve(
        parts,
        label="Date de début",
        prefix="start",
        birth_date=BIRTH,
        today=TODAY,
        required=required,
    )


def test_the_year_alone_is_enough_and_shows_alone():
    d = _resolve(DateParts(year=2020))
    assert d == PartialDate(2020) and d.display() == "2020"


def test_month_and_day_are_shown_as_precise_as_given():
    assert _resolve(DateParts(2020, 3)).display() == "mars 2020"
    assert _resolve(DateParts(2020, 3, 7)).display() == "07/03/2020"


@pytest.mark.parametrize(
    ("parts", "field", "message"),
    [
        (DateParts(), "start_year", "Saisissez au moins l'année"),
        (DateParts(month=3), "start_year", "Saisissez au moins l'année"),
        (DateParts(20), "start_year", "4 chiffres"),
        (DateParts(2020, 13), "start_month", "entre 1 et 12"),
        (DateParts(2020, None, 4), "start_month", "avant le jour"),
        (DateParts(2021, 2, 29), "start_day", "n'existe pas"),
        (DateParts(1984), "start_year", "postérieure à la date de naissance"),
        (DateParts(1985, 5, 13), "start_year", "postérieure à la date de naissance"),
        (DateParts(2026, 3, 11), "start_year", "dans le futur"),
        (DateParts(2027), "start_year", "dans le futur"),
    ],
)
def test_refusals_name_the_field_at_fault(parts, field, message):
    with pytest.raises(InvalidInput) as err:
        _resolve(parts)
    assert err.value.field == field and message in str(err.value)


def test_the_birth_year_and_this_month_are_accepted_at_their_precision():
    # 1985 and 05/1985 contain days after the birth; 03/2026 has begun.
    assert _resolve(DateParts(1985)) and _resolve(DateParts(1985, 5))
    assert _resolve(DateParts(2026, 3)) and _resolve(DateParts(2026, 3, 10))


def test_an_optional_date_may_stay_empty():
    assert _resolve(DateParts(), required=False) is None
    assert columns("end", None) == {"end_year": None, "end_month": None, "end_day": None}


def test_an_end_surely_before_the_start_is_refused():
    check_period(PartialDate(2020), PartialDate(2020, 1), end_label="Date de fin", prefix="end")
    with pytest.raises(InvalidInput) as err:
        check_period(
            PartialDate(2020, 6), PartialDate(2020, 5, 31), end_label="Date de fin", prefix="end"
        )
    assert err.value.field == "end_year"
