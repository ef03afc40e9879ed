"""The actor a paired service acts as (DESIGN.md §4: every request acts as an Actor)."""

from __future__ import annotations

from mes.access.actors import Actor, ActorKind
from mes.identity.models import User

from .models import Pairing


def app_actor(pairing: Pairing) -> Actor:
    """The service of this pairing, acting in the paired espace only. Traced as « <service> »
    with its editor's OID; the Historique d'activité shows it as « Service synchronisé »."""
    service = pairing.service
    return Actor(
        kind=ActorKind.APP,
        display_name=service.name,
        national_id=f"urn:oid:{service.oid}",
        software=service.name,
        pairing_id=pairing.id,
        on_behalf_of=pairing.patient_id,
    )


def catalogue_operator_actor(user: User) -> Actor:
    """A catalogue operator of the back office, traced under their own login."""
    return Actor(
        kind=ActorKind.SUPPORT,
        display_name=f"Opérateur du catalogue {user.get_full_name() or user.username}",
        user_id=user.pk,
        national_id=f"catalogue:{user.username}",
    )
