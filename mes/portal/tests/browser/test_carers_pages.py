"""Proches aidants in a real browser (portal.md §5.8): Jacqueline invites Isabelle through the
search, the identity check and the declaration; Isabelle accepts, switches to Jacqueline's profile
and opens the justificatif; every page checked with axe-core at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.carers.models import CarerDelegation
from mes.carers.tests.conftest import make_isabelle, make_jacqueline

from .conftest import check_a11y, login


@pytest.fixture
def jacqueline(transactional_db):
    citizen = make_jacqueline()
    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at=timezone.now())
    return citizen


@pytest.fixture
def isabelle(transactional_db):
    citizen = make_isabelle()
    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at=timezone.now())
    return citizen


def test_an_aidee_invites_and_the_aidante_acts_for_her(
    browser, page, live_server, jacqueline, isabelle
):
    login(page, live_server, jacqueline)
    page.goto(live_server.url + "/mon-compte/aidants/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Proches aidants")
    check_a11y(page, "aidants")

    page.get_by_role("link", name="Ajouter un proche aidant").click()
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("alert")).to_contain_text("Saisissez le nom de naissance")
    check_a11y(page, "aidants-recherche-erreurs")

    page.get_by_label("Nom de naissance").fill("ROUX")
    page.get_by_label("Prénom").fill("Isabelle")
    page.get_by_label("Date de naissance").fill(isabelle.birth_date.isoformat())
    page.get_by_label("Numéro de sécurité sociale").fill(isabelle.ins)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Je vérifie l'identité de mon proche aidant"
    )
    expect(page.get_by_text("Isabelle Roux")).to_be_visible()
    check_a11y(page, "aidants-verification")
    page.get_by_label(re.compile("Je déclare que la personne désignée")).check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("status")).to_contain_text("Votre demande a été envoyée")
    expect(page.get_by_text(re.compile("demande valable jusqu'au"))).to_be_visible()
    check_a11y(page, "aidants-demande-envoyee")

    # Isabelle, in another browser context, answers.
    other = browser.new_context(locale="fr-FR", base_url=live_server.url)
    pg = other.new_page()
    try:
        login(pg, live_server, isabelle)
        pg.goto(live_server.url + "/mon-compte/aidants/personnes-aidees/")
        check_a11y(pg, "aidants-personnes-aidees-demande")
        pg.get_by_role("link", name=re.compile("Répondre")).click()
        expect(pg.get_by_role("heading", level=1)).to_have_text(
            "Devenir le proche aidant de Jacqueline Roux"
        )
        check_a11y(pg, "aidants-invitation")
        pg.get_by_role("button", name="Accepter").click()
        expect(pg.get_by_role("status")).to_contain_text("Vous êtes désormais le proche aidant")
        check_a11y(pg, "aidants-personnes-aidees")
        delegation = CarerDelegation.objects.get(aided=jacqueline, carer=isabelle)

        pg.get_by_role("button", name=re.compile("Profil affiché")).click()
        # The entry may carry her unread count (« Jacqueline Roux 2 notifications non lues »).
        pg.get_by_role("button", name=re.compile(r"^Jacqueline Roux\b")).click()
        pg.goto(f"{live_server.url}/documents/{delegation.aided_proof_id}/")
        expect(pg.get_by_role("heading", level=1)).to_contain_text("Justificatif d'accès")
    finally:
        other.close()

    page.goto(live_server.url + "/mon-compte/historique-activite/?onglet=mes-activites")
    expect(page.get_by_text("(proche aidant)").first).to_be_visible()
