"""The profil médical of the demo cast, told through the domain actions (portal.md §2).

- Louise: her type 2 diabetes and heart failure with their treatments, a pollen allergy (her
  doctor's letters say « pas d'allergie connue » to medicines), her mother's diabetes, a blood
  group entered by her médecin traitant (read only for her), her habits, her care team with
  her pharmacienne as pharmacien correspondant, her husband as emergency contact.
- Jacqueline: her daughter Isabelle as personne de confiance, emergency contact and proche
  aidante, a neighbour to call, her treatments; Isabelle lists her mother as proche aidée.
- Léo (managed by Claire): a past bronchiolitis, a mite allergy, his mother as emergency
  contact, « rien à ajouter » for hospitalisations.

Each step runs with the clock set to its day of the story (the days of mes/demo/dataset.py),
so entries and traces carry plausible dates. Idempotent: a person whose profile already holds
entries is left as is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from functools import partial
from unittest import mock

from django.db import transaction
from django.utils import timezone

from mes.access.actors import Actor, citizen_actor, professional_actor
from mes.identity.models import Citizen, Organisation, Professional
from mes.medical_profile import actions
from mes.medical_profile.dates import DateParts
from mes.medical_profile.inputs import (
    AllergyInput,
    ContactInput,
    DiseaseInput,
    EntryInput,
    FamilyHistoryInput,
    HospitalisationInput,
    TreatmentInput,
)
from mes.medical_profile.models import (
    Allergy,
    BloodGroup,
    Contact,
    Disease,
    ProfileEntry,
    ProfileProfessional,
    Treatment,
)
from mes.medical_profile.rubrics import Rubric

from .dataset import ORGS, PARIS, PEOPLE, PROS, STORY_DAYS


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    with mock.patch.object(timezone, "now", return_value=at):
        yield


class _Story:
    def __init__(self, today: date) -> None:
        self.start = today - timedelta(days=STORY_DAYS)
        self.created: dict[str, int] = {}

    def day(self, n: int) -> date:
        return self.start + timedelta(days=n)

    def parts(self, n: int, *, precise: bool = False) -> DateParts:
        d = self.day(n)
        return DateParts(d.year, d.month, d.day if precise else None)

    def at(self, n: int) -> datetime:
        return datetime.combine(self.day(n), time(20, 15), tzinfo=PARIS)

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def add(self, actor: Actor, patient: Citizen, n: int, data: EntryInput) -> ProfileEntry:
        with _clock(self.at(n)):
            entry = actions.entry_add(actor=actor, patient_id=patient.pk, data=data)
        self.count("entrées du profil médical")
        return entry

    def on(self, n: int, step: Callable[[], object]) -> None:
        with _clock(self.at(n)):
            step()
        self.count("entrées du profil médical")


def _citizen(key: str) -> Citizen | None:
    person = next(p for p in PEOPLE if p.key == key)
    return Citizen.objects.filter(ins=person.ins).first()


def _pro(key: str) -> Professional:
    return Professional.objects.get(rpps=next(p.rpps for p in PROS if p.key == key))


def _org(key: str) -> Organisation:
    return Organisation.objects.get(finess=next(o.finess for o in ORGS if o.key == key))


def _started(patient: Citizen) -> bool:
    return any(
        m.objects.filter(patient=patient).exists()
        for m in (Disease, Treatment, Allergy, Contact, BloodGroup, ProfileProfessional)
    )


def _louise(s: _Story, louise: Citizen) -> None:
    me = citizen_actor(louise)
    metformine = s.add(
        me,
        louise,
        9,
        TreatmentInput(
            name="Metformine 1000 mg",
            start=s.parts(7, precise=True),
            ongoing=True,
            dosage="1 comprimé matin et soir, au milieu du repas (500 mg le premier mois).",
            comment="Un peu de nausées la première semaine, puis bien tolérée.",
        ),
    )
    s.add(
        me,
        louise,
        10,
        DiseaseInput(
            name="Diabète de type 2",
            start=s.parts(7),
            ongoing=True,
            comment="Découvert sur une prise de sang (HbA1c 7,8 %). Suivi par le Dr Cara, "
            "diabétologue. Capteur de glucose depuis le deuxième mois.",
            treatment_ids=(metformine.pk,),
        ),
    )
    s.add(
        me,
        louise,
        10,
        DiseaseInput(
            name="Diabète gestationnel",
            start=DateParts(2012),
            end=DateParts(2012),
            comment="Pendant ma grossesse, sous régime seul.",
        ),
    )
    s.add(me, louise, 11, FamilyHistoryInput(name="Diabète de type 2", relative="MOTHER"))
    s.add(
        me,
        louise,
        12,
        AllergyInput(
            name="Pollens de graminées",
            reaction="Rhinite et yeux qui piquent au printemps",
            severity="MILD",
            start=DateParts(2005),
        ),
    )
    s.on(
        40,
        lambda: actions.blood_group_set(
            actor=professional_actor(_pro("mt")), patient_id=louise.pk, value="APOS"
        ),
    )
    heart = [
        TreatmentInput(
            name="Sacubitril-valsartan 49-51 mg",
            start=s.parts(345, precise=True),
            ongoing=True,
            dosage="1 comprimé matin et soir.",
        ),
        TreatmentInput(
            name="Bisoprolol 5 mg",
            start=s.parts(345, precise=True),
            ongoing=True,
            dosage="1 comprimé le matin (dose augmentée progressivement).",
        ),
        TreatmentInput(
            name="Dapagliflozine 10 mg",
            start=s.parts(345, precise=True),
            ongoing=True,
            dosage="1 comprimé le matin.",
            comment="Utile pour le cœur et pour le diabète.",
        ),
        TreatmentInput(
            name="Furosémide 20 mg",
            start=s.parts(345, precise=True),
            ongoing=True,
            dosage="Seulement si je prends plus de 2 kg en 3 jours.",
        ),
    ]
    treatments = [s.add(me, louise, 347, t) for t in heart]
    s.add(
        me,
        louise,
        348,
        DiseaseInput(
            name="Insuffisance cardiaque",
            start=s.parts(335),
            ongoing=True,
            comment="Essoufflement à l'effort. Suivie par le Dr Delosto, cardiologue. "
            "Je me pèse tous les matins.",
            treatment_ids=tuple(t.pk for t in treatments),
        ),
    )
    s.add(
        me,
        louise,
        349,
        HospitalisationInput(
            reason="Bilan d'insuffisance cardiaque",
            admission=s.parts(338, precise=True),
            stay_length=4,
            stay_unit="DAY",
            comment="Centre hospitalier de Villeneuve, service de cardiologie.",
        ),
    )
    s.add(
        me,
        louise,
        60,
        ContactInput(
            last_name="Dupont",
            first_name="Marc",
            link="PARTNER",
            phone1="06 39 98 01 11",
            address="18 rue des Glycines",
            postal_code="75015",
            city="Paris",
            is_emergency=True,
            is_trusted=True,
        ),
    )
    for n, key in ((31, "diabeto"), (31, "ide"), (61, "podo"), (341, "cardio"), (419, "kine")):
        s.on(
            n,
            partial(
                actions.profile_professional_add,
                actor=me,
                patient_id=louise.pk,
                professional_id=_pro(key).pk,
            ),
        )
    s.on(9, lambda: _pharmacist(me, louise))
    s.on(
        62,
        lambda: actions.lifestyle_save_section(
            actor=me,
            patient_id=louise.pk,
            section="FOOD",
            answers={
                "FOOD_FRUIT": "NOT_EVERYDAY",
                "FOOD_FAT": "MORE_ONCE_A_WEEK",
                "FOOD_SUGAR": "MORE_ONCE_A_MONTH",
                "FOOD_SALT": "NO",
            },
        ),
    )
    s.on(
        62,
        lambda: actions.lifestyle_save_section(
            actor=me,
            patient_id=louise.pk,
            section="PHYSICAL_ACTIVITY",
            answers={
                "PHYSICAL_ACTIVITY_REGULARLY": "YES",
                "PHYSICAL_ACTIVITY_DYNAMIC": "THREE_TO_FOUR_A_WEEK",
                "PHYSICAL_ACTIVITY_SAT": "YES_WORK",
            },
        ),
    )
    for section, answers in (
        ("TOBACCO", {"TOBACCO_MANUAL": "NO", "TOBACCO_ELECTRONIC": "NO"}),
        ("SLEEP", {"SLEEP_QUALITY": "BAD_OFTEN"}),
        ("ALCOHOL", {"ALCOHOL_DAYS": "1", "ALCOHOL_UNITS": "2", "ALCOHOL_BINGE": "NO"}),
    ):
        s.on(
            63,
            partial(
                actions.lifestyle_save_section,
                actor=me,
                patient_id=louise.pk,
                section=section,
                answers=answers,
            ),
        )
    # Later, sleep got better with the treatment and the end of her stressful job.
    s.on(
        430,
        lambda: actions.lifestyle_save_section(
            actor=me,
            patient_id=louise.pk,
            section="SLEEP",
            answers={"SLEEP_QUALITY": "BAD_SOMETIMES"},
        ),
    )
    s.on(
        64,
        lambda: actions.organ_donation_set(actor=me, patient_id=louise.pk, acknowledged=True),
    )


def _pharmacist(actor: Actor, patient: Citizen) -> None:
    entry = actions.profile_professional_add(
        actor=actor, patient_id=patient.pk, professional_id=_pro("pharma").pk
    )
    actions.profile_professional_set_role(actor=actor, entry_id=entry.pk, role="PHARMACIST")


def _jacqueline(s: _Story, jacqueline: Citizen, isabelle: Citizen | None) -> None:
    me = citizen_actor(jacqueline)
    s.add(
        me,
        jacqueline,
        20,
        ContactInput(
            last_name="Moreau",
            first_name="Isabelle",
            link="CHILD",
            phone1="06 39 98 01 03",
            email="isabelle.moreau@example.org",
            is_emergency=True,
            is_trusted=True,
            is_caregiver=True,
            address="9 rue des Peupliers",
            postal_code="75015",
            city="Paris",
        ),
    )
    s.add(
        me,
        jacqueline,
        21,
        ContactInput(
            last_name="Petit",
            first_name="Monique",
            link="OTHER",
            phone1="01 99 00 60 12",
            is_emergency=True,
            address="5 allée des Tilleuls, 2e étage",
            postal_code="75015",
            city="Paris",
        ),
    )
    amlodipine = s.add(
        me,
        jacqueline,
        386,
        TreatmentInput(
            name="Amlodipine 5 mg",
            start=DateParts(2009),
            ongoing=True,
            dosage="1 comprimé le matin.",
            comment="Préparé en pilulier par la pharmacie.",
        ),
    )
    s.add(
        me,
        jacqueline,
        386,
        TreatmentInput(
            name="Atorvastatine 20 mg",
            start=DateParts(2014),
            ongoing=True,
            dosage="1 comprimé le soir.",
        ),
    )
    s.add(
        me,
        jacqueline,
        387,
        DiseaseInput(
            name="Hypertension artérielle",
            start=DateParts(2009),
            ongoing=True,
            treatment_ids=(amlodipine.pk,),
        ),
    )
    s.add(
        me,
        jacqueline,
        387,
        HospitalisationInput(
            reason="Prothèse de hanche droite",
            admission=DateParts(2016, 11),
            stay_length=8,
            stay_unit="DAY",
        ),
    )
    s.on(24, lambda: _pharmacist(me, jacqueline))
    s.on(
        25,
        lambda: actions.profile_professional_add(
            actor=me, patient_id=jacqueline.pk, organisation_id=_org("pharmacie").pk
        ),
    )
    s.on(
        26,
        lambda: actions.organ_donation_set(actor=me, patient_id=jacqueline.pk, acknowledged=True),
    )
    if isabelle is not None and not _started(isabelle):
        s.add(
            citizen_actor(isabelle),
            isabelle,
            22,
            ContactInput(
                last_name="Moreau",
                first_name="Jacqueline",
                link="MOTHER",
                phone1="01 99 00 60 11",
                is_helped=True,
                address="5 allée des Tilleuls",
                postal_code="75015",
                city="Paris",
            ),
        )


def _leo(s: _Story, leo: Citizen, claire: Citizen) -> None:
    mum = citizen_actor(claire)
    s.add(
        mum,
        leo,
        486,
        DiseaseInput(
            name="Bronchiolite",
            start=DateParts(2020, 12),
            end=DateParts(2021, 1),
            comment="Soignée à la maison avec des lavages de nez.",
        ),
    )
    s.add(
        mum,
        leo,
        486,
        AllergyInput(
            name="Acariens", reaction="Nez bouché et éternuements la nuit", severity="MILD"
        ),
    )
    s.add(mum, leo, 487, FamilyHistoryInput(name="Asthme", relative="FATHER"))
    s.add(
        mum,
        leo,
        487,
        ContactInput(
            last_name="Lambert",
            first_name="Claire",
            link="MOTHER",
            phone1="06 39 98 01 04",
            email="claire.lambert@example.org",
            address="27 rue des Cerisiers",
            postal_code="44100",
            city="Nantes",
            is_emergency=True,
        ),
    )
    s.on(
        488,
        lambda: actions.declare_not_concerned(
            actor=mum, patient_id=leo.pk, rubric=Rubric.HOSPITALIZATIONS
        ),
    )
    s.on(
        488,
        lambda: actions.lifestyle_save_section(
            actor=mum,
            patient_id=leo.pk,
            section="SCREEN",
            answers={"SCREEN_SLEEP": "MORE_ONCE_A_WEEK"},
        ),
    )
    s.on(
        488,
        lambda: actions.lifestyle_save_section(
            actor=mum, patient_id=leo.pk, section="SLEEP", answers={"SLEEP_QUALITY": "WELL"}
        ),
    )


def load_profile_stories(today: date | None = None) -> dict[str, int]:
    """Give the demo cast their profil médical, in one transaction.

    Precondition: the demo dataset is loaded (mes.demo.dataset.load). Does nothing for a
    person whose profile already holds entries, or when the cast is missing. Returns what was
    created, by kind.
    """
    story = _Story(today or timezone.localdate())
    louise, jacqueline = _citizen("louise"), _citizen("jacqueline")
    isabelle, claire, leo = _citizen("isabelle"), _citizen("claire"), _citizen("leo")
    with transaction.atomic():
        if louise is not None and not _started(louise):
            _louise(story, louise)
        if jacqueline is not None and not _started(jacqueline):
            _jacqueline(story, jacqueline, isabelle)
        if leo is not None and claire is not None and not _started(leo):
            _leo(story, leo, claire)
    return story.created
