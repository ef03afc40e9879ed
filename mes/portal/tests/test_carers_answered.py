"""The notification « … vous demande de devenir son proche aidant » keeps its link once the
request is answered: the aidant reads what became of it instead of an error page (found walking
the demo as Isabelle). Strangers still get « not found », traced."""

# The cast's fixtures are imported from the modules that define them.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.carers import actions
from mes.carers.models import CarerInvitation
from mes.notifications.models import Notification
from mes.portal.tests.test_carers_views import _as, isabelle, jacqueline  # noqa: F401


def invite(jacqueline, isabelle) -> CarerInvitation:
    """Jacqueline asks Isabelle to be her proche aidante, as « Envoyer ma demande » does."""
    return actions.carer_invite(
        actor=citizen_actor(jacqueline),
        aided_id=jacqueline.pk,
        birth_name=isabelle.birth_name,
        first_name=isabelle.first_name,
        birth_date=isabelle.birth_date,
        ins=isabelle.ins,
        declared=True,
    )


@pytest.mark.parametrize("answer", ["accept", "refuse", "cancel"])
def test_the_notification_link_still_leads_somewhere_once_answered(
    client, jacqueline, isabelle, answer
):
    invitation = invite(jacqueline, isabelle)
    if answer == "accept":
        actions.carer_accept(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
    elif answer == "refuse":
        actions.carer_refuse(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
    else:
        actions.carer_invitation_cancel(
            actor=citizen_actor(jacqueline), invitation_id=invitation.pk
        )
    link = Notification.objects.get(profile=isabelle, code=Notification.Code.CARER_INVITATION).url
    _as(client, isabelle)
    page = client.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Cette demande n'attend plus de réponse" in text
    expected = {"accept": "acceptée", "refuse": "refusée", "cancel": "annulée"}[answer]
    assert expected in text
    assert 'value="accepter"' not in text
    # Answering again changes nothing.
    again = client.post(link, {"reponse": "accepter"})
    assert again.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status != CarerInvitation.Status.PENDING


def test_a_stranger_or_the_aidee_gets_not_found_even_once_answered(
    client, jacqueline, isabelle, bob
):
    invitation = invite(jacqueline, isabelle)
    actions.carer_accept(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
    url = reverse("portal:carers_invitation", args=[invitation.pk])
    for who in (bob, jacqueline):
        client.logout()
        _as(client, who)
        assert client.get(url).status_code == 404
    assert (
        Trace.objects.filter(
            patient_id=jacqueline.pk, action=TraceAction.CARER_ACCEPT, outcome=TraceOutcome.REFUSED
        ).count()
        == 2
    )
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("portal:login") in anonymous["Location"]
