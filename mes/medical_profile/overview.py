"""What the Profil médical home shows of each rubric (counts, one-value rubrics).

A selector only: the caller has passed, and traced, the profile policy (access_profile).
"""

from __future__ import annotations

from dataclasses import dataclass

from mes.identity.models import Citizen, Professional

from . import rubrics
from .directory import treating_physician
from .models import (
    BloodGroup,
    Contact,
    LifestyleAnswer,
    NotConcerned,
    OrganDonationAcknowledgement,
    ProfileProfessional,
)
from .rubrics import Rubric


@dataclass(frozen=True)
class RubricState:
    count: int
    not_concerned: NotConcerned | None


@dataclass(frozen=True)
class ProfileOverview:
    rubrics: dict[str, RubricState]
    blood_group: BloodGroup | None
    organ_donation: OrganDonationAcknowledgement | None
    trusted_contact: Contact | None
    professionals: int
    treating_physician: Professional | None
    lifestyle_sections: int


def overview(patient: Citizen) -> ProfileOverview:
    declarations = {n.section: n for n in NotConcerned.objects.filter(patient=patient)}
    states = {
        rubric.value: RubricState(
            count=rubrics.MODELS[rubric]._default_manager.filter(patient=patient).count(),
            not_concerned=declarations.get(rubric.value),
        )
        for rubric in Rubric
    }
    sections = LifestyleAnswer.objects.filter(patient=patient).values("section").distinct()
    return ProfileOverview(
        rubrics=states,
        blood_group=BloodGroup.objects.filter(patient=patient).first(),
        organ_donation=OrganDonationAcknowledgement.objects.filter(patient=patient).first(),
        trusted_contact=Contact.objects.filter(patient=patient, is_trusted=True).first(),
        professionals=ProfileProfessional.objects.filter(patient=patient).count(),
        treating_physician=treating_physician(patient),
        lifestyle_sections=sections.count(),
    )
