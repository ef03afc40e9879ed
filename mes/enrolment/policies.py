"""What an espace's state allows (mes-spec §3.1). The one place the rest of the service asks:
the citizen login, the professionals' patient lookup and access decision, the deposits, the
citizen's own management of their espace.

A citizen with no Espace row predates enrolment (the demo people, fixtures, an earlier
deployment): they keep the espace they always had, active (docs/decisions.md, « Enrolment »).
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.db.models import Q

from mes.identity.models import Citizen

from .models import Espace, EspaceState


class EspaceUse(StrEnum):
    LOGIN = "login"  # the holder logs in (identifiant + mot de passe + code)
    CITIZEN_SIDE = "citizen_side"  # holder or representative reads and manages (masking …)
    PROFESSIONAL_READ = "professional_read"  # a professional finds and reads the dossier
    DEPOSIT = "deposit"  # a professional, a structure or the insurer adds a document
    ACTIVATE = "activate"  # the code provisoire leads to an active espace
    OPPOSE = "oppose"  # opposition to creation (before it)
    CLOSE = "close"  # the holder closes
    # The holder closes online with the provisional code, without activating first: only an
    # espace created by the timer and never activated (an active one signs in to close).
    CLOSE_WITH_CODE = "close_with_code"


_S = EspaceState
_ALLOWED: dict[EspaceUse, frozenset[str]] = {
    EspaceUse.LOGIN: frozenset({_S.ACTIVE}),
    # Masking and every holder's choice only once activated (mes-spec §3.1, [S:6]).
    EspaceUse.CITIZEN_SIDE: frozenset({_S.ACTIVE}),
    # The dossier exists for professionals from creation; suspension is the holder's access
    # (R1111-36), the dossier keeps being fed and read by those authorised.
    EspaceUse.PROFESSIONAL_READ: frozenset({_S.CREATED, _S.ACTIVE, _S.SUSPENDED}),
    # Professionals may deposit before activation ([S:6]); a closed espace receives nothing.
    EspaceUse.DEPOSIT: frozenset({_S.CREATED, _S.ACTIVE, _S.SUSPENDED}),
    EspaceUse.ACTIVATE: frozenset({_S.NOTIFIED, _S.CREATED, _S.OPPOSED, _S.CLOSED}),
    EspaceUse.OPPOSE: frozenset({_S.NOT_NOTIFIED, _S.NOTIFIED}),
    EspaceUse.CLOSE: frozenset({_S.CREATED, _S.ACTIVE, _S.SUSPENDED}),
    EspaceUse.CLOSE_WITH_CODE: frozenset({_S.CREATED}),
}
# Never seen by professionals: no espace (yet, or any more).
HIDDEN_FROM_PROFESSIONALS = frozenset(
    set(EspaceState.values) - _ALLOWED[EspaceUse.PROFESSIONAL_READ]
)

REFUSALS: dict[EspaceUse, str] = {
    EspaceUse.LOGIN: "profil non activé, clôturé ou suspendu",
    EspaceUse.CITIZEN_SIDE: "profil non activé",
    EspaceUse.PROFESSIONAL_READ: "aucun profil Mon espace santé pour cette personne",
    EspaceUse.DEPOSIT: "aucun profil ouvert pour recevoir ce document",
    EspaceUse.ACTIVATE: "ce profil ne peut pas être activé",
    EspaceUse.OPPOSE: "le profil est déjà créé : il peut être clôturé",
    EspaceUse.CLOSE: "ce profil n'est pas ouvert",
    EspaceUse.CLOSE_WITH_CODE: "clôture sans connexion réservée à un profil créé jamais activé",
}


def state_of(citizen: Citizen | uuid.UUID) -> str:
    """The espace's state (ACTIVE when the person predates enrolment)."""
    citizen_id = citizen if isinstance(citizen, uuid.UUID) else citizen.pk
    state = Espace.objects.filter(citizen_id=citizen_id).values_list("state", flat=True).first()
    return state or EspaceState.ACTIVE


def state_allows(state: str, what: EspaceUse | str) -> bool:
    return state in _ALLOWED[EspaceUse(what)]


def espace_allows(citizen: Citizen | uuid.UUID, what: EspaceUse | str) -> bool:
    """Does this person's espace, in its current state, allow `what` (an EspaceUse)?

    Pure read, no trace: the caller decides and traces (login, access decision, deposit)."""
    return state_allows(state_of(citizen), what)


def refusal(citizen: Citizen | uuid.UUID, what: EspaceUse | str) -> str:
    """Why `what` is refused ("" when allowed), in French, for a trace's reason."""
    return "" if espace_allows(citizen, what) else REFUSALS[EspaceUse(what)]


def login_refusal(user_id: int) -> str:
    """For the login step: the French message to show when the user's espace does not let them
    in ("" when it does, or when the user is no citizen). Said only after the right password,
    so it tells nothing to someone who does not hold the account."""
    state = Espace.objects.filter(citizen__user_id=user_id).values_list("state", flat=True).first()
    if state is None or state_allows(state, EspaceUse.LOGIN):
        return ""
    if state == EspaceState.CLOSED:
        return (
            "Votre profil Mon espace santé est clôturé. Vous pouvez le rouvrir depuis la page "
            "« Activer mon profil » : vos données archivées seront restaurées."
        )
    if state == EspaceState.SUSPENDED:
        return (
            "L'accès à votre profil est suspendu par l'Assurance Maladie. Appelez le 3422 "
            "(du lundi au vendredi, de 8 h 30 à 17 h 30)."
        )
    return "Votre profil n'est pas activé. Activez-le avec votre code provisoire."


def visible_to_professionals_q(prefix: str = "") -> Q:
    """A query condition keeping only people whose espace exists for professionals (an
    opposed espace never existed for them). `prefix` reaches the citizen from another model."""
    return ~Q(**{f"{prefix}espace__state__in": sorted(HIDDEN_FROM_PROFESSIONALS)})


def citizen_side_q(prefix: str = "") -> Q:
    """People whose espace the citizen side may open (an active espace, or no row).

    Also who is reminded: the prevention reminders, the appointment reminders and the
    campaigns go to the people who can read them, as the real service notifies its activated
    users (mes-spec §12, docs/decisions.md « Enrolment »): nobody is told of an espace not
    activated yet, opposed, suspended, closed or purged."""
    return Q(**{f"{prefix}espace__isnull": True}) | Q(
        **{f"{prefix}espace__state__in": sorted(_ALLOWED[EspaceUse.CITIZEN_SIDE])}
    )


def citizen_side_sql(citizen_id: str) -> str:
    """`citizen_side_q` for the set-based statements, on SQLite and PostgreSQL: `citizen_id` is
    the SQL of the person's id. One probe of the espace's primary key per person."""
    states = ", ".join(f"'{state}'" for state in sorted(_ALLOWED[EspaceUse.CITIZEN_SIDE]))
    return (
        f"NOT EXISTS (SELECT 1 FROM {Espace._meta.db_table} e "  # noqa: S608 - constants
        f"WHERE e.citizen_id = {citizen_id} AND e.state NOT IN ({states}))"
    )
