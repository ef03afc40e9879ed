"""What the catalogue's citizen and operator actions share: the refusal they trace, and the
plain-French lines of what a purpose exchanges (wave2.md §1.4)."""

from __future__ import annotations

import uuid

from mes.access.actors import Actor
from mes.audit.guard import Refused
from mes.audit.models import TraceAction, TraceOutcome

from ..models import DataCategory, ExchangeAction, PurposeExchange

UNKNOWN_PURPOSE = "Cette autorisation n'existe pas pour ce service."

# « MESURES AJOUTÉES / CONSULTÉES » (wave2.md §1.4): what an exchange does, in plain French.
_EXCHANGE_TITLES: dict[tuple[str, str], str] = {
    (DataCategory.MEASURES, ExchangeAction.WRITE): "Mesures ajoutées",
    (DataCategory.MEASURES, ExchangeAction.READ): "Mesures consultées",
    (DataCategory.DOCUMENTS, ExchangeAction.WRITE): "Documents ajoutés",
    (DataCategory.DOCUMENTS, ExchangeAction.READ): "Documents consultés",
    (DataCategory.AGENDA, ExchangeAction.WRITE): "Rendez-vous ajoutés à l'agenda",
    (DataCategory.AGENDA, ExchangeAction.READ): "Rendez-vous de l'agenda consultés",
    (DataCategory.PROFILE, ExchangeAction.WRITE): "Profil médical complété",
    (DataCategory.PROFILE, ExchangeAction.READ): "Synthèse du profil médical reçue",
}


def exchange_title(category: str, action: str) -> str:
    return _EXCHANGE_TITLES.get((category, action), f"{category} ({action})")


def exchange_line(exchange: PurposeExchange) -> str:
    """« Mesures ajoutées : glucose interstitiel, HbA1c, index de gestion de glycémie »."""
    title = exchange_title(exchange.category, exchange.action)
    return f"{title} : {exchange.details}" if exchange.details else title


def refused(
    actor: Actor,
    action: TraceAction,
    patient_id: uuid.UUID | None,
    why: str,
    title: str = "",
) -> Refused:
    """The NotFound a refused catalogue action raises; mes.audit.guard.traced_action writes its
    REFUSED trace (`why` as the reason, `title` as what was asked for)."""
    return Refused(
        {
            "actor": actor,
            "action": action,
            "outcome": TraceOutcome.REFUSED,
            "patient_id": patient_id,
            "reason": why[:200],
            "document_title": title[:255],
        }
    )
