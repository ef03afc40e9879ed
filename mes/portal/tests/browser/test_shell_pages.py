"""The shell on a phone (390 px) and a desktop (1280 px), in Chromium (issue 8).

Every portal page is visited with check_a11y: axe-core without a serious or critical violation,
no sideways scrolling, no control off screen, and a screenshot of each width under
test-output/screenshots/. The bottom tab bar navigates every section; the error pages are in
French and in the service's look.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.conftest import make_pdf, pro
from mes.measures.actions import measurement_add
from mes.notifications.actions import notify
from mes.notifications.models import Notification
from mes.portal import navigation
from mes.records import actions
from mes.web.errors import STALE_LOGIN_MESSAGE

from .conftest import DESKTOP, PHONE, check_a11y, expect_error_page, layout_problems, login

# Every page of the portal a citizen reaches (the document's own page comes from the fixture).
PAGES = [
    ("/", "shell-accueil"),
    ("/documents/", "shell-documents"),
    ("/documents/ajouter/", "shell-document-ajout"),
    ("/documents/dossiers/", "shell-dossiers"),
    ("/profil-medical/", "shell-profil"),
    ("/profil-medical/identite/", "shell-identite"),
    ("/profil-medical/maladies/", "shell-maladies"),
    ("/profil-medical/traitements/", "shell-traitements"),
    ("/profil-medical/allergies/", "shell-allergies"),
    ("/profil-medical/groupe-sanguin/", "shell-groupe-sanguin"),
    ("/profil-medical/entourage/", "shell-entourage"),
    ("/profil-medical/professionnels-de-sante/", "shell-professionnels"),
    ("/profil-medical/habitudes-de-vie/", "shell-habitudes"),
    ("/profil-medical/don-organes/", "shell-don-organes"),
    ("/profil-medical/mesures/", "shell-mesures"),
    ("/profil-medical/mesures/GLUCOSE/", "shell-glycemie"),
    ("/profil-medical/vaccinations/", "shell-vaccinations"),
    ("/profil-medical/vaccinations/ajouter/", "shell-vaccination-ajout"),
    ("/profil-medical/synthese/", "shell-synthese"),
    ("/mon-compte/acces-professionnels/", "shell-acces"),
    ("/mon-compte/confidentialite/", "shell-confidentialite"),
    ("/mon-compte/acces-cas-urgence/", "shell-urgence"),
    ("/mon-compte/historique-activite/", "shell-historique"),
    ("/notifications/", "shell-notifications"),
    ("/plus/", "shell-plus"),
    ("/mon-compte/", "shell-parametres"),
    ("/mon-compte/raccourcis/", "shell-raccourcis"),
    ("/aide/", "shell-aide"),
    ("/aide/nous-contacter/", "shell-contact"),
    ("/aide/accessibilite/", "shell-accessibilite"),
    ("/aide/mentions-legales/", "shell-mentions"),
    ("/aide/cgu/", "shell-cgu"),
    ("/aide/donnees-personnelles/", "shell-donnees"),
]


@pytest.fixture
def camille_espace(camille, camille_actor, dr_martin, louis):
    """Camille, onboarded, with documents, a long glycémie series and unread notifications."""
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    docs = [
        actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf(f"Compte rendu {i}"),
            title=f"Compte rendu de consultation de cardiologie n° {i}",
            type_code="11490-0",
            service_date=date(2026, 1, 1) + timedelta(days=i),
        )
        for i in range(1, 13)
    ]
    now = timezone.now()
    for i in range(60):
        measurement_add(
            actor=camille_actor,
            patient_id=camille.pk,
            type_code="GLUCOSE",
            value=Decimal(95 + i % 7),
            effective_at=now - timedelta(hours=8 * i + 1),
            moment="53049-3" if i % 2 else "88365-2",
        )
    notify(
        profile=camille,
        code=Notification.Code.NEW_DOCUMENT,
        label="Le Dr Martin vous a ajouté le document « Compte rendu »",
        url=f"/documents/{docs[0].pk}/",
        link_label="Voir le document",
    )
    return docs


def test_every_portal_page_fits_a_phone_and_passes_axe(page, live_server, camille, camille_espace):
    login(page, live_server, camille)
    for url, name in [*PAGES, (f"/documents/{camille_espace[0].pk}/", "shell-document")]:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        check_a11y(page, name)


def test_the_tab_bar_navigates_every_section(page, live_server, camille, camille_espace):
    login(page, live_server, camille)
    page.set_viewport_size(PHONE)
    page.goto("/")
    tabs = page.get_by_role("navigation", name="Barre d’onglets")
    expect(tabs).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu principal")).to_be_hidden()
    # The tabs as the registry builds them today (Messages joins when the messaging lands).
    expected = navigation.navigation("/").tabs
    assert [t.key for t in expected][:2] == ["home", "documents"]
    assert expected[-1].key == "more" and len(expected) >= 4
    headings = {
        "home": "Bonjour Camille",
        "documents": "Mes documents",
        "profile": "Profil médical",
        "more": "Autres rubriques",
    }
    for i, tab in enumerate(expected, start=1):
        assert tab.aria_label == f"{tab.label}, onglet {i} sur {len(expected)}"
        tabs.get_by_role("link", name=tab.aria_label).click()
        expect(page).to_have_url(re.compile(re.escape(tab.url) + "$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(headings.get(tab.key, ""))
        expect(tabs.get_by_role("link", name=tab.aria_label)).to_have_attribute(
            "aria-current", "page"
        )
    # Every section of « Plus » opens, and the « Plus » tab stays the current one.
    more = page.locator("main .mes-link-list a")
    hrefs = [more.nth(i).get_attribute("href") for i in range(more.count())]
    assert len(hrefs) >= 5
    for href in hrefs:
        page.goto("/plus/")
        page.locator(f'main .mes-link-list a[href="{href}"]').click()
        expect(page).to_have_url(re.compile(re.escape(href) + "$"))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(tabs.get_by_role("link", name=expected[-1].aria_label)).to_have_attribute(
            "aria-current", "page"
        )
        # The tab bar never hides the end of the page: the footer's last link can be reached.
        last = page.locator("footer a").last
        last.scroll_into_view_if_needed()
        box, bar = last.bounding_box(), tabs.bounding_box()
        assert box is not None and bar is not None and box["y"] + box["height"] <= bar["y"] + 1


def test_desktop_shows_the_top_menu_not_the_tab_bar(page, live_server, camille, camille_espace):
    login(page, live_server, camille)
    page.set_viewport_size(DESKTOP)
    page.goto("/profil-medical/vaccinations/")
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu).to_be_visible()
    expect(page.get_by_role("navigation", name="Barre d’onglets")).to_be_hidden()
    # Vaccinations belong to Profil médical in the desktop menu.
    expect(menu.get_by_role("link", name="Profil médical")).to_have_attribute(
        "aria-current", "page"
    )
    # The bell shows the unread count; the account menu holds the account's pages.
    expect(
        page.get_by_role("link", name=re.compile(r"Notifications.*\d+ non lues?"))
    ).to_be_visible()
    page.get_by_role("button", name=re.compile("Profil affiché")).click()
    account = page.locator(".mes-profile-menu")
    for label in ("Accès des professionnels", "Historique d'activité", "Paramètres", "Aide"):
        expect(account.get_by_role("link", name=label, exact=True)).to_be_visible()


def test_documents_on_a_phone_list_first_filters_behind_a_button(
    page, live_server, camille, camille_espace
):
    login(page, live_server, camille)
    page.set_viewport_size(PHONE)
    page.goto("/documents/")
    first = page.get_by_role("list", name="Documents").get_by_role("link").first
    box = first.bounding_box()
    assert box is not None and box["y"] < PHONE["height"], f"first document at {box}"
    search = page.get_by_role("search", name="Rechercher, filtrer et trier les documents")
    expect(search).to_be_hidden()
    toggle = page.get_by_role("button", name="Rechercher, filtrer et trier")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(search).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    # Bootstrap's collapse is done opening (no longer `collapsing`) before the form is used.
    expect(search).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    search.get_by_label(re.compile("^Rechercher")).fill("n° 12")
    with page.expect_navigation():
        search.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("list", name="Documents").get_by_role("listitem")).to_have_count(1)
    # With a filter on, the filters stay open.
    expect(
        page.get_by_role("search", name="Rechercher, filtrer et trier les documents")
    ).to_be_visible()
    assert layout_problems(page) == []
    # On a desktop the filters are always shown, without the button.
    page.set_viewport_size(DESKTOP)
    page.goto("/documents/")
    expect(
        page.get_by_role("search", name="Rechercher, filtrer et trier les documents")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Rechercher, filtrer et trier")).to_be_hidden()


def test_the_measure_chart_uses_the_card_width_and_values_are_paged(
    page, live_server, camille, camille_espace
):
    login(page, live_server, camille)
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.goto("/profil-medical/mesures/GLUCOSE/")
        chart = page.locator("figure.mes-chart-box svg").first.bounding_box()
        card = page.locator("section[aria-labelledby='courbe-titre']").bounding_box()
        assert chart is not None and card is not None
        assert chart["width"] >= card["width"] * 0.85, (size, chart, card)
        height = page.evaluate("document.scrollingElement.scrollHeight")
        assert height < 6000, f"the page is {height} px long at {size}"
    expect(page.get_by_role("navigation", name="Pages des valeurs")).to_be_visible()


def test_a_table_becomes_cards_on_a_phone_with_every_button_on_screen(
    page, live_server, camille, camille_espace, ide_bernard
):
    login(page, live_server, camille)
    page.set_viewport_size(PHONE)
    page.goto("/mon-compte/acces-professionnels/")
    table = page.get_by_role("table", name=re.compile("Professionnels autorisés"))
    row = table.get_by_role("row").filter(has_text="Bernard")
    block = row.get_by_text("Bloquer", exact=True)
    block.scroll_into_view_if_needed()
    expect(block).to_be_in_viewport(ratio=1)
    assert layout_problems(page) == []
    check_a11y(page, "shell-acces-cartes")


# --- error pages --------------------------------------------------------------------------------


def test_error_pages_in_french_in_the_service_look(page, live_server, camille, camille_espace):
    for path in (
        "/nulle-part/",
        "/documents/00000000-0000-0000-0000-000000000000/",
        "/deconnexion/",
    ):
        expect_error_page(page, path)
    page.goto("/nulle-part/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    check_a11y(page, "erreur-404-anonyme")
    login(page, live_server, camille)
    page.goto("/documents/00000000-0000-0000-0000-000000000000/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(page.get_by_role("link", name="Retour à l'accueil")).to_be_visible()
    check_a11y(page, "erreur-404")
    page.goto("/deconnexion/")  # POST only
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Action impossible depuis cette adresse"
    )
    check_a11y(page, "erreur-405")
    page.get_by_role("link", name="Retour à l'accueil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Camille")


def test_a_stale_login_form_starts_a_fresh_login(page, live_server, camille):
    page.goto("/connexion/")
    page.context.clear_cookies()  # the form's CSRF cookie is gone, as after a long pause
    page.get_by_label("Identifiant").fill("camille")
    page.get_by_label("Mot de passe").fill("peu importe")
    page.get_by_role("button", name="Recevoir mon code de connexion").click()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("status")).to_contain_text(STALE_LOGIN_MESSAGE[:40])
    check_a11y(page, "connexion-expiree")


def test_camille_writes_to_the_support(page, live_server, camille, camille_espace):
    login(page, live_server, camille)
    page.set_viewport_size(PHONE)
    page.goto("/aide/")
    page.get_by_role("link", name="Nous contacter").first.click()
    page.get_by_label("Motif de la demande").select_option(label="Un document de santé")
    page.get_by_label("Votre message").fill("Un compte rendu apparaît deux fois.")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("alert")).to_contain_text("Cochez cet engagement")
    check_a11y(page, "contact-erreur")
    page.get_by_label(re.compile("^Je m'engage")).check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("status")).to_contain_text("a été envoyée au support")
    check_a11y(page, "contact-envoye")


def test_camille_picks_her_shortcuts(page, live_server, camille, camille_espace):
    login(page, live_server, camille)
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.get_by_role("link", name="Gérer mes raccourcis").click()
    group = page.get_by_role("group", name=re.compile("Mes raccourcis"))
    for label in ("Voir mes mesures", "Voir mes vaccinations"):
        group.get_by_label(label).check()
    page.get_by_role("button", name="Enregistrer").click()
    shortcuts = page.get_by_role("region", name="Mes raccourcis")
    shortcuts.get_by_role("link", name="Voir mes mesures").click()
    expect(page).to_have_url(re.compile(r"/profil-medical/mesures/$"))
