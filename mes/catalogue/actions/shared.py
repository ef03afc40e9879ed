"""What the catalogue's citizen and operator actions share: the plain-French lines of what a
purpose exchanges (wave2.md §1.4)."""

from __future__ import annotations

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
