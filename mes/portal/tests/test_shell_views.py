"""The shell (issue 8 items 1, 2): one registry of sections, the tab bar with positional labels,
« Plus », Paramètres, the home page and « Mes raccourcis »."""

from __future__ import annotations

from html import unescape

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path, reverse
from django.utils import timezone

from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.portal import navigation
from mes.portal.access import patient_view
from mes.preferences.actions import shortcuts_of
from mes.preferences.models import Shortcut


@patient_view
def _page(request):
    return HttpResponse("page")


class _URLConf:
    """A URLconf object (hashable, as Django's resolver cache needs)."""

    def __init__(self, urlpatterns: list) -> None:
        self.urlpatterns = urlpatterns


def _portal(*extra: tuple[str, str]) -> _URLConf:
    """A URLconf holding only the portal's shell pages (plus `extra` sections): the tests of the
    registry do not change when another area adds its URL name to the real project."""
    named = [
        ("home", ""),
        ("documents", "documents/"),
        ("profile", "profil-medical/"),
        ("vaccinations", "profil-medical/vaccinations/"),
        ("access", "mon-compte/acces-professionnels/"),
        ("history", "mon-compte/historique-activite/"),
        ("settings", "mon-compte/"),
        ("help", "aide/"),
        ("more", "plus/"),
        *extra,
    ]
    patterns = [path(route, _page, name=name) for name, route in named]
    return _URLConf([path("", include((patterns, "portal")))])


TODAY = _portal()
WITH_MESSAGING = _portal(("messaging", "messagerie/"))


def _onboarded(*citizens):
    for c in citizens:
        PrivacySettings.objects.filter(patient=c).update(onboarded_at=timezone.now())


@pytest.fixture
def as_camille(client, camille):
    _onboarded(camille)
    client.force_login(camille.user)
    return client


def _html(response) -> str:
    return unescape(response.content.decode())


# --- the registry -------------------------------------------------------------------------------


@override_settings(ROOT_URLCONF=TODAY)
def test_sections_not_built_are_absent_never_dead_links(db):
    keys = [s.key for s, _ in navigation.available()]
    assert "messaging" not in keys and "agenda" not in keys and "catalogue" not in keys
    assert keys[:3] == ["home", "documents", "profile"]
    nav = navigation.navigation("/documents/")
    assert [t.aria_label for t in nav.tabs] == [
        "Accueil, onglet 1 sur 4",
        "Documents, onglet 2 sur 4",
        "Profil médical, onglet 3 sur 4",
        "Plus, onglet 4 sur 4",
    ]
    assert [t.current for t in nav.tabs] == [False, True, False, False]


@override_settings(ROOT_URLCONF=WITH_MESSAGING)
def test_a_section_appears_the_day_its_url_name_exists(db):
    nav = navigation.navigation("/messagerie/")
    assert [t.label for t in nav.tabs] == [
        "Accueil",
        "Documents",
        "Messages",
        "Profil médical",
        "Plus",
    ]
    assert nav.tabs[2].aria_label == "Messages, onglet 3 sur 5" and nav.tabs[2].current
    assert "Messagerie" in [d.label for d in nav.desktop]


@override_settings(ROOT_URLCONF=TODAY)
def test_the_current_section_is_the_longest_prefix(db):
    nav = navigation.navigation("/profil-medical/vaccinations/")
    assert [t.key for t in nav.tabs if t.current] == ["more"]  # Vaccinations sits in « Plus »
    assert [d.key for d in nav.desktop if d.current] == ["profile"]  # under Profil médical
    nav = navigation.navigation("/profil-medical/allergies/")
    assert [t.key for t in nav.tabs if t.current] == ["profile"]
    assert [t.key for t in navigation.navigation("/").tabs if t.current] == ["home"]
    assert not any(t.current for t in navigation.navigation("/inconnu/").tabs)


def test_every_page_carries_the_tab_bar_and_the_desktop_menu(as_camille):
    html = _html(as_camille.get(reverse("portal:documents")))
    count = len(navigation.navigation("/").tabs)
    assert f'aria-label="Documents, onglet 2 sur {count}" aria-current="page"' in html
    assert '<nav class="container mes-nav d-none d-lg-block" aria-label="Menu principal">' in html
    for name in ("help", "contact", "accessibility", "legal_notice", "terms", "privacy"):
        assert f'href="{reverse("portal:" + name)}"' in html


# --- « Plus » and Paramètres -------------------------------------------------------------------


def test_more_lists_the_other_sections(as_camille):
    html = _html(as_camille.get(reverse("portal:more")))
    for label in (
        "Vaccinations",
        "Accès des professionnels",
        "Historique d'activité",
        "Paramètres",
        "Aide",
    ):
        assert label in html
    for section, url in navigation.available():
        if navigation.MORE in section.places:
            assert f'href="{url}"' in html


