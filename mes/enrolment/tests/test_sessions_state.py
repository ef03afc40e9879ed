"""When the holder's access ends (suspension by the Assurance Maladie, closure on the phone at
the 3422, mes-spec §3.4), the sessions already open end too: a session opened before cannot
go on changing the password or the contact details of a suspended espace."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mes.access.actors import Actor, ActorKind
from mes.enrolment import lifecycle
from mes.enrolment.models import AccountSession

pytestmark = pytest.mark.django_db

CNAM = Actor(kind=ActorKind.INSURER, display_name="CNAM", national_id="CNAM")


def _signed_in(client, citizen):
    client.force_login(citizen.user)
    assert client.get(reverse("portal:account_password")).status_code == 200
    assert AccountSession.objects.filter(user=citizen.user).exists()
    return client


def test_a_suspension_ends_the_open_sessions(client, camille):
    _signed_in(client, camille)
    lifecycle.espace_suspend(actor=CNAM, citizen=camille, reason="usage frauduleux signalé")
    response = client.get(reverse("portal:account_password"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    assert not AccountSession.objects.filter(user=camille.user).exists()


def test_a_closure_at_the_desk_ends_the_open_sessions(client, camille):
    _signed_in(client, camille)
    agent = Actor(kind=ActorKind.SUPPORT, display_name="Conseiller 3422", national_id="support:x")
    lifecycle.espace_close(actor=agent, citizen=camille, channel=lifecycle.PHONE)
    response = client.get(reverse("portal:account_password"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
