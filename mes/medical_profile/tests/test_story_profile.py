"""The demo's profil médical stories load once, through the actions, and read as the personas'."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mes.audit.trace import verify_all
from mes.demo import dataset
from mes.demo.story_profile import load_profile_stories
from mes.identity.models import Citizen
from mes.medical_profile.actions import current_answers
from mes.medical_profile.models import (
    Allergy,
    BloodGroup,
    Contact,
    Disease,
    NotConcerned,
    ProfileProfessional,
    Source,
    Treatment,
)


def citizen(key):
    return Citizen.objects.get(ins=next(p.ins for p in dataset.PEOPLE if p.key == key))


@pytest.fixture
def loaded(db):
    # The cast only (people, structures, consents): the documents' PDFs are not needed here.
    cast = dataset._Loader(timezone.localdate())
    cast.people()
    cast.structures()
    cast.grants()
    return load_profile_stories(today=timezone.localdate())


def test_without_the_cast_nothing_happens(db):
    assert load_profile_stories() == {}


def test_the_stories_load_once(loaded):
    assert loaded["entrées du profil médical"] > 30
    assert load_profile_stories() == {}
    assert list(verify_all()) == []


def test_louise_has_her_diabetes_treatments_and_team(loaded):
    louise = citizen("louise")
    diabetes = Disease.objects.get(patient=louise, name="Diabète de type 2")
    assert diabetes.ongoing and [t.name for t in diabetes.treatments.all()] == [
        "Metformine 1000 mg"
    ]
    assert Treatment.objects.filter(patient=louise, ongoing=True).count() == 5
    assert Allergy.objects.filter(patient=louise).exists()
    group = BloodGroup.objects.get(patient=louise)
    assert group.source == Source.PROFESSIONAL and group.added_by == "Dr Bernard Léon"
    roles = dict(
        ProfileProfessional.objects.filter(patient=louise).values_list(
            "professional__last_name", "role"
        )
    )
    assert roles["Cachet"] == "PHARMACIST" and "Cara" in roles
    assert current_answers(louise)["SLEEP_QUALITY"].value == "BAD_SOMETIMES"


def test_jacqueline_has_her_daughter_as_personne_de_confiance(loaded):
    trusted = Contact.objects.get(patient=citizen("jacqueline"), is_trusted=True)
    assert trusted.display_name == "Isabelle Moreau" and trusted.is_caregiver
    assert Contact.objects.get(patient=citizen("isabelle")).is_helped


def test_leo_has_a_few_entries_entered_by_his_mother(loaded):
    leo = citizen("leo")
    assert Allergy.objects.get(patient=leo).added_by == "Claire Lambert"
    assert NotConcerned.objects.filter(patient=leo, section="HOSPITALIZATIONS").exists()
