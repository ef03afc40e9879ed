"""Proches aidants in the portal (portal.md §5.8): Jacqueline invites Isabelle, who accepts and
then switches to Jacqueline's profile; every action shows in Jacqueline's Historique as the
aidant's. Denials: anonymous, a stranger, the aidant on the holder's pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.carers.models import CarerDelegation, CarerInvitation
from mes.carers.tests.conftest import delegate, make_isabelle, make_jacqueline
from mes.portal.access import PROFILE_SESSION_KEY


@pytest.fixture
def jacqueline(db):
    return make_jacqueline()


@pytest.fixture
def isabelle(db):
    return make_isabelle()


def _as(client, citizen, profile=None):
    client.force_login(citizen.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str((profile or citizen).pk)
    session.save()
    return client


def _traits(carer):
    return {
        "birth_name": carer.birth_name,
        "first_name": carer.first_name,
        "birth_date": carer.birth_date.isoformat(),
        "ins": carer.ins,
    }


def test_the_whole_story(client, jacqueline, isabelle):
    _as(client, jacqueline)
    page = client.get(reverse("portal:carers"))
    assert page.status_code == 200 and "Donner accès à mon profil" in page.content.decode()
    check = client.post(reverse("portal:carers_invite"), _traits(isabelle))
    assert check.status_code == 200
    assert "Je vérifie l'identité de mon proche aidant" in check.content.decode()
    assert "Isabelle Roux" in check.content.decode()
    without = client.post(
        reverse("portal:carers_invite"), {**_traits(isabelle), "etape": "envoyer"}
    )
    assert without.status_code == 200 and "Cochez la déclaration" in without.content.decode()
    sent = client.post(
        reverse("portal:carers_invite"),
        {**_traits(isabelle), "etape": "envoyer", "declaration": "on"},
    )
    assert sent.status_code == 302
    invitation = CarerInvitation.objects.get(aided=jacqueline, carer=isabelle)

    client.logout()
    _as(client, isabelle)
    mine = client.get(reverse("portal:carers_mine"))
    assert "Jacqueline Roux" in mine.content.decode()
    answer = client.get(reverse("portal:carers_invitation", args=[invitation.pk]))
    assert answer.status_code == 200
    accepted = client.post(
        reverse("portal:carers_invitation", args=[invitation.pk]), {"reponse": "accepter"}
    )
    assert accepted.status_code == 302
    delegation = CarerDelegation.objects.get(aided=jacqueline, carer=isabelle)

    # Isabelle switches to Jacqueline's profile like a parent to a child's.
    home = client.get(reverse("portal:documents"))
    assert "Jacqueline Roux" in home.content.decode()
    switched = client.post(reverse("portal:switch_profile"), {"profile": str(jacqueline.pk)})
    assert switched.status_code == 302
    docs = client.get(reverse("portal:documents"))
    assert docs.status_code == 200
    assert "Justificatif d&#x27;accès" in docs.content.decode()
    proof = client.get(reverse("portal:document", args=[delegation.aided_proof_id]))
    assert proof.status_code == 200
    consult = Trace.objects.get(
        patient_id=jacqueline.pk, action=TraceAction.CONSULT_DOC, acting_citizen_id=isabelle.pk
    )
    assert consult.actor_name == "Isabelle Roux"

    # The aidant may not manage the aidants of the aidé: not found, traced.
    assert client.get(reverse("portal:carers")).status_code == 404
    assert client.get(reverse("portal:carers_invite")).status_code == 404
    assert Trace.objects.filter(
        patient_id=jacqueline.pk, action=TraceAction.CONSULT_CARERS, outcome=TraceOutcome.REFUSED
    ).exists()

    # Jacqueline sees in her Historique that her aidante acted.
    client.logout()
    _as(client, jacqueline)
    history = client.get(reverse("portal:history"), {"onglet": "mes-activites"})
    body = history.content.decode()
    assert "Isabelle Roux" in body and "(proche aidant)" in body
    # She ends the access.
    ended = client.post(reverse("portal:carers_revoke", args=[delegation.pk]))
    assert ended.status_code == 302
    delegation.refresh_from_db()
    assert delegation.revoked_by == CarerDelegation.EndedBy.AIDED


def test_the_aidant_declines(client, jacqueline, isabelle):
    from mes.access.actors import citizen_actor
    from mes.carers import actions

    invitation = actions.carer_invite(
        actor=citizen_actor(jacqueline),
        aided_id=jacqueline.pk,
        declared=True,
        birth_name="Roux",
        first_name="Isabelle",
        birth_date=isabelle.birth_date,
        ins=isabelle.ins,
    )
    _as(client, isabelle)
    client.post(reverse("portal:carers_invitation", args=[invitation.pk]), {"reponse": "refuser"})
    invitation.refresh_from_db()
    assert invitation.status == CarerInvitation.Status.REFUSED


def test_a_wrong_identity_is_refused_with_a_clear_message(client, jacqueline, isabelle):
    _as(client, jacqueline)
    page = client.post(reverse("portal:carers_invite"), {**_traits(isabelle), "first_name": "Léa"})
    assert page.status_code == 200
    assert "Profil introuvable" in page.content.decode()
    assert not CarerInvitation.objects.exists()


def test_the_aidant_stops_helping(client, jacqueline, isabelle):
    delegation = delegate(jacqueline, isabelle)
    _as(client, isabelle)
    page = client.get(reverse("portal:carers_mine"))
    assert "Mettre fin à mon accès" in page.content.decode()
    client.post(reverse("portal:carers_revoke", args=[delegation.pk]))
    delegation.refresh_from_db()
    assert delegation.revoked_by == CarerDelegation.EndedBy.CARER
    # The aidé's profile is no longer in the switcher, nor reachable.
    refused = client.post(reverse("portal:switch_profile"), {"profile": str(jacqueline.pk)})
    assert refused.status_code == 404


@pytest.mark.parametrize("name", ["carers", "carers_invite", "carers_mine"])
def test_anonymous_is_sent_to_login(client, db, name):
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_a_stranger_can_neither_answer_nor_revoke(client, jacqueline, isabelle, bob):
    delegation = delegate(jacqueline, isabelle)
    _as(client, bob)
    assert client.post(reverse("portal:carers_revoke", args=[delegation.pk])).status_code == 404
    assert (
        client.get(reverse("portal:carers_invitation", args=[delegation.invitation_id])).status_code
        == 404
    )
    assert (
        client.post(reverse("portal:switch_profile"), {"profile": str(jacqueline.pk)}).status_code
        == 404
    )
    assert Trace.objects.filter(
        patient_id=jacqueline.pk, action=TraceAction.CARER_REVOKE, outcome=TraceOutcome.REFUSED
    ).exists()


def test_a_parent_on_a_childs_profile_does_not_manage_its_aidants(client, camille, louis):
    _as(client, camille, louis)
    assert client.get(reverse("portal:carers")).status_code == 404
