"""Pages found wanting while walking the demo from outside, in a real browser at desktop and
phone widths with axe-core."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.backoffice.models_desk import SupportAgent
from mes.carers import actions
from mes.carers.tests.conftest import make_isabelle, make_jacqueline
from mes.conftest import PASSWORD
from mes.identity.models import User

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


def test_an_answered_request_is_shown_from_its_notification(
    page, live_server, jacqueline, isabelle
):
    invitation = actions.carer_invite(
        actor=citizen_actor(jacqueline),
        aided_id=jacqueline.pk,
        birth_name=isabelle.birth_name,
        first_name=isabelle.first_name,
        birth_date=isabelle.birth_date,
        ins=isabelle.ins,
        declared=True,
    )
    actions.carer_accept(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
    login(page, live_server, isabelle)
    page.goto(live_server.url + "/notifications/")
    page.get_by_role("link", name="Voir la demande").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Devenir le proche aidant de Jacqueline Roux"
    )
    expect(page.get_by_text("Cette demande n'attend plus de réponse : acceptée")).to_be_visible()
    expect(page.get_by_role("button", name="Accepter")).to_have_count(0)
    check_a11y(page, "aidants-invitation-repondue")
    page.get_by_role("link", name="Voir les personnes que j'aide").click()
    expect(page).to_have_url(live_server.url + "/mon-compte/aidants/personnes-aidees/")
    expect(page.get_by_role("main").get_by_text("Jacqueline Roux").first).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_the_desk_offers_an_active_profile_its_closure_only(page, live_server, camille):
    user = User.objects.create_user(
        username="sophie.agent",
        password=PASSWORD,
        kind=User.Kind.OPERATOR,
        first_name="Sophie",
        email="sophie@3422.example.org",
    )
    SupportAgent.objects.create(user=user)
    page.goto(f"{live_server.url}/guichet/connexion/")
    page.get_by_label("Identifiant").fill("sophie.agent")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/guichet/connexion/code/")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.get_by_label(re.compile("^Code de connexion")).fill(code)
    page.get_by_role("button", name="Valider et me connecter").click()
    page.wait_for_url(re.compile(r".*/guichet/$"))
    page.get_by_label("Numéro de sécurité sociale de la personne").fill(camille.ins)
    page.get_by_label("Numéro de sécurité sociale de la personne").press("Enter")
    expect(page.get_by_text(re.compile("État du profil : Activé"))).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer la clôture")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer l'opposition")).to_have_count(0)
    expect(page.get_by_role("button", name="Envoyer le code")).to_have_count(0)
    check_a11y(page, "guichet-profil-actif")
