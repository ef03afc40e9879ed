"""« Mes raccourcis » (portal.md §1.4): each shortcut code of mes.preferences → a page here.

A shortcut whose page is not built in this deployment (Écrire un message before the messaging
area lands, Catalogue de services...) is neither offered nor shown, like the shell's sections.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from mes.preferences.models import Shortcut

# code → (URL name, query string, label on one's own profile, label on a represented profile)
TARGETS: dict[Shortcut, tuple[str, str, str, str]] = {
    Shortcut.DISEASES: (
        "portal:profile_diseases",
        "",
        "Voir mes maladies et sujets de santé",
        "Voir ses maladies et sujets de santé",
    ),
    Shortcut.TREATMENTS: (
        "portal:profile_treatments",
        "",
        "Voir mes traitements",
        "Voir ses traitements",
    ),
    Shortcut.VACCINATIONS: (
        "portal:vaccinations",
        "",
        "Voir mes vaccinations",
        "Voir ses vaccinations",
    ),
    Shortcut.ADD_TREATMENT: (
        "portal:profile_treatment_add",
        "",
        "Ajouter un traitement",
        "Ajouter un traitement",
    ),
    Shortcut.ADD_VACCINATION: (
        "portal:vaccination_add",
        "",
        "Ajouter une vaccination",
        "Ajouter une vaccination",
    ),
    Shortcut.MEASURES: ("portal:measures", "", "Voir mes mesures", "Voir ses mesures"),
    Shortcut.PROFESSIONALS: (
        "portal:profile_professionals",
        "",
        "Voir mes professionnels de santé",
        "Voir ses professionnels de santé",
    ),
    Shortcut.ADD_DOCUMENT: (
        "portal:document_add",
        "",
        "Ajouter un document",
        "Ajouter un document",
    ),
    Shortcut.FOLDERS: ("portal:folders", "", "Ajouter un dossier", "Ajouter un dossier"),
    Shortcut.PINNED: (
        "portal:documents",
        "?epingles=on",
        "Afficher mes documents épinglés",
        "Afficher ses documents épinglés",
    ),
    Shortcut.WRITE_MESSAGE: ("portal:messaging", "", "Écrire un message", "Écrire un message"),
    Shortcut.AGENDA: ("portal:agenda", "", "Voir mon agenda", "Voir son agenda"),
    Shortcut.CATALOGUE: (
        "portal:catalogue",
        "",
        "Accéder au catalogue de services",
        "Accéder au catalogue de services",
    ),
    Shortcut.ACCESS: (
        "portal:access",
        "",
        "Gérer les accès des professionnels de santé",
        "Gérer les accès des professionnels de santé",
    ),
    Shortcut.HISTORY: (
        "portal:history",
        "",
        "Accéder à l'historique d'activité",
        "Accéder à l'historique d'activité",
    ),
}


@dataclass(frozen=True)
class ShortcutLink:
    code: str
    label: str
    url: str


def link(code: Shortcut, *, own: bool) -> ShortcutLink | None:
    """The shortcut as a link, or None when its page is not built here."""
    url_name, query, own_label, other_label = TARGETS[code]
    try:
        url = reverse(url_name) + query
    except NoReverseMatch:
        return None
    return ShortcutLink(code.value, own_label if own else other_label, url)


def offered(*, own: bool) -> list[ShortcutLink]:
    """Every shortcut this deployment can show, in the catalogue's order."""
    return [lk for code in Shortcut if (lk := link(code, own=own)) is not None]


def links(codes: list[Shortcut], *, own: bool) -> list[ShortcutLink]:
    return [lk for code in codes if (lk := link(code, own=own)) is not None]
