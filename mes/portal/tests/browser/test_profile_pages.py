"""Camille's Profil médical in a real browser: every page checked with axe-core, an allergy
added through the form with its errors, Louis's profile in the third person."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from mes.access.actors import citizen_actor
from mes.conftest import pro
from mes.medical_profile import actions
from mes.medical_profile.inputs import AllergyInput
from mes.medical_profile.models import Allergy

from .conftest import check_a11y, login


def onboarded(citizen):
    from django.utils import timezone

    from mes.access.models import PrivacySettings

    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at=timezone.now())


def test_profile_pages_are_accessible(page, live_server, camille, dr_martin):
    onboarded(camille)
    actions.blood_group_set(actor=pro(dr_martin), patient_id=camille.pk, value="OPOS")
    login(page, live_server, camille)
    page.get_by_role("link", name="Profil médical", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Profil médical")
    check_a11y(page, "profil-medical")

    page.get_by_role("link", name="Allergies").first.click()
    expect(page.get_by_role("heading", name="J'ajoute mes allergies")).to_be_visible()
    check_a11y(page, "profil-allergies-vide")

    page.get_by_role("link", name="Ajouter une allergie").click()
    page.get_by_label("Nom de l'allergène").fill("Pénicilline !")
    page.get_by_role("group", name=re.compile("^Date de début")).get_by_label("Année").fill("1970")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_role("alert")).to_contain_text("Caractères refusés")
    check_a11y(page, "profil-allergie-erreurs")

    page.get_by_label("Nom de l'allergène").fill("Pénicilline")
    page.get_by_role("group", name=re.compile("^Date de début")).get_by_label("Année").fill("2001")
    page.get_by_label("Sévérité (facultatif)").select_option("SEVERE")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_role("status")).to_contain_text("Allergie ajoutée")
    assert Allergy.objects.get(patient=camille).name == "Pénicilline"
    check_a11y(page, "profil-allergies")

    page.get_by_role("link", name=re.compile("^Supprimer")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer cette allergie ?")
    check_a11y(page, "profil-allergie-supprimer")
    page.get_by_role("button", name="Supprimer définitivement").click()
    expect(page.get_by_role("status")).to_contain_text("Allergie supprimée")

    for path, name in (
        ("/profil-medical/traitements/ajouter/", "profil-traitement-ajouter"),
        ("/profil-medical/handicaps/ajouter/", "profil-handicap-ajouter"),
        ("/profil-medical/entourage/ajouter/?role=is_trusted", "profil-contact-ajouter"),
        ("/profil-medical/entourage/", "profil-entourage"),
        ("/profil-medical/groupe-sanguin/", "profil-groupe-sanguin"),
        ("/profil-medical/professionnels-de-sante/?nom=martin&commune=&profession=", "profil-ps"),
        ("/profil-medical/don-organes/", "profil-don-organes"),
        ("/profil-medical/habitudes-de-vie/", "profil-habitudes"),
        ("/profil-medical/habitudes-de-vie/TOBACCO/", "profil-habitudes-tabac"),
        ("/profil-medical/identite/", "profil-identite"),
    ):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        check_a11y(page, name)


def test_a_childs_profile_speaks_of_the_child(page, live_server, camille, louis):
    onboarded(camille)
    actions.entry_add(
        actor=citizen_actor(camille), patient_id=louis.pk, data=AllergyInput(name="Arachide")
    )
    login(page, live_server, camille)
    page.get_by_role("button", name=re.compile("Profil affiché")).click()
    page.get_by_role("button", name="Louis Lefèvre").click()
    page.goto(live_server.url + "/profil-medical/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Profil médical de Louis")
    check_a11y(page, "profil-medical-enfant")
    page.goto(live_server.url + "/profil-medical/allergies/")
    expect(page.get_by_role("heading", name="Arachide")).to_be_visible()
    page.goto(live_server.url + "/profil-medical/maladies/")
    expect(
        page.get_by_role("button", name="Louis n'a pas de maladie ou de sujet de santé à ajouter")
    ).to_be_visible()
