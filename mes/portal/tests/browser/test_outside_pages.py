"""Pages found wanting while walking the demo from outside, in a real browser at desktop and
phone widths with axe-core."""

# The cast's fixtures are imported from the modules that define them.
# ruff: noqa: F811

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from mes.access.actors import citizen_actor
from mes.backoffice.testing import emailed_code
from mes.backoffice.tests.test_desk import sophie  # noqa: F401
from mes.carers import actions
from mes.conftest import PASSWORD
from mes.portal.tests.test_carers_answered import invite

from .conftest import check_a11y, login
from .test_carers_pages import isabelle, jacqueline  # noqa: F401


def test_an_answered_request_is_shown_from_its_notification(
    page,
    live_server,
    jacqueline,
    isabelle,
):
    invitation = invite(jacqueline, isabelle)
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
def test_the_desk_offers_an_active_profile_its_closure_only(page, live_server, camille, sophie):
    page.goto(f"{live_server.url}/guichet/connexion/")
    page.get_by_label("Identifiant").fill(sophie.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/guichet/connexion/code/")
    page.get_by_label(re.compile("^Code de connexion")).fill(emailed_code())
    page.get_by_role("button", name="Valider et me connecter").click()
    page.wait_for_url(re.compile(r".*/guichet/$"))
    page.get_by_label("Numéro de sécurité sociale de la personne").fill(camille.ins)
    page.get_by_label("Numéro de sécurité sociale de la personne").press("Enter")
    expect(page.get_by_text(re.compile("État du profil : Activé"))).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer la clôture")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer l'opposition")).to_have_count(0)
    expect(page.get_by_role("button", name="Envoyer le code")).to_have_count(0)
    check_a11y(page, "guichet-profil-actif")
