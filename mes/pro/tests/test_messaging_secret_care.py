"""The Web PS marks a minor's secret care, over real SMTP to the gateway: the checkbox
« Invisible aux représentants légaux (soins sous secret, art. L1111-5 CSP) » on a new message
(refused with a French error for an adult, nothing stored) and on a reply to a minor (offered
only there; a confidential reply opens its own conversation; in a confidential conversation
every reply stays confidential). Denials: anonymous, an unrelated professional."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.identity.models import Citizen, Professional
from mes.messaging.models import Conversation, Message
from mes.messaging.tests.fixtures import mail, receive
from mes.messaging.tests.test_secret_care import lea as lea
from mes.mssante.tests.conftest import gateway as gateway
from mes.pro.tests.test_messaging_views import webps as webps

LABEL = "Invisible aux représentants légaux (soins sous secret, art. L1111-5 CSP)"


def test_a_new_confidential_message_to_a_minor(webps: Any, lea: Citizen) -> None:
    page = webps.get(reverse("pro:messaging")).content.decode()
    assert LABEL in page
    r = webps.post(
        reverse("pro:messaging"),
        {
            "ins": lea.ins,
            "subject": "Contraception",
            "body": "Bonjour Léa",
            "hidden_from_representatives": "on",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    message = Message.objects.get(conversation__patient=lea)
    assert message.hidden_from_representatives
    received = Trace.objects.get(patient_id=lea.pk, action=TraceAction.RECEIVE_MESSAGE)
    assert received.hidden_from_representatives
    listing = webps.get(reverse("pro:messaging")).content.decode()
    assert "Confidentiel : invisible aux représentants légaux" in listing
    page = webps.get(reverse("pro:messaging_conversation", args=[message.conversation_id]))
    assert "Conversation confidentielle" in page.content.decode()


def test_refused_for_an_adult_with_a_clear_message(webps: Any, camille: Citizen) -> None:
    r = webps.post(
        reverse("pro:messaging"),
        {
            "ins": camille.ins,
            "subject": "Compte rendu",
            "body": "Bonjour",
            "hidden_from_representatives": "on",
        },
    )
    assert r.status_code == 400
    assert "Seul un message à un patient mineur" in r.content.decode()
    assert not Message.objects.exists()


def test_the_reply_offers_it_for_a_minor_only(
    webps: Any, lea: Citizen, camille: Citizen, dr_martin: Professional
) -> None:
    adult = receive(camille, mail(sender="anne.martin@medecin.mssante.fr", subject="Bilan"))
    page = webps.get(reverse("pro:messaging_conversation", args=[adult.conversation_id]))
    assert LABEL not in page.content.decode()
    # A forged field is ignored where it is not offered.
    r = webps.post(
        reverse("pro:messaging_conversation", args=[adult.conversation_id]),
        {"body": "Suite", "hidden_from_representatives": "on"},
    )
    assert r.status_code == 302
    assert not Message.objects.filter(hidden_from_representatives=True).exists()

    ordinary = receive(lea, mail(subject="Vaccins"))
    url = reverse("pro:messaging_conversation", args=[ordinary.conversation_id])
    assert LABEL in webps.get(url).content.decode()
    r = webps.post(url, {"body": "Et pour la pilule…", "hidden_from_representatives": "on"})
    secret = Message.objects.get(hidden_from_representatives=True)
    assert secret.conversation_id != ordinary.conversation_id  # its own conversation
    assert r.status_code == 302 and r["Location"].endswith(f"/{secret.conversation_id}/")
    # In the confidential conversation the box is gone: every reply is confidential.
    url = reverse("pro:messaging_conversation", args=[secret.conversation_id])
    assert LABEL not in webps.get(url).content.decode()
    assert webps.post(url, {"body": "Rendez-vous mardi"}).status_code == 302
    follow = Message.objects.filter(conversation=secret.conversation).order_by("-at").first()
    assert follow is not None and follow.hidden_from_representatives
    assert Conversation.objects.filter(patient=lea).count() == 2


def test_denials(client: Any, lea: Citizen, dr_durand: Professional, webps: Any) -> None:
    secret = receive(lea, mail(subject="Contraception"))
    Message.objects.filter(pk=secret.pk).update(hidden_from_representatives=True)
    url = reverse("pro:messaging_conversation", args=[secret.conversation_id])
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(dr_durand.user)
    assert client.get(url).status_code == 404
    refused = Trace.objects.get(patient_id=lea.pk, outcome=TraceOutcome.REFUSED)
    assert refused.actor_id == dr_durand.national_id
