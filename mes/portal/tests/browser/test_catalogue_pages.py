"""The Catalogue de services and Services synchronisés in a real browser (wave2.md §1.4, portal.md
§5.5): Camille browses, filters, searches, opens a service and reports it; then, with a pairing
made by the factory, changes a purpose, sees the re-approval banner, approves, and unpairs. Every
page checked with axe-core at desktop and phone widths."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.catalogue.models import Consent, Pairing, Service, ServiceReport
from mes.catalogue.registry import reference_service
from mes.catalogue.testing import glucose_service, pair
from mes.conftest import make_citizen
from mes.demo.story_catalogue import LOGOS

from .conftest import check_a11y, login


@pytest.fixture
def camille(transactional_db):
    from datetime import date

    citizen = make_citizen(
        "camille",
        first13="2850575056012",
        first_name="Camille",
        birth_name="Lefèvre",
        birth_date=date(1985, 5, 14),
        sex="F",
        email="camille@example.org",
    )
    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at=timezone.now())
    return citizen


@pytest.fixture
def services(transactional_db):
    glyco = glucose_service()
    Service.objects.filter(pk=glyco.pk).update(
        name="Tension Facile", pairing_url="https://tension.exemple.fr/synchroniser"
    )
    glyco.refresh_from_db()
    glyco.logo.save("tension.svg", ContentFile((LOGOS / "tension-facile.svg").read_bytes()))
    quit_ = reference_service(
        oid="1.2.250.1.999.2",
        slug="souffle-libre",
        name="Souffle Libre",
        editor_name="Association Air Pur",
        category="prevention",
        summary="Un accompagnement gratuit pour arrêter de fumer.",
        description="Un programme personnalisé et une communauté d'entraide.",
    ).service
    quit_.logo.save("souffle.svg", ContentFile((LOGOS / "souffle-libre.svg").read_bytes()))
    return glyco, quit_


def test_browse_filter_search_open_and_report(page, live_server, camille, services):
    login(page, live_server, camille)
    page.goto(live_server.url + "/catalogue-de-services/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue de services")
    expect(page.get_by_role("link", name="Tension Facile")).to_be_visible()
    check_a11y(page, "catalogue")

    page.get_by_label("Thématique").select_option("prevention")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("link", name="Souffle Libre")).to_be_visible()
    expect(page.get_by_role("link", name="Tension Facile")).to_have_count(0)

    page.get_by_label("Thématique").select_option("")
    page.get_by_label("Données échangées").select_option("mesures")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("link", name="Tension Facile")).to_be_visible()
    expect(page.get_by_role("link", name="Souffle Libre")).to_have_count(0)

    page.get_by_label("Données échangées").select_option("")
    page.get_by_label("Rechercher un service").fill("air pur")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("heading", name="1 service")).to_be_visible()
    check_a11y(page, "catalogue-recherche")

    page.goto(live_server.url + "/catalogue-de-services/")
    page.get_by_role("link", name="Tension Facile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tension Facile")
    expect(
        page.get_by_text("Mesures ajoutées : glucose interstitiel, HbA1c, index de gestion")
    ).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Synchroniser"))).to_have_attribute(
        "href", "https://tension.exemple.fr/synchroniser"
    )
    check_a11y(page, "catalogue-service")

    page.get_by_role("link", name="Signaler ce service").click()
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.get_by_text("Choisissez le motif du signalement.")).to_be_visible()
    check_a11y(page, "catalogue-signaler-erreur")
    page.get_by_label("Contenu inexact ou trompeur").check()
    page.get_by_label("Commentaire (facultatif)").fill("Les conseils affichés sont anciens.")
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.get_by_role("status")).to_contain_text("votre signalement de Tension Facile")
    expect(page.get_by_text(re.compile("Dernier signalement de votre part"))).to_be_visible()
    assert ServiceReport.objects.get().reason == "contenu"


def test_synced_services_change_reapprove_and_unpair(page, live_server, camille, services):
    glyco, _ = services
    pairing = pair(glyco, camille, purposes=["11", "12"])
    login(page, live_server, camille)
    page.goto(live_server.url + "/catalogue-de-services/synchronises/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Services synchronisés")
    check_a11y(page, "services-synchronises")

    page.get_by_role("switch", name="Consulter mes mesures").uncheck()
    page.get_by_role("button", name=re.compile("Enregistrer mes autorisations")).click()
    expect(page.get_by_role("status").first).to_contain_text("sont enregistrées")
    codes = set(Consent.objects.filter(pairing=pairing).values_list("purpose__code", flat=True))
    assert codes == {"11"}

    # The service asks for new rights (published by an operator).
    Service.objects.filter(pk=glyco.pk).update(rights_version=2)
    glyco.purposes.filter(code="41").update(since_version=2)
    Pairing.objects.filter(pk=pairing.pk).update(
        reapproval_deadline=timezone.now() + timedelta(days=20)
    )
    page.reload()
    expect(
        page.get_by_text(re.compile("La mise à jour des autorisations de Tension Facile est"))
    ).to_be_visible()
    check_a11y(page, "services-synchronises-mise-a-jour")
    page.get_by_role("switch", name=re.compile("Ajouter mes rendez-vous")).check()
    page.get_by_role("button", name=re.compile("Approuver les autorisations")).click()
    expect(page.get_by_role("status").first).to_contain_text("sont à jour")
    pairing.refresh_from_db()
    assert pairing.approved_version == 2 and pairing.reapproval_deadline is None

    page.get_by_role("link", name="Désynchroniser Tension Facile").click()
    expect(page.get_by_text(re.compile("ne pourra plus échanger de données"))).to_be_visible()
    check_a11y(page, "services-synchronises-desynchroniser")
    page.get_by_role("button", name="Désynchroniser Tension Facile").click()
    expect(page.get_by_role("link", name="Découvrir le catalogue de services")).to_be_visible()
    assert Pairing.objects.get(pk=pairing.pk).status == Pairing.Status.UNPAIRED
