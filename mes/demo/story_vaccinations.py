"""The carnets de vaccination of the demo stories (portal.md §2.11), on the calendar of dataset.py.

- Léo Lambert, 6: his mother Claire copies his infant doses from the paper carnet de santé (the
  2018 obligations: hexavalent, pneumococcus, meningococcus C, ROR); his paediatrician records
  the 6-year booster she gave the day she wrote his vaccination certificate (read-only for
  Claire). What is due: the yearly flu vaccine proposed to children, then the 11-13 booster,
  HPV and ACWY to come.
- Louise Dupont, 45: she notes her 25-year dTcaP booster (which her médecin traitant later
  confirms) and an old flu vaccine; her pharmacist records her flu vaccine each autumn of the
  story. What is due: the 45-year dTP booster, the measles catch-up of people born since 1980.

Every entry goes through mes.vaccinations.actions with the clock set to its day, so the rows,
their « ajoutée par … », the notifications and the traces carry the dates of the story.
Idempotent: an entry is keyed on (patient, vaccine, date) and never created twice. Call it after
dataset.load(): the patients and the professionals must exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from mes.access.actors import Actor, citizen_actor, professional_actor
from mes.identity.models import Citizen, Professional
from mes.prevention.calendar import Span
from mes.vaccinations import actions
from mes.vaccinations.models import Vaccination

from .dataset import PARIS, PEOPLE, PROS, STORY_DAYS

FIRST, BOOSTER, UNKNOWN = (
    Vaccination.Kind.FIRST,
    Vaccination.Kind.BOOSTER,
    Vaccination.Kind.UNKNOWN,
)


@dataclass(frozen=True)
class Entry:
    patient: str  # a PEOPLE key
    vaccine: str  # a code of mes/vaccinations/data/vaccines.csv
    given: date
    kind: str
    day: int  # the day of the story it is written in the carnet
    by: str = ""  # a PEOPLE key (the citizen side records it) ...
    pro: str = ""  # ... or a PROS key (a professional records it)
    lot: str = ""
    vaccinator: str = ""
    comment: str = ""
    confirmed_by: str = ""  # a PROS key who confirms it ...
    confirmed_day: int = 0  # ... on that day of the story


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    with mock.patch.object(timezone, "now", return_value=at):
        yield


def _at(birth: date, age: str) -> date:
    return Span.parse(age).after(birth)


def leo_entries(birth: date, day: Callable[[int], date]) -> list[Entry]:
    """Léo's infant doses as his paper carnet has them, and the 6-year booster."""
    carnet = [
        ("INFANRIX_HEXA", "2m", FIRST, "A20B417"),
        ("PREVENAR_13", "2m", FIRST, "FH7745"),
        ("INFANRIX_HEXA", "4m", UNKNOWN, "A20C112"),
        ("PREVENAR_13", "4m", UNKNOWN, "FH8021"),
        ("NEISVAC_C", "5m", FIRST, "VNA311"),
        ("INFANRIX_HEXA", "11m", BOOSTER, "A21A090"),
        ("PREVENAR_13", "11m", BOOSTER, "GJ1002"),
        ("PRIORIX", "12m", FIRST, "A69CE522"),
        ("NEISVAC_C", "12m", BOOSTER, "VNA407"),
        ("PRIORIX", "16m", UNKNOWN, "A69CF031"),
    ]
    entries = [
        Entry(
            "leo",
            code,
            _at(birth, age),
            kind,
            day=489,
            by="claire",
            lot=lot,
            vaccinator="Dr Emma Rousseau",
        )
        for code, age, kind, lot in carnet
    ]
    entries.append(
        Entry(
            "leo",
            "TETRAVAC_ACELLULAIRE",
            day(480),
            BOOSTER,
            day=480,
            pro="pediatre",
            lot="U3B251",
            comment="Rappel des 6 ans. Bonne tolérance.",
        )
    )
    return entries


