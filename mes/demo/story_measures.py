"""The measures of the demo stories (portal.md §2.10), told on the calendar of dataset.py.

- Louise Dupont, type 2 diabetes then heart failure: her height and the weights written in her
  doctors' letters, copied from those documents (« Valeur extraite d'un document »); her fasting
  blood glucose from the lab reports; and, over the last year, what she enters herself: her
  glucose three to four times a week with its moment, her weight about monthly (slowly going
  down, with the 3 kg of water before her heart failure was found), her blood pressure.
- Léo Lambert, 6: the growth measures of his carnet de santé entered by his mother Claire
  (weight, height, head circumference until 5), following the WHO reference a little above the
  median, and the 6-year check-up's values copied from the paediatrician's report.

Every value goes through mes.measures.actions with the clock set to its day, so the rows, their
« Par … » and the traces carry the dates of the story. Idempotent: a value is keyed on (patient,
measure, date and time) and never created twice. Call it after dataset.load(): the patients and
the documents the values come from must exist.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone

from mes.access.actors import citizen_actor, system_actor
from mes.identity.models import Citizen, Professional
from mes.measures import actions, growth
from mes.measures.charts import add_months
from mes.measures.models import Measurement
from mes.measures.profiles import MeasureCode
from mes.records.models import Document

from .dataset import PARIS, PEOPLE, PROS, STORY_DAYS, Doc, LoadReport

GLUCOSE_FASTING = "53049-3"
GLUCOSE_BEFORE_MEAL = "88365-2"
GLUCOSE_AFTER_MEAL = "16915-1"
GLUCOSE_AFTER_EXERCISE = "LA11865-5"
# The document import job (portal.md §2.10 « Import des données depuis les documents »).
IMPORTER = system_actor("import-mesures-documents")
# Louise enters her own values over the last year of the story.
OWN_SINCE_DAY = STORY_DAYS - 365


@dataclass(frozen=True)
class Value:
    patient: str  # a PEOPLE key
    code: MeasureCode
    at: datetime  # when measured
    value: str
    diastolic: str | None = None
    moment: str = ""
    comment: str = ""
    by: str = ""  # a PEOPLE key (entered by that citizen) ...
    doc: str = ""  # ... or the key of the document it was copied from
    pro: str = ""  # that document's author (a PROS key)
    unit: str | None = None


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    with mock.patch.object(timezone, "now", return_value=at):
        yield


def _doc_id(key: str) -> uuid.UUID | None:
    uid = Doc(key, "", None, "", 0, []).unique_id
    return Document.objects.filter(unique_id=uid).values_list("pk", flat=True).first()


def _pro_name(key: str) -> str:
    spec = next(p for p in PROS if p.key == key)
    pro = Professional.objects.filter(rpps=spec.rpps).first()
    return pro.display_name if pro else f"Dr {spec.first_name} {spec.last_name}"


# --- Louise ----------------------------------------------------------------------------------


def louise_values(day: Callable[..., datetime]) -> list[Value]:
    """day(n) -> the datetime of day n of the story at a given hour: day(n, hour, minute)."""
    out: list[Value] = []

    def from_doc(n: int, doc: str, pro: str, code: MeasureCode, value: str, **kw: str) -> None:
        out.append(Value("louise", code, day(n, 10, 0), value, doc=doc, pro=pro, **kw))

    # Copied from her documents: weight and height from the letters, fasting glucose from the labs.
    from_doc(0, "louise-bio-1", "bio", MeasureCode.GLUCOSE, "142", moment=GLUCOSE_FASTING)
    from_doc(0, "louise-bio-1", "bio", MeasureCode.HBA1C, "7.6")
    from_doc(7, "louise-mt-1", "mt", MeasureCode.HEIGHT, "165")
    from_doc(7, "louise-mt-1", "mt", MeasureCode.WEIGHT, "84")
    from_doc(30, "louise-diabeto-1", "diabeto", MeasureCode.WEIGHT, "83")
    from_doc(118, "louise-bio-2", "bio", MeasureCode.GLUCOSE, "118", moment=GLUCOSE_FASTING)
    from_doc(118, "louise-bio-2", "bio", MeasureCode.HBA1C, "6.9")
    from_doc(125, "louise-mt-2", "mt", MeasureCode.WEIGHT, "80.5")
    from_doc(330, "louise-mt-3", "mt", MeasureCode.WEIGHT, "81")
    from_doc(345, "louise-cardio-1", "cardio", MeasureCode.WEIGHT, "79")
    from_doc(512, "louise-cardio-2", "cardio", MeasureCode.WEIGHT, "77")

    def own(n: int, hour: int, minute: int, code: MeasureCode, value: str, **kw: str) -> None:
        if OWN_SINCE_DAY <= n < STORY_DAYS:
            out.append(Value("louise", code, day(n, hour, minute), value, by="louise", **kw))

    # Her scale, about monthly, before breakfast: slowly down, then the water of day 320-330.
    weights = {
        180: "80.2", 210: "79.8", 240: "79.4", 270: "79.1", 300: "78.6", 316: "78.4",
        327: "81.2", 352: "78.8", 380: "78.4", 410: "78.1", 442: "77.8", 449: "77.5",
        456: "77.2", 463: "77.0", 490: "77.1", 520: "76.9", 536: "76.8",
    }  # fmt: skip
    notes = {327: "3 kg de plus en 15 jours, chevilles gonflées", 352: "après le furosémide"}
    for n, w in weights.items():
        own(n, 7, 10, MeasureCode.WEIGHT, w, comment=notes.get(n, ""))

    # Her blood pressure: a few readings, then the weekly ones of her carnet de suivi.
    pressures = {
        200: ("128", "80", ""), 260: ("130", "82", ""), 326: ("142", "88", "essoufflée"),
        442: ("118", "74", "chevilles un peu gonflées"), 449: ("116", "72", ""),
        456: ("114", "70", "vertiges en me levant vite"), 463: ("115", "71", ""),
        480: ("114", "70", ""), 510: ("112", "69", ""), 535: ("113", "71", "au repos"),
    }  # fmt: skip
    for n, (sys_, dia, note) in pressures.items():
        own(n, 7, 20, MeasureCode.BLOOD_PRESSURE, sys_, diastolic=dia, comment=note)
    for n, bpm in {442: "72", 449: "70", 456: "68", 463: "66", 535: "64"}.items():
        own(n, 7, 21, MeasureCode.HEART_RATE, bpm)

    # Her glucose: fasting on Monday, Wednesday and Friday, after lunch on Sunday, and now and
    # then after her walk. Metformin (then dapagliflozin): HbA1c from 7,1 % to 6,9 %.
    rng = random.Random(2026)
    for n in range(OWN_SINCE_DAY, STORY_DAYS):
        weekday = day(n, 12, 0).weekday()
        progress = (n - OWN_SINCE_DAY) / 365
        fasting = 126 - 12 * progress + (9 if 318 <= n <= 350 else 0)
        if weekday in (0, 2, 4):
            v = round(fasting + rng.gauss(0, 7))
            note = "nuit difficile, essoufflée" if 326 <= n <= 330 and weekday == 0 else ""
            own(n, 7, 30, MeasureCode.GLUCOSE, str(v), moment=GLUCOSE_FASTING, comment=note)
        elif weekday == 6:
            v = round(fasting + 42 + rng.gauss(0, 12))
            own(n, 15, 0, MeasureCode.GLUCOSE, str(v), moment=GLUCOSE_AFTER_MEAL)
        elif weekday == 3 and n >= 420 and rng.random() < 0.5:
            v = round(fasting - 14 + rng.gauss(0, 6))
            own(
                n, 18, 15, MeasureCode.GLUCOSE, str(v), moment=GLUCOSE_AFTER_EXERCISE,
                comment="après 45 min de marche",
            )  # fmt: skip
    return out


# --- Léo -------------------------------------------------------------------------------------

# His carnet de santé: ages in months; a little above the WHO median (z-scores).
LEO_VISITS = (0, 1, 2, 4, 6, 9, 12, 16, 18, 24, 36, 48, 60)
LEO_Z = {MeasureCode.WEIGHT: 0.15, MeasureCode.HEIGHT: 0.2, MeasureCode.HEAD_CIRCUMFERENCE: 0.3}


def leo_values(birth: date, day: Callable[..., datetime]) -> list[Value]:
    out: list[Value] = []
    rng = random.Random(517)
    for months in LEO_VISITS:
        # In the afternoon: Claire represents Léo from his birth day at noon (dataset.py).
        at = datetime.combine(add_months(birth, months), time(15, 0), tzinfo=PARIS)
        for code, z in LEO_Z.items():
            if code is MeasureCode.HEAD_CIRCUMFERENCE and months > 60:
                continue
            table = growth.table(code, "M")
            assert table is not None
            measured = table.value_at(months, z + rng.gauss(0, 0.08))
            assert measured is not None
            out.append(Value("leo", code, at, f"{measured:.1f}", by="claire"))
    # The 6-year check-up (examen de santé de l'enfant), copied from the paediatrician's report.
    for code, v in ((MeasureCode.WEIGHT, "21"), (MeasureCode.HEIGHT, "117")):
        out.append(Value("leo", code, day(485, 10, 0), v, doc="leo-examen-6ans", pro="pediatre"))
    return out


# --- Loading ---------------------------------------------------------------------------------


def _exists(patient: Citizen, v: Value) -> bool:
    return Measurement.objects.filter(
        patient=patient, type_code=v.code.value, effective_at=v.at
    ).exists()


def _record(v: Value, citizens: dict[str, Citizen]) -> None:
    patient = citizens[v.patient]
    value = Decimal(v.value)
    diastolic = Decimal(v.diastolic) if v.diastolic else None
    if v.by:
        with _clock(v.at + timedelta(minutes=3)):
            actions.measurement_add(
                actor=citizen_actor(citizens[v.by]),
                patient_id=patient.pk,
                type_code=v.code.value,
                value=value,
                diastolic=diastolic,
                unit=v.unit,
                effective_at=v.at,
                moment=v.moment,
                comment=v.comment,
            )
        return
    # Copied when the document arrived (the demo deposits documents at 17:30 of their day).
    with _clock(v.at.replace(hour=17, minute=45)):
        actions.measurement_import(
            actor=IMPORTER,
            patient_id=patient.pk,
            type_code=v.code.value,
            value=value,
            diastolic=diastolic,
            unit=v.unit,
            effective_at=v.at,
            moment=v.moment,
            comment=v.comment,
            source=Measurement.Source.DOCUMENT,
            author_label=_pro_name(v.pro),
            source_document_id=_doc_id(v.doc),
        )


def load_measure_stories(today: date | None = None) -> LoadReport:
    """Create whatever measure of the stories is missing, in one transaction.

    Precondition: dataset.load(today) ran (same `today`): the citizens, the representation of
    Léo by Claire and the source documents exist. Side effects: Measurement rows and their
    AJOUT_MESURE traces, dated along the stories.
    """
    today = today or timezone.localdate()
    start = today - timedelta(days=STORY_DAYS)

    def day(n: int, hour: int = 10, minute: int = 0) -> datetime:
        return datetime.combine(start + timedelta(days=n), time(hour, minute), tzinfo=PARIS)

    report = LoadReport()
    citizens = {
        p.key: c for p in PEOPLE if (c := Citizen.objects.filter(ins=p.ins).first()) is not None
    }
    values: list[Value] = []
    if "louise" in citizens:
        values += louise_values(day)
    if {"leo", "claire"} <= set(citizens):
        values += leo_values(citizens["leo"].birth_date, day)
    now = timezone.now()
    with transaction.atomic():
        for v in sorted(values, key=lambda v: v.at):
            if v.at > now or _exists(citizens[v.patient], v):
                continue
            _record(v, citizens)
            report.add("mesures")
    return report
