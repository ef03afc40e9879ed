"""« Partage du profil » (portal.md §6): a parent shares the management of a child's profile with
the second parent, who accepts; strangers and the child's own espace see nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.enrolment.models import LegalRepresentation, ProfileShareRequest
from mes.notifications.models import Notification
from mes.portal.access import PROFILE_SESSION_KEY


def _as(client, citizen, profile=None):
    client.force_login(citizen.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str((profile or citizen).pk)
    session.save()
    return client


def _form(pierre, **changes):
    data = {
        "birth_name": "LEFÈVRE",
        "first_name": "pierre",
        "birth_date": "1983-06-02",
        "ins": pierre.ins,
        "role": "father",
        "declaration": "on",
    }
    return {**data, **changes}


def test_a_parent_shares_the_childs_profile_and_the_other_parent_accepts(
    client, camille, louis, pierre
):
    _as(client, camille, louis)
    page = client.get(reverse("portal:share_profile"))
    assert page.status_code == 200
    assert "Le profil de Louis Lefèvre est géré par" in page.content.decode()

    response = client.post(reverse("portal:share_profile"), _form(pierre))

    assert response.status_code == 302
    invitation = ProfileShareRequest.objects.get()
    assert invitation.invitee == pierre and invitation.pending
    note = Notification.objects.get(profile=pierre, code=Notification.Code.PROFILE_SHARE)
    assert note.url == reverse("portal:share_invitation", args=[invitation.pk])
    shared = Trace.objects.get(patient_id=louis.pk, action=TraceAction.SHARE_PROFILE)
    assert shared.outcome == TraceOutcome.ALLOWED and shared.document_title == "Pierre Lefèvre"

    client.logout()
    _as(client, pierre)
    answer = client.get(note.url)
    assert "Accepter en tant que représentant légal" in answer.content.decode()
    client.post(note.url, {"reponse": "accepter"})

    link = LegalRepresentation.objects.current().get(representative=pierre, represented=louis)
    assert link.role == "father"
    accepted = Trace.objects.get(patient_id=louis.pk, action=TraceAction.ACCEPT_SHARE)
    assert accepted.actor_id == pierre.ins
    # Louis is now in Pierre's profile switcher, and his dossier opens.
    _as(client, pierre, louis)
    assert client.get(reverse("portal:documents")).status_code == 200


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"first_name": "Paul"}, "ne correspondent à aucun profil"),
        ({"ins": "1830675056079"}, "doit compter 15 caractères"),
        ({"declaration": ""}, "Cochez la déclaration"),
        ({"birth_date": "02/06/1983x"}, "Saisissez une date valide"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(
    client, camille, louis, pierre, changes, message
):
    _as(client, camille, louis)
    response = client.post(reverse("portal:share_profile"), _form(pierre, **changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ProfileShareRequest.objects.exists()
    assert not Notification.objects.filter(profile=pierre).exists()


def test_sharing_with_someone_who_already_manages_the_profile(client, camille, louis):
    _as(client, camille, louis)
    response = client.post(
        reverse("portal:share_profile"),
        _form(camille, birth_name="Lefèvre", first_name="Camille", birth_date="1985-05-14"),
    )
    assert response.status_code == 422
    assert "gère déjà ce profil" in response.content.decode()


def test_own_profile_stranger_and_anonymous_see_nothing(client, camille, louis, bob, pierre):
    url = reverse("portal:share_profile")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    _as(client, camille)  # her own profile: nothing to share
    assert client.get(url).status_code == 404
    refused = Trace.objects.filter(action=TraceAction.SHARE_PROFILE, outcome="refused")
    assert refused.count() == 1

    # Bob may not answer an invitation addressed to Pierre, nor cancel it.
    from mes.enrolment.actions import profile_share_request

    invitation = profile_share_request(
        actor=citizen_actor(camille),
        represented_id=louis.pk,
        birth_name="Lefèvre",
        first_name="Pierre",
        birth_date=date(1983, 6, 2),
        ins=pierre.ins,
        role="father",
    )
    client.logout()
    _as(client, bob)
    assert client.get(reverse("portal:share_invitation", args=[invitation.pk])).status_code == 404
    response = client.post(
        reverse("portal:share_invitation", args=[invitation.pk]), {"reponse": "accepter"}
    )
    assert response.status_code == 404
    assert client.post(reverse("portal:share_cancel", args=[invitation.pk])).status_code == 404
    assert not LegalRepresentation.objects.filter(representative=bob).exists()
    invitation.refresh_from_db()
    assert invitation.pending


def test_a_professional_user_gets_not_found(client, dr_martin, louis):
    client.force_login(dr_martin.user)
    assert client.get(reverse("portal:share_profile")).status_code == 404


def test_the_requester_cancels_and_the_invitee_declines(client, camille, louis, pierre):
    from mes.enrolment import actions

    def invite():
        return actions.profile_share_request(
            actor=citizen_actor(camille),
            represented_id=louis.pk,
            birth_name="Lefèvre",
            first_name="Pierre",
            birth_date=date(1983, 6, 2),
            ins=pierre.ins,
            role="father",
        )

    first = invite()
    _as(client, camille, louis)
    client.post(reverse("portal:share_cancel", args=[first.pk]))
    first.refresh_from_db()
    assert not first.pending
    second = invite()
    client.logout()
    _as(client, pierre)
    client.post(reverse("portal:share_invitation", args=[second.pk]), {"reponse": "refuser"})
    second.refresh_from_db()
    assert not second.pending and second.accepted_at is None
    assert not LegalRepresentation.objects.filter(representative=pierre).exists()
    assert Trace.objects.filter(patient_id=louis.pk, action=TraceAction.CANCEL_SHARE).count() == 2