def louise_entries(today: date, day: Callable[[int], date]) -> list[Entry]:
    """Louise's adult boosters and her flu vaccines, one each autumn of the story."""
    entries = [
        Entry(
            "louise",
            "REPEVAX",
            date(2006, 4, 10),
            BOOSTER,
            day=200,
            by="louise",
            comment="Rappel fait avant un voyage.",
            confirmed_by="mt",
            confirmed_day=332,
        ),
        Entry("louise", "MAL_GRIPPE", date(2024, 10, 15), UNKNOWN, day=200, by="louise"),
    ]
    start = day(0)
    for year in range(start.year, today.year + 1):
        given = date(year, 10, 22)
        if start <= given <= today - timedelta(days=1):
            entries.append(
                Entry(
                    "louise",
                    "VAXIGRIPTETRA",
                    given,
                    BOOSTER,
                    day=(given - start).days,
                    pro="pharma",
                    lot=f"W{year % 100}3317",
                    comment="Vaccination à la pharmacie, recommandée en raison du diabète.",
                )
            )
    return entries


def _exists(patient: Citizen, e: Entry) -> Vaccination | None:
    return Vaccination.objects.filter(patient=patient, vaccine_code=e.vaccine, date=e.given).first()


def _pro_actor(key: str) -> Actor:
    spec = next(p for p in PROS if p.key == key)
    return professional_actor(Professional.objects.get(rpps=spec.rpps))


def load_vaccination_stories(today: date | None = None) -> dict[str, int]:
    """Create whatever vaccination of the stories is missing, in one transaction.

    Precondition: dataset.load(today) ran (same `today`): the citizens, the representation of
    Léo by Claire and the professionals exist. Side effects: Vaccination rows, their traces and
    the notifications of the professionals' entries, dated along the stories. Returns what was
    created, by kind.
    """
    today = today or timezone.localdate()
    start = today - timedelta(days=STORY_DAYS)

    def day(n: int) -> date:
        return start + timedelta(days=n)

    def at(n: int, hour: int) -> datetime:
        return datetime.combine(day(n), time(hour, 0), tzinfo=PARIS)

    citizens = {
        p.key: c for p in PEOPLE if (c := Citizen.objects.filter(ins=p.ins).first()) is not None
    }
    entries: list[Entry] = []
    if {"leo", "claire"} <= set(citizens):
        entries += leo_entries(citizens["leo"].birth_date, day)
    if "louise" in citizens:
        entries += louise_entries(today, day)
    created = {"vaccinations": 0, "confirmations": 0}
    with transaction.atomic():
        for e in sorted(entries, key=lambda e: (e.day, e.given)):
            if e.given > today or e.day > STORY_DAYS:
                continue
            patient = citizens[e.patient]
            v = _exists(patient, e)
            if v is None:
                with _clock(at(e.day, 18 if e.pro else 20)):
                    v = _record(e, patient, citizens)
                created["vaccinations"] += 1
            if e.confirmed_by and v.confirmed_at is None and e.confirmed_day <= STORY_DAYS:
                with _clock(at(e.confirmed_day, 9)):
                    actions.vaccination_confirm(
                        actor=_pro_actor(e.confirmed_by), vaccination_id=v.pk
                    )
                created["confirmations"] += 1
    return created


def _record(e: Entry, patient: Citizen, citizens: dict[str, Citizen]) -> Vaccination:
    if e.pro:
        return actions.vaccination_record_by_professional(
            actor=_pro_actor(e.pro),
            patient_id=patient.pk,
            vaccine_code=e.vaccine,
            vaccination_date=e.given,
            kind=e.kind,
            lot=e.lot,
            comment=e.comment,
        )
    return actions.vaccination_add(
        actor=citizen_actor(citizens[e.by]),
        patient_id=patient.pk,
        vaccine_code=e.vaccine,
        vaccination_date=e.given,
        kind=e.kind,
        lot=e.lot,
        vaccinator_name=e.vaccinator,
        comment=e.comment,
    )
