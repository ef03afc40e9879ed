"""The support desk (3422) in a real browser (Chromium, axe at 1280 and 390 px): Sophie logs
in with her password then the one-time code e-mailed to her, and finds an espace by NIR."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from playwright.sync_api import expect

from mes.backoffice.models_desk import SupportAgent
from mes.conftest import PASSWORD, make_citizen
from mes.enrolment.models import Espace, EspaceState
from mes.identity.models import User

from .conftest import check_a11y


@pytest.mark.django_db(transaction=True)
def test_sophie_logs_in_with_a_code_and_finds_an_espace(page, live_server):
    user = User.objects.create_user(
        username="sophie.agent",
        password=PASSWORD,
        kind=User.Kind.OPERATOR,
        first_name="Sophie",
        email="sophie@3422.example.org",
    )
    SupportAgent.objects.create(user=user)
    ines = make_citizen(
        None,
        first13="2900375056045",
        first_name="Inès",
        birth_name="Garnier",
        birth_date=date(1990, 3, 10),
        sex="F",
        email="ines@example.org",
    )
    Espace.objects.create(citizen=ines, state=EspaceState.NOTIFIED, vitale_serial="12345678901")

    page.goto(f"{live_server.url}/guichet/connexion/")
    check_a11y(page, "guichet-connexion")
    page.get_by_label("Identifiant").fill("sophie.agent")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/guichet/connexion/code/")
    check_a11y(page, "guichet-connexion-code")
    page.get_by_label(re.compile("^Code de connexion")).fill("000000")
    page.get_by_role("button", name="Valider et me connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    check_a11y(page, "guichet-connexion-code-erreur")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.get_by_label(re.compile("^Code de connexion")).fill(code)
    page.get_by_role("button", name="Valider et me connecter").click()
    page.wait_for_url(re.compile(r".*/guichet/$"))
    page.get_by_label("Numéro de sécurité sociale de la personne").fill(ines.ins)
    page.get_by_label("Numéro de sécurité sociale de la personne").press("Enter")
    expect(page.get_by_text(re.compile("Informé"))).to_be_visible()
    check_a11y(page, "guichet-profil")

    # The phone opposition, then its PDF proof for the caller.
    page.get_by_role("button", name="Enregistrer l'opposition").click()
    expect(page.get_by_text("Opposition enregistrée.")).to_be_visible()
    # The pointer left where the clicked button was would hover the link drawn there: a
    # hovered button is no state of the page to check.
    page.mouse.move(0, 0)
    check_a11y(page, "guichet-opposition")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("justificatif d'opposition")).click()
    assert download.value.suggested_filename.endswith(".pdf")

    # An active espace: a suspension by the Assurance Maladie, with its reason, then lifted.
    Espace.objects.filter(pk=ines.pk).update(state=EspaceState.ACTIVE)
    page.reload()
    page.get_by_role("button", name="Enregistrer la suspension").click()
    expect(page.get_by_text("Indiquez le motif.").first).to_be_visible()
    page.get_by_label("Motif").fill("usage frauduleux signalé")
    page.get_by_role("button", name="Enregistrer la suspension").click()
    expect(page.get_by_text("Suspension enregistrée.")).to_be_visible()
    page.mouse.move(0, 0)
    check_a11y(page, "guichet-suspension")
    page.get_by_label("Motif").fill("la titulaire s'y oppose, cause réglée")
    page.get_by_role("button", name="Lever la suspension").click()
    expect(page.get_by_text("Suspension levée")).to_be_visible()

    # A closure asked on the phone, then its PDF proof for the caller.
    page.get_by_role("button", name="Enregistrer la clôture").click()
    expect(page.get_by_text("Clôture enregistrée.")).to_be_visible()
    page.mouse.move(0, 0)
    check_a11y(page, "guichet-cloture")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("justificatif de clôture")).click()
    assert download.value.suggested_filename == "justificatif-cloture-mon-espace-sante.pdf"
