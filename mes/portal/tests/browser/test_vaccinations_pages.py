"""Camille's carnet de vaccination in a real browser: every page checked with axe-core, a
vaccination added through the form with its errors, Louis's carnet in the third person."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.conftest import pro
from mes.vaccinations import actions
from mes.vaccinations.models import Vaccination

from .conftest import check_a11y, login


def test_the_carnet_pages_are_accessible(page, live_server, camille, louis, dr_martin):
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    rappel = actions.vaccination_record_by_professional(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        vaccine_code="REVAXIS",
        vaccination_date=timezone.localdate() - timedelta(days=30),
    )
    login(page, live_server, camille)
    page.goto(live_server.url + "/profil-medical/vaccinations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes vaccinations")
    expect(page.get_by_role("heading", name="Vaccins à réaliser")).to_be_visible()
    check_a11y(page, "vaccinations")

    page.get_by_role("link", name="Vaccinations recommandées").click()
    expect(page.get_by_role("link", name="Vaccinations recommandées")).to_have_attribute(
        "aria-current", "page"
    )

    page.get_by_role("link", name="Ajouter une vaccination").first.click()
    page.get_by_role("button", name="Ajouter la vaccination").click()
    expect(page.get_by_role("alert")).to_contain_text("La date de vaccination est obligatoire.")
    check_a11y(page, "vaccination-ajouter-erreurs")

    page.get_by_label("Nom de la maladie ou du vaccin").select_option("VAXIGRIPTETRA")
    page.get_by_label("Date de vaccination").fill(
        (timezone.localdate() - timedelta(days=10)).isoformat()
    )
    page.get_by_label("Rappel de vaccination").check()
    page.get_by_label("Lot du vaccin (facultatif)").fill("X1234")
    page.get_by_role("button", name="Ajouter la vaccination").click()
    expect(page.get_by_role("status")).to_contain_text("Vaccination ajoutée")
    assert Vaccination.objects.get(patient=camille, vaccine_code="VAXIGRIPTETRA").lot == "X1234"
    check_a11y(page, "vaccination-detail")

    page.goto(f"{live_server.url}/profil-medical/vaccinations/{rappel.pk}/")
    expect(page.get_by_text(re.compile("ne peut pas être modifiée ou supprimée"))).to_be_visible()
    check_a11y(page, "vaccination-professionnel")

    page.get_by_role("button", name=re.compile("Profil affiché")).click()
    page.get_by_role("button", name="Louis Lefèvre").click()
    page.goto(live_server.url + "/profil-medical/vaccinations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Les vaccinations de Louis")
    expect(page.get_by_text("Papillomavirus (HPV) – 1re dose")).to_be_visible()
    check_a11y(page, "vaccinations-enfant")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger la synthèse de ses vaccinations").click()
    assert download.value.suggested_filename == "synthese-vaccinations-louis-lefevre.pdf"
