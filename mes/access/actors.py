"""Who is acting: every request, job and command acts as an Actor (DESIGN.md §4)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mes.identity.models import Citizen, Professional


class ActorKind(StrEnum):
    CITIZEN = "citizen"  # the holder, or a legal representative acting for a represented person
    PROFESSIONAL = "professional"
    STRUCTURE = "structure"
    INSURER = "insurer"
    APP = "app"
    SYSTEM = "system"
    SUPPORT = "support"


class AccessMode(StrEnum):
    NORMAL = "normal"
    BREAK_GLASS = "bris_de_glace"
    CENTRE_15 = "centre_15"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    display_name: str
    user_id: int | None = None
    citizen_id: uuid.UUID | None = None
    professional_id: uuid.UUID | None = None
    national_id: str = ""  # idNat: "8"+RPPS, "1"+FINESS, INS for a citizen
    profession: str = ""  # TRE_G15
    specialty: str = ""  # TRE_R38
    organisation_id: int | None = None
    organisation_name: str = ""
    mode: AccessMode = AccessMode.NORMAL
    justification: str = ""
    scopes: frozenset[str] = field(default_factory=frozenset)
    software: str = ""  # practice software (LPS) name/version, when known
    # A proche aidant acting in the espace of this aidé (portal.md §5.8). The access itself is
    # decided from the delegation (access.decision); this says on whose behalf the actor acts,
    # and the trace keeps it in `justification` (CARER_JUSTIFICATION).
    on_behalf_of: uuid.UUID | None = None
    # A paired catalogue service (ActorKind.APP) acts only within this pairing: one espace, the
    # purposes consented (mes.catalogue.policies).
    pairing_id: uuid.UUID | None = None


def system_actor(name: str) -> Actor:
    """A named background actor: jobs and commands never act as None."""
    return Actor(kind=ActorKind.SYSTEM, display_name=name, national_id=f"system:{name}")


def citizen_actor(citizen: Citizen) -> Actor:
    return Actor(
        kind=ActorKind.CITIZEN,
        display_name=citizen.display_name,
        user_id=citizen.user_id,
        citizen_id=citizen.id,
        national_id=citizen.ins,
    )


# Written in the trace's justification of every action an aidant does for the aidé, so that the
# aidé's Historique says « proche aidant » and not « représentant légal » (audit.history).
CARER_JUSTIFICATION = "Proche aidant agissant pour la personne aidée"


def carer_actor(carer: Citizen, *, aided: Citizen) -> Actor:
    """The aidant acting in the aidé's espace: a citizen, on behalf of the aidé."""
    return Actor(
        kind=ActorKind.CITIZEN,
        display_name=carer.display_name,
        user_id=carer.user_id,
        citizen_id=carer.id,
        national_id=carer.ins,
        justification=CARER_JUSTIFICATION,
        on_behalf_of=aided.id,
    )


def professional_actor(
    professional: Professional,
    *,
    mode: AccessMode = AccessMode.NORMAL,
    justification: str = "",
    software: str = "",
) -> Actor:
    org = professional.organisation
    return Actor(
        kind=ActorKind.PROFESSIONAL,
        display_name=professional.display_name,
        user_id=professional.user_id,
        professional_id=professional.id,
        national_id=professional.national_id,
        profession=professional.profession,
        specialty=professional.specialty,
        organisation_id=org.pk if org else None,
        organisation_name=org.name if org else "",
        mode=mode,
        justification=justification,
        software=software,
    )
