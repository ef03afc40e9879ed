"""Reference growth curves for children (portal.md §2.10, §6: « Suivre les courbes et mesures de
croissance »), from the LMS tables in data/growth_*.csv.

Each table gives, by age in months, the L (Box-Cox power), M (median) and S (coefficient of
variation) of a measure; the value at a z-score is M·(1 + L·S·z)^(1/L) (Cole's LMS method, as the
WHO documents it). The sources are named in each file's header; between two rows of a table the
parameters are interpolated linearly.

Which reference: the WHO's (normes de croissance 2006 for 0-5 years, référence 2007 for 5-19 years),
whose LMS tables are public and could be copied faithfully. Since 2018 the French carnet de santé
prints the AFPA / CRESS-Inserm curves (Heude et al., 2019), built on French children; their LMS
tables are not reproduced here. The WHO curves differ from them by a few percent at most ages (the
French median height is slightly higher); the tables are data files, so a deployer can swap them.
No reference draws weight after 10 years (the WHO gives none: the BMI curve takes over).
"""

from __future__ import annotations

import bisect
import csv
import math
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from .profiles import MeasureCode

DATA = Path(__file__).parent / "data"
# The 3rd and 97th centiles: z = ±1,881 (the normal quantile of 0,97).
Z_P97 = 1.8807936081512509
CENTILES = (("P3", -Z_P97), ("P50", 0.0), ("P97", Z_P97))

FILES = {
    MeasureCode.WEIGHT: "growth_weight",
    MeasureCode.HEIGHT: "growth_height",
    MeasureCode.HEAD_CIRCUMFERENCE: "growth_head",
    MeasureCode.BODY_MASS_INDEX: "growth_bmi",
}
SEX_FILES = {"M": "boys", "F": "girls"}
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class LmsRow:
    month: float
    l: float  # noqa: E741 - the LMS method's own name
    m: float
    s: float


@dataclass(frozen=True)
class GrowthTable:
    code: MeasureCode
    sex: str
    source: str  # the header's first comment line: shown under the chart
    rows: tuple[LmsRow, ...]

    @property
    def first_month(self) -> float:
        return self.rows[0].month

    @property
    def last_month(self) -> float:
        return self.rows[-1].month

    def lms(self, month: float) -> LmsRow | None:
        if not self.first_month <= month <= self.last_month:
            return None
        months = [r.month for r in self.rows]
        i = bisect.bisect_left(months, month)
        if self.rows[i].month == month:
            return self.rows[i]
        a, b = self.rows[i - 1], self.rows[i]
        f = (month - a.month) / (b.month - a.month)
        return LmsRow(month, a.l + f * (b.l - a.l), a.m + f * (b.m - a.m), a.s + f * (b.s - a.s))

    def value_at(self, month: float, z: float) -> float | None:
        """The measure at this age (months) and z-score, or None outside the table."""
        r = self.lms(month)
        if r is None:
            return None
        if abs(r.l) < 1e-9:
            return r.m * math.exp(r.s * z)
        return r.m * (1 + r.l * r.s * z) ** (1 / r.l)

    def z_score(self, month: float, value: float) -> float | None:
        r = self.lms(month)
        if r is None or value <= 0:
            return None
        if abs(r.l) < 1e-9:
            return math.log(value / r.m) / r.s
        return ((value / r.m) ** r.l - 1) / (r.l * r.s)


def months_between(birth: date, day: date) -> float:
    return (day - birth).days / DAYS_PER_MONTH


@cache
def table(code: MeasureCode, sex: str) -> GrowthTable | None:
    """The reference of this measure for this sex, or None (no curve for it)."""
    stem, suffix = FILES.get(code), SEX_FILES.get(sex)
    if stem is None or suffix is None:
        return None
    path = DATA / f"{stem}_{suffix}.csv"
    if not path.exists():
        return None
    source = ""
    rows: list[LmsRow] = []
    with path.open(encoding="utf-8") as f:
        lines = []
        for line in f:
            if line.startswith("#"):
                source = source or line.lstrip("# ").strip()
            elif line.strip():
                lines.append(line)
    for rec in csv.DictReader(lines):
        rows.append(
            LmsRow(float(rec["age_months"]), float(rec["L"]), float(rec["M"]), float(rec["S"]))
        )
    rows.sort(key=lambda r: r.month)
    return GrowthTable(code, sex, source, tuple(rows))


def age_label(birth: date, day: date) -> str:
    """« 6 ans et 2 mois », « 1 an », « 5 mois », « moins d'un mois »."""
    months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
    years, rest = divmod(max(months, 0), 12)
    if years == 0:
        return f"{rest} mois" if rest else "moins d'un mois"
    ans = "an" if years == 1 else "ans"
    return f"{years} {ans}" + (f" et {rest} mois" if rest else "")
