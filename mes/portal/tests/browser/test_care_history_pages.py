"""Mon histoire de santé in a real browser: Camille's timeline grouped and filtered, a
dispensation's details and « Ajouter ce traitement », the confidentiality choice; every page
checked with axe-core at desktop and phone widths."""

from __future__ import annotations

import re

from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.reimbursements.models import CareHistorySettings, Episode
from mes.reimbursements.tests.conftest import history as history

from .conftest import check_a11y, login


def test_the_care_history_pages(page, live_server, camille, history):
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    login(page, live_server, camille)
    page.goto(live_server.url + "/histoire-de-sante/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon histoire de santé")
    expect(page.get_by_role("heading", name="Mars 2026")).to_be_visible()
    check_a11y(page, "histoire-de-sante")

    page.get_by_label("Délivrance de médicaments").check()
    page.get_by_label("Regrouper par").select_option("annee")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", name="2026")).to_be_visible()
    expect(page.get_by_text("VAXIGRIPTETRA")).to_have_count(0)
    check_a11y(page, "histoire-de-sante-filtree")

    page.get_by_role("link", name=re.compile("METFORMINE")).click()
    expect(page.get_by_text("Groupe thérapeutique")).to_be_visible()
    check_a11y(page, "histoire-de-sante-ligne")
    page.get_by_role("button", name="Ajouter ce traitement").click()
    expect(page.get_by_role("status")).to_contain_text("ajouté à la rubrique Traitements")
    expect(page.get_by_text("Déjà ajouté à la rubrique Traitements.")).to_be_visible()
    assert Episode.objects.get(pk=history[1].pk).treatment_entry_id is not None

    page.goto(live_server.url + "/histoire-de-sante/confidentialite/")
    check_a11y(page, "histoire-de-sante-confidentialite")
    page.get_by_label(re.compile("^Masquée aux professionnels")).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(
        page.get_by_text("Ces données sont masquées aux professionnels de santé.")
    ).to_be_visible()
    assert CareHistorySettings.objects.get(patient=camille).masked_from_professionals
