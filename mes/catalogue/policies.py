"""What a paired service may do, from its pairing (mes-spec §8; wave2.md §1.4).

One rule, read from the rows and the clock (never from a job having run): a service exchanges
data with an espace only while
- the service is referenced « avec échange de données » and exchanging (en ligne or pré-série: a
  suspended or dereferenced service stops at once, an offline one too — it may still be unpaired);
- the pairing is active and names this espace;
- the re-approval deadline, if the service asked for new rights, has not passed;
- the account that paired it is the holder's, or still one of their legal representatives;
and then only for the data categories and actions of the purposes the citizen consented to.

`mes.access.decision` asks `pairing_facts` and stays the one place that allows or refuses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen

from .models import Consent, Pairing, PurposeExchange, Service

EXCHANGING = frozenset({Service.Status.ONLINE, Service.Status.PRESERIES})


@dataclass(frozen=True)
class PairingFacts:
    refusal: str  # why nothing is allowed; empty when the pairing stands
    exchanges: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    granted_by_holder: bool = False


def service_exchanges(service: Service) -> bool:
    """Whether the service may exchange data at all right now."""
    return service.exchanges_data and service.status in EXCHANGING


def pairing_lapsed(pairing: Pairing, now: datetime | None = None) -> bool:
    """Past its re-approval deadline without the citizen approving the new rights."""
    deadline = pairing.reapproval_deadline
    return deadline is not None and deadline <= (now or timezone.now())


def pairing_refusal(pairing: Pairing, patient: Citizen, now: datetime | None = None) -> str:
    """Why this pairing allows nothing on this espace right now, or "" when it stands."""
    if pairing.patient_id != patient.id:
        return "jeton d'un autre profil"
    if pairing.status != Pairing.Status.ACTIVE:
        return "service désynchronisé"
    if not service_exchanges(pairing.service):
        return f"service {pairing.service.get_status_display().lower()}"
    if pairing_lapsed(pairing, now):
        return "mise à jour des autorisations non approuvée avant la date limite"
    if pairing.granted_by_id != patient.user_id and not _still_represents(pairing, patient):
        # Paired by a legal representative: it acts for them, and stops with their
        # representation (the 18th birthday, mes-spec §3.5 [INF]).
        return "la personne qui a synchronisé ce service ne représente plus le titulaire"
    return ""


def _still_represents(pairing: Pairing, patient: Citizen) -> bool:
    return (
        LegalRepresentation.objects.current()
        .filter(representative__user_id=pairing.granted_by_id, represented=patient)
        .exists()
    )


def consented_exchanges(pairing: Pairing) -> frozenset[tuple[str, str]]:
    """The (category, action) pairs of the purposes the citizen consented to, as the citizen
    approved them: a purpose an operator changed since (`since_version` above the pairing's
    `approved_version`) counts again only once the citizen approved the new rights — an edit in
    the back office never widens what a paired service may do without the citizen."""
    rows = PurposeExchange.objects.filter(
        purpose__in=Consent.objects.filter(
            pairing=pairing, purpose__since_version__lte=pairing.approved_version
        ).values("purpose")
    ).values_list("category", "action")
    return frozenset((category, action) for category, action in rows)


def pairing_facts(pairing_id: uuid.UUID | None, patient: Citizen) -> PairingFacts:
    """Everything the access decision needs to know of an app's pairing with this espace."""
    pairing = (
        Pairing.objects.select_related("service").filter(pk=pairing_id).first()
        if pairing_id is not None
        else None
    )
    if pairing is None:
        return PairingFacts(refusal="aucun appariement")
    refusal = pairing_refusal(pairing, patient)
    if refusal:
        return PairingFacts(refusal=refusal)
    return PairingFacts(
        refusal="",
        exchanges=consented_exchanges(pairing),
        granted_by_holder=pairing.granted_by_id == patient.user_id,
    )


def is_catalogue_operator(actor: Actor) -> bool:
    """Operators of the catalogue: a back-office login (kind OPERATOR) with the active
    « Opérateur du catalogue de services » role. Not a 3422 agent, and no standing on any
    espace: they manage services, never see health data."""
    from mes.backoffice.models_desk import SupportAgent
    from mes.identity.models import User

    if actor.kind is not ActorKind.SUPPORT or actor.user_id is None:
        return False
    return SupportAgent.objects.filter(
        user_id=actor.user_id,
        active=True,
        role=SupportAgent.Role.CATALOGUE,
        user__kind=User.Kind.OPERATOR,
        user__is_active=True,
    ).exists()
