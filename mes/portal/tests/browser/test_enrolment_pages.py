"""The espace's life in a real browser (Chromium, axe at 1280 and 390 px): Inès activates her
espace with the code of her notice, Hugo opposes the creation of his and downloads the proof,
Nadia closes hers, created and never activated, with her code, Camille closes hers signed in."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from playwright.sync_api import expect

from mes.access.actors import system_actor
from mes.conftest import PASSWORD, make_citizen
from mes.enrolment import lifecycle
from mes.enrolment.models import Espace, EspaceState

from .conftest import check_a11y, login, login_code_for

SERIAL = "802500000212"


def informed(first13: str, first_name: str, born: date, email: str):
    citizen = make_citizen(
        None,
        first13=first13,
        first_name=first_name,
        birth_name="Garnier",
        birth_date=born,
        sex="F",
        email=email,
    )
    Espace.objects.create(citizen=citizen, state=EspaceState.NOT_NOTIFIED, vitale_serial=SERIAL)
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=citizen.pk)
    code = re.search(r"([A-Z0-9]{5}-[A-Z0-9]{5})", mail.outbox[-1].body).group(1)
    return citizen, code


def fill_card(page, citizen, code) -> None:
    page.get_by_label("Code provisoire").fill(code)
    page.get_by_label("Numéro de sécurité sociale").fill(citizen.ins)
    page.get_by_label("Numéro de série de la carte Vitale").fill(SERIAL)
    page.get_by_label("Date de naissance de la personne").fill(citizen.birth_date.isoformat())


@pytest.mark.django_db(transaction=True)
def test_ines_activates_her_espace(page, live_server):
    ines, code = informed("2900375056045", "Inès", date(1990, 3, 10), "ines@example.org")
    page.goto(f"{live_server.url}/enrolement/")
    check_a11y(page, "enrolement-accueil")
    page.get_by_role("link", name="Activer mon profil").first.click()
    page.get_by_role("button", name="Continuer").click()  # empty: every field says what to do
    expect(page.get_by_role("alert")).to_contain_text("Saisissez votre code provisoire")
    check_a11y(page, "enrolement-activation-erreurs")
    fill_card(page, ines, code)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/activation/identifiant/")
    page.get_by_label("Identifiant", exact=True).fill("ines.garnier")
    page.get_by_label("Mot de passe", exact=True).fill("Jardin-Secret-2026!")
    page.get_by_label("Confirmation du mot de passe").fill("Jardin-Secret-2026!")
    page.get_by_label("Adresse e-mail").fill("ines@example.org")
    check_a11y(page, "enrolement-identifiant")
    page.get_by_role("button", name="Recevoir mon code de confirmation").click()
    page.wait_for_url("**/activation/confirmation/")
    check_a11y(page, "enrolement-confirmation")
    ines.refresh_from_db()
    page.get_by_label(re.compile("^Code de connexion")).fill(login_code_for(ines))
    page.get_by_role("button", name="Activer mon profil").click()
    page.wait_for_url("**/bienvenue/")
    assert Espace.objects.get(pk=ines.pk).state == EspaceState.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_hugo_opposes_and_gets_his_proof(page, live_server):
    hugo, code = informed("1850775056012", "Hugo", date(1985, 7, 1), "hugo@example.org")
    page.goto(f"{live_server.url}/enrolement/opposition/")
    check_a11y(page, "enrolement-opposition")
    fill_card(page, hugo, code)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/opposition/confirmation/")
    page.get_by_label(re.compile("^Je m'oppose")).check()
    check_a11y(page, "enrolement-opposition-confirmation")
    page.get_by_role("button", name="Confirmer mon opposition").click()
    page.wait_for_url("**/opposition/enregistree/")
    check_a11y(page, "enrolement-opposition-enregistree")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("justificatif")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Espace.objects.get(pk=hugo.pk).state == EspaceState.OPPOSED


@pytest.mark.django_db(transaction=True)
def test_nadia_closes_her_never_activated_espace_with_her_code(page, live_server):
    nadia, code = informed("2920575056033", "Nadia", date(1992, 5, 20), "nadia@example.org")
    lifecycle.espace_create(actor=system_actor("test"), espace=Espace.objects.get(pk=nadia.pk))
    page.goto(f"{live_server.url}/enrolement/")
    page.get_by_role("link", name="Clôturer mon profil sans l'activer").click()
    page.wait_for_url("**/enrolement/cloture/")
    check_a11y(page, "enrolement-cloture-code")
    fill_card(page, nadia, "ZZZZZ-ZZZZZ")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("alert")).to_contain_text("ne permettent pas de retrouver un profil")
    check_a11y(page, "enrolement-cloture-code-erreur")
    page.get_by_label("Code provisoire").fill(code)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/cloture/confirmation/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nadia Garnier")
    expect(page.get_by_text("archivées pendant 10 ans", exact=False).first).to_be_visible()
    check_a11y(page, "enrolement-cloture-code-confirmation")
    page.get_by_role("button", name="Clôturer le profil").click()  # the box unticked
    expect(page.get_by_role("alert")).to_contain_text("Cochez la case pour confirmer")
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.CREATED
    page.get_by_label(re.compile("^Je veux clôturer le profil")).check()
    page.get_by_role("button", name="Clôturer le profil").click()
    page.wait_for_url("**/cloture/enregistree/")
    expect(page.get_by_role("status")).to_contain_text("est clôturé")
    check_a11y(page, "enrolement-cloture-code-enregistree")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("justificatif de clôture")).click()
    assert download.value.suggested_filename == "justificatif-cloture-mon-espace-sante.pdf"
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.CLOSED


@pytest.mark.django_db(transaction=True)
def test_camille_closes_her_espace(page, live_server, camille):
    from django.utils import timezone

    from mes.access.models import PrivacySettings

    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    login(page, live_server, camille)
    page.goto(f"{live_server.url}/enrolement/cloture/accueil/")
    check_a11y(page, "enrolement-cloture")
    page.get_by_label("Votre mot de passe").fill(PASSWORD)
    page.get_by_label("Je veux clôturer mon profil Mon espace santé").check()
    page.get_by_role("button", name="Clôturer le profil").click()
    page.wait_for_url("**/enrolement/")
    expect(page.get_by_text("Votre profil est clôturé")).to_be_visible()
    assert Espace.objects.get(pk=camille.pk).state == EspaceState.CLOSED
