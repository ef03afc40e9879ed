"""The vaccines a carnet de vaccination can name (portal.md §2.11, `vaccinesRef`).

Data, not code: `data/vaccines.csv` lists the vaccines used in France by brand name, with the
valences (diseases) each covers and its ATC code when known, plus one entry per disease (and per
usual combination) so that a citizen who does not know the brand can still record a vaccination.
Valence codes are those of the vaccination calendar (mes.prevention.calendar).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mes.lib.errors import InvalidInput
from mes.prevention.calendar import default_calendar

VACCINES_FILE = Path(__file__).parent / "data" / "vaccines.csv"
KINDS = {"vaccin": "Vaccin", "maladie": "Maladie", "anticorps": "Anticorps"}


@dataclass(frozen=True)
class Vaccine:
    code: str
    label: str
    kind: str  # vaccin | maladie (the citizen names the disease) | anticorps (nirsévimab)
    category: str  # the group shown in the vaccine list
    valences: tuple[str, ...]
    atc: str
    note: str

    @property
    def diseases(self) -> tuple[str, ...]:
        cal = default_calendar()
        return tuple(cal.valence_label(v) for v in self.valences)

    @property
    def display(self) -> str:
        """« VAXIGRIPTETRA (Grippe) », or the disease alone for a disease entry."""
        if self.kind == "maladie":
            return self.label
        return f"{self.label} ({', '.join(self.diseases)})"


@cache
def vaccines() -> dict[str, Vaccine]:
    """Every vaccine of the referential by code, in file order. Unknown valences are refused."""
    known = default_calendar().valences
    out: dict[str, Vaccine] = {}
    with VACCINES_FILE.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            valences = tuple(v for v in row["valences"].split("|") if v)
            unknown = set(valences) - set(known)
            if unknown or not valences or row["kind"] not in KINDS or row["code"] in out:
                raise ValueError(f"{VACCINES_FILE}: ligne invalide pour {row['code']!r}")
            out[row["code"]] = Vaccine(
                code=row["code"],
                label=row["label"],
                kind=row["kind"],
                category=row["category"],
                valences=valences,
                atc=row["atc"],
                note=row["note"],
            )
    return out


def vaccine(code: str) -> Vaccine:
    """The vaccine of this code, or InvalidInput: a vaccination must name one from the list."""
    found = vaccines().get((code or "").strip())
    if found is None:
        raise InvalidInput(
            "Choisissez un vaccin ou une maladie dans la liste proposée.", field="vaccine"
        )
    return found


def by_atc(atc: str) -> list[Vaccine]:
    return [v for v in vaccines().values() if v.atc and v.atc == atc]


def by_label(label: str) -> Vaccine | None:
    """The vaccine whose name matches, ignoring case and spaces (« Vaxigriptetra »)."""
    wanted = "".join(label.split()).casefold()
    for v in vaccines().values():
        if "".join(v.label.split()).casefold() == wanted:
            return v
    return None


def categories() -> list[tuple[str, list[Vaccine]]]:
    """The list grouped as shown in the form (an optgroup per category), in file order."""
    groups: dict[str, list[Vaccine]] = {}
    for v in vaccines().values():
        groups.setdefault(v.category, []).append(v)
    return list(groups.items())
