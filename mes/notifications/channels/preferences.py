"""Each account's choice of channels per category (« Mon compte > Notifications »): read one
(`preference`: e-mail on and SMS off by default, security forced on), list them for the page,
save them, traced.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from mes.identity.models import Citizen

from ..models import Category, ChannelPreference
from .rules import MANDATORY


def preference(citizen: Citizen, category: Category) -> ChannelPreference:
    """The account's choice for a category (default: e-mail on, SMS off); security is forced."""
    pref = ChannelPreference.objects.filter(citizen=citizen, category=category).first()
    if pref is None:
        pref = ChannelPreference(citizen=citizen, category=category)
    if category in MANDATORY:
        pref.email = True
    return pref


def preferences_of(citizen: Citizen) -> list[tuple[Category, ChannelPreference, bool]]:
    """Every category with the account's choice and whether it may be turned off."""
    return [(c, preference(citizen, c), c not in MANDATORY) for c in Category]


def preferences_set(*, citizen: Citizen, choices: dict[str, dict[str, Any]]) -> None:
    """Save the account's channels per category; security stays on whatever is sent."""
    for category in Category:
        if category in MANDATORY:
            continue
        chosen = choices.get(category.value, {})
        ChannelPreference.objects.update_or_create(
            citizen=citizen,
            category=category,
            defaults={"email": bool(chosen.get("email")), "sms": bool(chosen.get("sms"))},
        )


def preferences_record(*, actor: Any, citizen: Citizen, choices: dict[str, dict[str, Any]]) -> None:
    """preferences_set, traced on the account holder's chain (« Gestion des notifications »)."""
    from mes.audit import trace
    from mes.audit.models import TraceAction

    with transaction.atomic():
        preferences_set(citizen=citizen, choices=choices)
        trace.record(
            actor=actor,
            action=TraceAction.NOTIFICATIONS,
            patient_id=citizen.pk,
            document_title="Choix des canaux de notification",
        )
