"""The Web PS mailbox, end to end over real SMTP: dr_martin writes to Camille (found by INS)
with a report attached, the gateway stores it, Camille replies, dr_martin reads the reply and
ends the exchange. Denials: anonymous, an unrelated professional, a citizen's login."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.identity.models import Citizen, Professional
from mes.messaging import actions
from mes.messaging.models import Conversation, Message
from mes.messaging.tests.fixtures import martin_mailbox
from mes.mssante.server import Gateway
from mes.mssante.tests.conftest import gateway  # noqa: F401 - the running gateway fixture


@pytest.fixture
def webps(gateway: Gateway, settings: Any, client: Any, dr_martin: Professional) -> Any:  # noqa: F811
    settings.MES_WEBPS_SMTP_HOST = gateway.smtp.hostname
    settings.MES_WEBPS_SMTP_PORT = gateway.smtp.port
    martin_mailbox(dr_martin)
    client.force_login(dr_martin.user)
    return client


def test_write_read_reply_close(webps: Any, camille: Citizen) -> None:
    report = SimpleUploadedFile("cr.pdf", make_pdf("Compte rendu"), content_type="application/pdf")
    r = webps.post(
        reverse("pro:messaging"),
        {
            "ins": camille.ins,
            "subject": "Compte rendu",
            "body": "Bonjour Camille",
            "attachments": [report],
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    conv = Conversation.objects.get(patient=camille)
    assert conv.messages.get().attachments.get().mime_type == "application/pdf"
    assert Trace.objects.filter(patient_id=camille.pk, action=TraceAction.RECEIVE_MESSAGE).exists()

    actions.message_reply(
        actor=citizen_actor(camille),
        conversation_id=conv.pk,
        outgoing=actions.Outgoing(body="Merci docteur"),
    )
    page = webps.get(reverse("pro:messaging_conversation", args=[conv.pk]))
    assert "Merci docteur" in page.content.decode()
    assert not Message.objects.filter(
        direction=Message.Direction.FROM_PATIENT, read_at__isnull=True
    ).exists()

    r = webps.post(reverse("pro:messaging_conversation", args=[conv.pk]), {"body": "Bonne journée"})
    assert r.status_code == 302
    assert Conversation.objects.get().messages.count() == 3  # threaded by In-Reply-To

    assert webps.post(reverse("pro:messaging_close", args=[conv.pk])).status_code == 302
    assert Conversation.objects.get().is_closed


def test_unknown_ins_is_said_in_french(webps: Any) -> None:
    r = webps.post(
        reverse("pro:messaging"),
        {"ins": "299999999999999", "subject": "Test", "body": "Bonjour"},
    )
    assert r.status_code == 400
    assert "Aucun espace santé n&#x27;est ouvert à cette adresse" in r.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "durand", "citizen"])
def test_denials(
    client: Any,
    camille: Citizen,
    dr_martin: Professional,
    dr_durand: Professional,
    bob: Citizen,
    who: str,
) -> None:
    from mes.messaging.tests.fixtures import mail, receive

    martin_mailbox(dr_martin)
    conv = receive(camille, mail()).conversation
    if who == "durand":
        client.force_login(dr_durand.user)
    elif who == "citizen":
        client.force_login(bob.user)
    r = client.get(reverse("pro:messaging_conversation", args=[conv.pk]))
    assert r.status_code in (302, 404)
    r = client.post(reverse("pro:messaging_close", args=[conv.pk]))
    assert r.status_code in (302, 404)
    assert not Conversation.objects.get().is_closed
    if who == "durand":
        assert (
            Trace.objects.filter(
                patient_id=camille.pk, outcome=TraceOutcome.REFUSED, actor_id=dr_durand.national_id
            ).count()
            == 2
        )
        listing = client.get(reverse("pro:messaging")).content.decode()
        assert conv.subject not in listing
