"""Partial dates of the profil médical: day and month optional, year required (portal.md §1.7).

One place for the rule: « Date de début (année obligatoire) », after the date of birth, never in
the future. Stored as three columns (<prefix>_day, <prefix>_month, <prefix>_year).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from mes.lib.errors import InvalidInput

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass(frozen=True)
class DateParts:
    """What the form gave: three optional numbers."""

    year: int | None = None
    month: int | None = None
    day: int | None = None


@dataclass(frozen=True)
class PartialDate:
    """A date of which only the year is sure."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def of(
        cls, parts: DateParts, *, label: str, prefix: str, required: bool = True
    ) -> PartialDate | None:
        """Check the shape: year required (if `required`), a day needs a month, the day and
        month exist. None when nothing was given and the date is optional. Errors name the
        field at fault (<prefix>_year, _month or _day)."""
        year, month, day = parts.year, parts.month, parts.day
        if year is None:
            if month is not None or day is not None or required:
                raise InvalidInput(
                    f"Saisissez au moins l'année de « {label} ».", field=f"{prefix}_year"
                )
            return None
        if not 1000 <= year <= 9999:
            raise InvalidInput(
                f"L'année de « {label} » doit comporter 4 chiffres.", field=f"{prefix}_year"
            )
        if month is not None and not 1 <= month <= 12:
            raise InvalidInput(
                f"Le mois de « {label} » doit être entre 1 et 12.", field=f"{prefix}_month"
            )
        if day is not None:
            if month is None:
                raise InvalidInput(
                    f"Saisissez le mois de « {label} » avant le jour.", field=f"{prefix}_month"
                )
            if not 1 <= day <= calendar.monthrange(year, month)[1]:
                raise InvalidInput(f"Le jour de « {label} » n'existe pas.", field=f"{prefix}_day")
        return cls(year=year, month=month, day=day)

    @property
    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    def check_within(self, *, birth_date: date, today: date, label: str, prefix: str) -> None:
        """After the date of birth and not in the future (at the precision given)."""
        if self.latest < birth_date:
            raise InvalidInput(
                f"« {label} » doit être postérieure à la date de naissance.",
                field=f"{prefix}_year",
            )
        if self.earliest > today:
            raise InvalidInput(
                f"« {label} » ne peut pas être dans le futur.", field=f"{prefix}_year"
            )

    def display(self) -> str:
        """jj/mm/aaaa, « mars 2020 » or « 2020 », as precise as it was given."""
        if self.day is not None and self.month is not None:
            return f"{self.day:02d}/{self.month:02d}/{self.year}"
        if self.month is not None:
            return f"{MONTHS[self.month - 1]} {self.year}"
        return str(self.year)

    def __str__(self) -> str:
        return self.display()


def resolve(
    parts: DateParts,
    *,
    label: str,
    prefix: str,
    birth_date: date,
    today: date,
    required: bool = True,
) -> PartialDate | None:
    """The whole rule in one call: shape, then after the birth date and not in the future."""
    partial = PartialDate.of(parts, label=label, prefix=prefix, required=required)
    if partial is not None:
        partial.check_within(birth_date=birth_date, today=today, label=label, prefix=prefix)
    return partial


def columns(prefix: str, partial: PartialDate | None) -> dict[str, int | None]:
    """The three model columns of a partial date."""
    return {
        f"{prefix}_year": partial.year if partial else None,
        f"{prefix}_month": partial.month if partial else None,
        f"{prefix}_day": partial.day if partial else None,
    }


def check_period(
    start: PartialDate | None, end: PartialDate | None, *, end_label: str, prefix: str
) -> None:
    """An end that is surely before the start is refused."""
    if start is not None and end is not None and end.latest < start.earliest:
        raise InvalidInput(
            f"« {end_label} » doit être postérieure à la date de début.",
            field=f"{prefix}_year",
        )
