"""The list rubrics of the profil médical and the model behind each (portal.md §2.1)."""

from __future__ import annotations

from enum import StrEnum

from .models import (
    Allergy,
    Contact,
    Disability,
    Disease,
    FamilyHistory,
    Hospitalisation,
    ProfileEntry,
    Treatment,
)


class Rubric(StrEnum):
    # The first six share their code with NotConcerned.Section (`unconcerned(section)`).
    DISEASES = "DISEASES"
    TREATMENTS = "TREATMENTS"
    HOSPITALIZATIONS = "HOSPITALIZATIONS"
    DISABILITIES = "DISABILITIES"
    ALLERGIES = "ALLERGIES"
    FAMILY_HISTORIES = "FAMILY_HISTORIES"
    CONTACTS = "CONTACTS"


MODELS: dict[Rubric, type[ProfileEntry]] = {
    Rubric.DISEASES: Disease,
    Rubric.TREATMENTS: Treatment,
    Rubric.HOSPITALIZATIONS: Hospitalisation,
    Rubric.DISABILITIES: Disability,
    Rubric.ALLERGIES: Allergy,
    Rubric.FAMILY_HISTORIES: FamilyHistory,
    Rubric.CONTACTS: Contact,
}

# What the trace and the activity history say (the rubric, never the entry's content: the
# trace is kept for ever and a deleted allergy must not survive in it).
LABELS: dict[Rubric, str] = {
    Rubric.DISEASES: "Maladies et sujets de santé",
    Rubric.TREATMENTS: "Traitements",
    Rubric.HOSPITALIZATIONS: "Hospitalisations",
    Rubric.DISABILITIES: "Handicaps",
    Rubric.ALLERGIES: "Allergies",
    Rubric.FAMILY_HISTORIES: "Antécédents familiaux",
    Rubric.CONTACTS: "Entourage",
}

# Rubrics that offer « Je n'ai pas de … à ajouter » (portal.md §1.7).
NOT_CONCERNED = frozenset(
    {
        Rubric.DISEASES,
        Rubric.TREATMENTS,
        Rubric.HOSPITALIZATIONS,
        Rubric.DISABILITIES,
        Rubric.ALLERGIES,
        Rubric.FAMILY_HISTORIES,
    }
)

# The other screens, as labels for the traces.
HOME = "Profil médical"
BLOOD_GROUP = "Groupe sanguin"
PROFESSIONALS = "Professionnels de santé"
ORGAN_DONATION = "Don d'organes"
LIFESTYLE = "Habitudes de vie"
IDENTITY = "Identité nationale de santé"
