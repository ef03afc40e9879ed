"""The portal's sections in ONE place (portal.md §1.1): the shell (base.html) renders them.

Each section names the place(s) where it shows: the phone's bottom tab bar, the « Plus » page
(« Autres rubriques ») on a phone, the desktop top menu, and the account menu. A section whose
URL name does not reverse yet (its area is not built) is simply absent: never a dead link. So
Messagerie (`portal:messaging`), Agenda (`portal:agenda`), Catalogue de services
(`portal:catalogue`), Mon histoire de santé (`portal:care_history`) and Prévention
(`portal:prevention`) appear by themselves the day their area adds its URL name.

The section that holds the current page is the one whose URL is the longest prefix of the
request's path (« / » only for itself): /profil-medical/vaccinations/ is Vaccinations, not
Profil médical, while /profil-medical/allergies/ is Profil médical.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.urls import NoReverseMatch, reverse


class Place(StrEnum):
    TAB = "tab"  # the phone's bottom tab bar (at most 4 sections, then « Plus »)
    MORE = "more"  # « Plus » → « Autres rubriques » on a phone
    DESKTOP = "desktop"  # the desktop top menu
    ACCOUNT = "account"  # the account menu (header) and the Paramètres page


TAB, MORE, DESKTOP, ACCOUNT = Place.TAB, Place.MORE, Place.DESKTOP, Place.ACCOUNT


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    url_name: str
    places: frozenset[Place]
    icon: str = "dot"  # the icon of the tab bar and the « Plus » list (portal/_icon.html)
    hint: str = ""  # one line on the « Plus » and Paramètres pages
    own_only: bool = False  # account-level pages: shown on one's own profile only
    parent: str = ""  # the desktop menu entry that holds it (Vaccinations → Profil médical)
    desktop_label: str = ""  # a longer label for the desktop menu (« Messagerie »)


def _s(
    key: str,
    label: str,
    url_name: str,
    *places: Place,
    icon: str = "dot",
    hint: str = "",
    own_only: bool = False,
    parent: str = "",
    desktop_label: str = "",
) -> Section:
    return Section(
        key, label, url_name, frozenset(places), icon, hint, own_only, parent, desktop_label
    )


# Order matters: it is the order of the tab bar, the menus and the « Plus » list.
SECTIONS: tuple[Section, ...] = (
    _s("home", "Accueil", "portal:home", TAB, DESKTOP, icon="home"),
    _s("documents", "Documents", "portal:documents", TAB, DESKTOP, icon="file"),
    _s(
        "messaging",
        "Messages",
        "portal:messaging",
        TAB,
        DESKTOP,
        icon="mail",
        hint="Échanger avec ses professionnels de santé",
        desktop_label="Messagerie",
    ),
    _s("profile", "Profil médical", "portal:profile", TAB, DESKTOP, icon="heart"),
    _s(
        "agenda",
        "Agenda",
        "portal:agenda",
        MORE,
        DESKTOP,
        icon="calendar",
        hint="Rendez-vous, rappels, examens et vaccinations à réaliser",
    ),
    _s(
        "prevention",
        "Prévention",
        "portal:prevention",
        MORE,
        DESKTOP,
        icon="leaf",
        hint="Articles et bilans de prévention",
    ),
    _s(
        "vaccinations",
        "Vaccinations",
        "portal:vaccinations",
        MORE,
        icon="syringe",
        hint="Le carnet de vaccination",
        parent="profile",
    ),
    _s(
        "care_history",
        "Mon histoire de santé",
        "portal:care_history",
        MORE,
        icon="clock",
        hint="Les soins remboursés par l'Assurance Maladie",
        parent="profile",
    ),
    _s(
        "catalogue",
        "Catalogue de services",
        "portal:catalogue",
        MORE,
        DESKTOP,
        icon="grid",
        hint="Applications référencées à relier à son profil",
    ),
    _s(
        "access",
        "Accès des professionnels",
        "portal:access",
        MORE,
        ACCOUNT,
        icon="key",
        hint="Qui peut consulter le profil, confidentialité, urgence",
    ),
    _s(
        "history",
        "Historique d'activité",
        "portal:history",
        MORE,
        ACCOUNT,
        icon="list",
        hint="Chaque consultation et chaque action sur le profil",
    ),
    _s(
        "settings",
        "Paramètres",
        "portal:settings",
        MORE,
        ACCOUNT,
        icon="gear",
        hint="Notifications, raccourcis, partage du profil",
    ),
    _s(
        "help",
        "Aide",
        "portal:help",
        MORE,
        ACCOUNT,
        icon="help",
        hint="Questions fréquentes et nous contacter",
    ),
)

MORE_KEY = "more"
MORE_LABEL = "Plus"


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    url: str
    icon: str
    hint: str
    current: bool
    aria_label: str = ""  # the tab's positional label (« Documents, onglet 2 sur 5 »)


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def available(*, own_profile: bool = True) -> list[tuple[Section, str]]:
    """The sections built in this deployment, with their URL, in the registry's order."""
    out = []
    for section in SECTIONS:
        url = _url(section.url_name)
        if url is not None and (own_profile or not section.own_only):
            out.append((section, url))
    return out


def current_key(path: str, sections: list[tuple[Section, str]]) -> str:
    """The key of the section holding `path`: the longest URL prefix wins (« / » only exact)."""
    best, best_len = "", -1
    for section, url in sections:
        matches = path == url if url == "/" else path.startswith(url)
        if matches and len(url) > best_len:
            best, best_len = section.key, len(url)
    return best


def _link(section: Section, url: str, current: str, aria_label: str = "") -> Link:
    return Link(
        section.key,
        section.label,
        url,
        section.icon,
        section.hint,
        section.key == current,
        aria_label,
    )


def _desktop_link(
    section: Section, url: str, current: str, sections: list[tuple[Section, str]]
) -> Link:
    parents = {s.key: s.parent for s, _ in sections}
    holds = section.key in (current, parents.get(current, ""))
    return Link(
        section.key, section.desktop_label or section.label, url, section.icon, section.hint, holds
    )


@dataclass(frozen=True)
class Navigation:
    tabs: list[Link]
    more: list[Link]
    desktop: list[Link]
    account: list[Link]


def navigation(path: str, *, own_profile: bool = True) -> Navigation:
    """The shell's links for a page at `path`. The « Plus » tab holds the current page when it
    is a section of the « Plus » list; the tabs carry their positional labels."""
    sections = available(own_profile=own_profile)
    current = current_key(path, sections)
    more_url = _url("portal:more")
    tab_sections = [(s, u) for s, u in sections if TAB in s.places]
    more_sections = [(s, u) for s, u in sections if MORE in s.places]
    count = len(tab_sections) + (1 if more_url and more_sections else 0)
    tabs = [
        _link(s, u, current, f"{s.label}, onglet {i} sur {count}")
        for i, (s, u) in enumerate(tab_sections, start=1)
    ]
    if more_url and more_sections:
        in_more = path.startswith(more_url) or any(s.key == current for s, _ in more_sections)
        tabs.append(
            Link(
                MORE_KEY,
                MORE_LABEL,
                more_url,
                "more",
                "",
                in_more,
                f"{MORE_LABEL}, onglet {count} sur {count}",
            )
        )
    return Navigation(
        tabs=tabs,
        more=[_link(s, u, current) for s, u in more_sections],
        desktop=[
            _desktop_link(s, u, current, sections) for s, u in sections if DESKTOP in s.places
        ],
        account=[_link(s, u, current) for s, u in sections if ACCOUNT in s.places],
    )