def test_settings_hub(as_camille):
    html = _html(as_camille.get(reverse("portal:settings")))
    assert "Gérer mes raccourcis" in html and reverse("portal:confidentiality") in html
    # The account's own pages, one click from Paramètres (never dead links).
    for name in (
        "account_information",
        "passkeys",
        "notification_preferences",
        "data_export",
        "share_links",
        "enrolment_closure",
        "carers",
    ):
        assert reverse(f"portal:{name}") in html, name
        assert as_camille.get(reverse(f"portal:{name}")).status_code == 200, name


def test_a_parent_on_the_childs_profile_sees_no_account_pages(as_camille, louis):
    as_camille.post(reverse("portal:switch_profile"), {"profile": str(louis.pk)})
    html = _html(as_camille.get(reverse("portal:settings")))
    assert reverse("portal:passkeys") not in html
    assert reverse("portal:account_information") not in html


@pytest.mark.parametrize("name", ["home", "more", "settings", "shortcuts"])
def test_anonymous_is_sent_to_login(client, db, name):
    url = reverse(f"portal:{name}")
    assert client.get(url)["Location"] == f"/connexion/?next={url}"


@pytest.mark.parametrize("name", ["home", "more", "settings", "shortcuts"])
def test_a_professional_account_gets_not_found(client, dr_martin, name):
    client.force_login(dr_martin.user)
    assert client.get(reverse(f"portal:{name}")).status_code == 404


# --- Accueil ------------------------------------------------------------------------------------


def test_home_blocks(as_camille, camille):
    html = _html(as_camille.get(reverse("portal:home")))
    assert "Bonjour Camille" in html
    assert "Compléter mon profil médical" in html
    assert "Examens médicaux et vaccinations à réaliser" in html
    assert "Mes raccourcis" in html and "Gérer mes raccourcis" in html
    assert "J'ai la main sur ma santé" in html  # an empty espace gets the pitch


def test_home_lists_what_the_prevention_calendar_says_is_due(as_camille, camille):
    from mes.access.actors import citizen_actor
    from mes.agenda.selectors import due_items

    due = due_items(citizen_actor(camille), camille, limit=3)
    assert due  # Camille, an adult woman, has screenings or boosters to do
    response = as_camille.get(reverse("portal:home"))
    html = _html(response)
    for item in due:
        assert item.label in html
        assert reverse("portal:agenda_item", args=[item.key]) in html
    assert "Voir mon agenda" in html


def test_home_of_louis_speaks_in_the_third_person(as_camille, louis):
    as_camille.post(reverse("portal:switch_profile"), {"profile": str(louis.pk)})
    html = _html(as_camille.get(reverse("portal:home")))
    assert "Profil de Louis" in html and "Compléter son profil médical" in html
    assert "Ses raccourcis" in html and "Mes raccourcis" not in html


# --- « Gérer mes raccourcis » -------------------------------------------------------------------


def test_camille_picks_her_shortcuts_and_sees_them_at_home(as_camille, camille):
    page = _html(as_camille.get(reverse("portal:shortcuts")))
    assert "Je peux ajouter jusqu'à 5 raccourcis" in page
    from mes.portal.home.shortcuts import offered

    # Only the shortcuts whose page exists here are offered (e.g. « Écrire un message » waits
    # for the messaging area).
    assert page.count('type="checkbox" name="codes"') == len(offered(own=True))
    response = as_camille.post(reverse("portal:shortcuts"), {"codes": ["MESURES", "MALADIES"]})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert shortcuts_of(camille) == [Shortcut.DISEASES, Shortcut.MEASURES]  # catalogue order
    home = _html(as_camille.get(reverse("portal:home")))
    assert f'href="{reverse("portal:measures")}"' in home and "Voir mes mesures" in home


def test_six_shortcuts_are_refused_in_french(as_camille, camille):
    six = ["MALADIES", "TRAITEMENTS", "VACCINATIONS", "MESURES", "ACCES", "HISTORIQUE"]
    response = as_camille.post(reverse("portal:shortcuts"), {"codes": six})
    assert response.status_code == 200
    assert "Vous ne pouvez pas ajouter plus de 5 raccourcis." in _html(response)
    assert shortcuts_of(camille) == []


def test_shortcuts_of_louis_are_his_own(as_camille, camille, louis):
    as_camille.post(reverse("portal:switch_profile"), {"profile": str(louis.pk)})
    as_camille.post(reverse("portal:shortcuts"), {"codes": ["VACCINATIONS"]})
    assert shortcuts_of(louis) == [Shortcut.VACCINATIONS] and shortcuts_of(camille) == []


def test_bob_cannot_touch_camilles_shortcuts(client, bob, camille):
    """Bob's session can only ever name his own profiles; a forged profile is refused."""
    _onboarded(bob)
    client.force_login(bob.user)
    response = client.post(reverse("portal:switch_profile"), {"profile": str(camille.pk)})
    assert response.status_code == 404
    client.post(reverse("portal:shortcuts"), {"codes": ["MESURES"]})
    assert shortcuts_of(camille) == [] and shortcuts_of(bob) == [Shortcut.MEASURES]
    assert not Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.SHORTCUTS, outcome=TraceOutcome.ALLOWED
    ).exists()
