"""Demo stories of the directives anticipées and the synthèse du profil médical (issue 4).

- Jacqueline, 80, wrote her directives online with the official model A after her fall, and
  named her daughter Isabelle as her personne de confiance.
- Louise saved the synthesis of her profil médical in her documents, so that her care team
  reads her allergies, treatments and measures.

Run after `dataset.load()` and after the other profil médical stories (rubrics, measures,
vaccinations): Louise's synthesis is made from what her profile holds at that moment.
Idempotent: a patient who already has directives (or a saved synthesis) gets nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.identity.models import Citizen
from mes.medical_profile import directives, synthesis
from mes.medical_profile.directives import Choice, DirectivesInput, DirectivesModel, TreatmentWish
from mes.records.models import Document

from .dataset import PARIS, PEOPLE, STORY_DAYS, LoadReport

# Days of the story (day 0 is STORY_DAYS before the load), as in dataset.py.
JACQUELINE_DIRECTIVES_DAY = 500  # a few days after her fall (day 495)

JACQUELINE_DIRECTIVES = DirectivesInput(
    model=DirectivesModel.A,
    place="Paris",
    birth_place="Lyon (Rhône)",
    address="Paris 15e",
    personal_information=(
        "Je vis seule dans mon appartement. Ma fille Isabelle passe me voir plusieurs fois par "
        "semaine et m'aide pour mes papiers et mes rendez-vous."
    ),
    fears_and_convictions=(
        "Je crains de souffrir et d'être un poids pour ma fille. Je ne veux pas que l'on "
        "prolonge ma vie à tout prix."
    ),
    end_of_life_place="Chez moi si c'est possible, sinon dans un service de soins palliatifs.",
    situations=(
        "Mes reins fonctionnent moins bien et mon cœur se fatigue. Si je tombais dans un coma "
        "dont les médecins jugent que je ne me réveillerai pas, ou si je ne pouvais plus "
        "reconnaître mes proches de façon définitive."
    ),
    life_support=Choice.NO,
    life_support_details="Je veux être soulagée, pas maintenue en vie par des machines.",
    treatments=(
        TreatmentWish(act="resuscitation", start=Choice.NO, stop=Choice.YES),
        TreatmentWish(act="ventilation", start=Choice.NO, stop=Choice.YES),
        TreatmentWish(
            act="dialysis",
            start=Choice.NO,
            stop=Choice.YES,
            details="Je ne souhaite pas de dialyse au long cours.",
        ),
        TreatmentWish(
            act="surgery",
            start=Choice.YES,
            details="Seulement si elle soulage une douleur, par exemple après une chute.",
        ),
        TreatmentWish(act="nutrition", start=Choice.NO, stop=Choice.YES),
    ),
    sedation=Choice.YES,
    comments="Je souhaite que ma fille Isabelle soit prévenue et puisse rester auprès de moi.",
    trusted_person="Isabelle Moreau",
)


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    """Act as if at `at`: deposit dates and traces follow the story."""
    with mock.patch.object(timezone, "now", return_value=at):
        yield


def _citizen(key: str) -> Citizen:
    person = next(p for p in PEOPLE if p.key == key)
    citizen = Citizen.objects.filter(ins=person.ins).first()
    if citizen is None:
        raise RuntimeError("Chargez d'abord le jeu de démonstration (mes.demo.dataset.load).")
    return citizen


def _has(patient: Citizen, type_code: str) -> bool:
    return Document.objects.filter(patient=patient, type_code=type_code).exists()


def load_directive_stories(today: date | None = None) -> LoadReport:
    """Jacqueline's directives (model A, online) and Louise's saved synthesis, if missing.

    Precondition: dataset.load() ran, then the other profil médical stories. Side effects: the
    documents, deposited through the domain actions (vault, traces) at the dates of the story.
    """
    today = today or timezone.localdate()
    start = today - timedelta(days=STORY_DAYS)
    report = LoadReport()
    with transaction.atomic():
        jacqueline = _citizen("jacqueline")
        if not _has(jacqueline, directives.TYPE_CODE):
            day = start + timedelta(days=JACQUELINE_DIRECTIVES_DAY)
            with _clock(datetime.combine(day, time(15, 20), tzinfo=PARIS)):
                directives.directives_write(
                    actor=citizen_actor(jacqueline),
                    patient_id=jacqueline.pk,
                    data=JACQUELINE_DIRECTIVES,
                )
            report.add("directives anticipées")
        louise = _citizen("louise")
        if not _has(louise, synthesis.TYPE_CODE):
            # The evening before the load: after every event of her story.
            yesterday = today - timedelta(days=1)
            with _clock(datetime.combine(yesterday, time(20, 30), tzinfo=PARIS)):
                synthesis.synthesis_save(
                    actor=citizen_actor(louise),
                    patient_id=louise.pk,
                    sections=list(synthesis.ALL_SECTIONS),
                )
            report.add("synthèses du profil médical")
    return report
