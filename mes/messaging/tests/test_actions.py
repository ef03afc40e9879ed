"""The messaging rules: who writes first, closing, threading, read state, drafts, trash,
attachments, « Enregistrer dans mes documents », and the traces on the patient's chain."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail as django_mail

from mes.access.actors import citizen_actor, system_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.identity.models import Citizen, Organisation, Professional
from mes.lib.errors import InvalidInput, NotFound
from mes.messaging import actions
from mes.messaging.actions import IncomingFile, Outgoing
from mes.messaging.models import Attachment, Conversation, Draft, Message
from mes.messaging.policies import access_conversation, access_inbox
from mes.notifications.models import Notification
from mes.records.models import Document
from mes.vault import store

from .fixtures import MARTIN_ADDRESS, mail, martin_mailbox, pharmacy_mailbox, receive

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def boxes(dr_martin: Professional, pharmacie_centre: Organisation) -> Any:
    return martin_mailbox(dr_martin), pharmacy_mailbox(pharmacie_centre)


def traces(patient: Citizen, action: TraceAction, outcome: str = TraceOutcome.ALLOWED) -> int:
    return Trace.objects.filter(patient_id=patient.pk, action=action, outcome=outcome).count()


def test_a_professional_writes_and_the_citizen_reads(
    camille: Citizen, boxes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        msg = receive(camille, mail(files=[IncomingFile("CR.pdf", make_pdf())]))
    conv = msg.conversation
    assert conv.patient == camille and conv.counterpart.address == MARTIN_ADDRESS
    att = msg.attachments.get()
    assert att.mime_type == "application/pdf"
    assert store.get(camille.pk, att.pk).startswith(b"%PDF-")
    assert traces(camille, TraceAction.RECEIVE_MESSAGE) == 1
    note = Notification.objects.get(profile=camille, code=Notification.Code.NEW_MESSAGE)
    assert "Dr Anne Martin" in note.label
    # The e-mail says only that a message is waiting: no sender, no subject.
    sent = django_mail.outbox[-1]
    assert sent.to == ["camille@example.org"]
    assert "Compte rendu" not in sent.body and "Martin" not in sent.body

    actor = citizen_actor(camille)
    access_inbox(actor, camille.pk)
    assert traces(camille, TraceAction.CONSULT_MESSAGING) == 1
    actions.conversation_read(actor=actor, conversation_id=conv.pk)
    assert Message.objects.get(pk=msg.pk).read_at is not None
    assert traces(camille, TraceAction.CONSULT_MESSAGE) == 1


def test_the_citizens_channel_choice_governs_the_alert(
    camille: Citizen, boxes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """« Messagerie » turned off for e-mail in the preferences (portal.md §7.3): the message
    still arrives and the centre says so, but no e-mail leaves."""
    from mes.notifications.models import Category, ChannelPreference

    ChannelPreference.objects.create(citizen=camille, category=Category.MESSAGES, email=False)
    before = len(django_mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        receive(camille, mail())
    assert Notification.objects.filter(profile=camille, code=Notification.Code.NEW_MESSAGE).exists()
    assert len(django_mail.outbox) == before


def test_the_reply_threads_and_is_sent(camille: Citizen, boxes: Any) -> None:
    first = receive(camille, mail())
    actor = citizen_actor(camille)
    sent = actions.message_reply(
        actor=actor,
        conversation_id=first.conversation_id,
        outgoing=Outgoing(body="Merci docteur", files=[("photo.png", PNG)]),
    )
    assert sent.in_reply_to == first.message_id and sent.to == [MARTIN_ADDRESS]
    assert sent.attachments.get().mime_type == "image/png"
    assert traces(camille, TraceAction.SEND_MESSAGE) == 1
    # The professional answers in the thread: same conversation.
    again = receive(camille, mail(in_reply_to=sent.message_id))
    assert again.conversation_id == first.conversation_id
    assert Conversation.objects.count() == 1


def test_closed_conversation_refuses_the_reply(camille: Citizen, boxes: Any) -> None:
    msg = receive(camille, mail(end=True))
    conv = Conversation.objects.get(pk=msg.conversation_id)
    assert conv.is_closed and conv.closed_by == boxes[0]
    before = Message.objects.count()
    with pytest.raises(InvalidInput, match="mis fin aux échanges"):
        actions.message_reply(
            actor=citizen_actor(camille), conversation_id=conv.pk, outgoing=Outgoing(body="Et ?")
        )
    assert Message.objects.count() == before


def test_web_ps_close(camille: Citizen, dr_martin: Professional, boxes: Any) -> None:
    msg = receive(camille, mail())
    actions.conversation_close(actor=pro(dr_martin), conversation_id=msg.conversation_id)
    assert Conversation.objects.get(pk=msg.conversation_id).is_closed
    assert traces(camille, TraceAction.CLOSE_CONVERSATION) == 1


def test_a_citizen_cannot_start_with_a_doctor_but_can_with_a_pharmacy(
    camille: Citizen, boxes: Any
) -> None:
    martin, pharmacy = boxes
    actor = citizen_actor(camille)
    with pytest.raises(NotFound):
        actions.conversation_start(
            actor=actor,
            patient_id=camille.pk,
            mailbox_id=martin.pk,
            subject="Bonjour",
            outgoing=Outgoing(body="Puis-je vous écrire ?"),
        )
    assert traces(camille, TraceAction.SEND_MESSAGE, TraceOutcome.REFUSED) == 1
    assert not Conversation.objects.exists()
    conv = actions.conversation_start(
        actor=actor,
        patient_id=camille.pk,
        mailbox_id=pharmacy.pk,
        subject="Mon ordonnance",
        outgoing=Outgoing(
            body="Voici mon ordonnance", files=[("ordo.pdf", make_pdf("Ordonnance"))]
        ),
    )
    assert conv.started_by_patient and conv.messages.get().to == [pharmacy.address]


def test_attachment_budget_and_formats(camille: Citizen, boxes: Any, settings: Any) -> None:
    msg = receive(camille, mail())
    actor = citizen_actor(camille)
    with pytest.raises(InvalidInput, match="PDF, JPEG et PNG"):
        actions.message_reply(
            actor=actor,
            conversation_id=msg.conversation_id,
            outgoing=Outgoing(body="x", files=[("x.txt", b"bonjour")]),
        )
    settings.MES_MESSAGE_ATTACHMENTS_MAX_BYTES = 100
    with pytest.raises(InvalidInput, match="au total"):
        actions.message_reply(
            actor=actor,
            conversation_id=msg.conversation_id,
            outgoing=Outgoing(body="x", files=[("p.pdf", make_pdf())]),
        )
    assert Message.objects.count() == 1 and Attachment.objects.count() == 0


def test_parent_sees_the_childs_conversation_others_do_not(
    camille: Citizen, louis: Citizen, bob: Citizen, dr_durand: Professional, boxes: Any
) -> None:
    msg = receive(louis, mail(subject="Vaccins de Louis"))
    assert access_conversation(citizen_actor(camille), msg.conversation_id).patient == louis
    with pytest.raises(NotFound):
        access_conversation(citizen_actor(bob), msg.conversation_id)
    with pytest.raises(NotFound):
        access_conversation(pro(dr_durand), msg.conversation_id)
    with pytest.raises(NotFound):
        access_inbox(citizen_actor(bob), louis.pk)
    refused = Trace.objects.filter(patient_id=louis.pk, outcome=TraceOutcome.REFUSED)
    assert {t.actor_id for t in refused} == {bob.ins, dr_durand.national_id}


def test_draft_one_per_conversation(camille: Citizen, boxes: Any) -> None:
    msg = receive(camille, mail())
    actor = citizen_actor(camille)
    actions.draft_save(actor=actor, conversation_id=msg.conversation_id, body="Premier jet")
    actions.draft_save(actor=actor, conversation_id=msg.conversation_id, body="Second jet")
    assert Draft.objects.get().body == "Second jet"
    actions.message_reply(
        actor=actor, conversation_id=msg.conversation_id, outgoing=Outgoing(body="Envoyé")
    )
    assert not Draft.objects.exists()


def test_trash_hides_the_conversation(camille: Citizen, boxes: Any) -> None:
    msg = receive(camille, mail())
    actor = citizen_actor(camille)
    actions.conversation_trash(actor=actor, conversation_id=msg.conversation_id)
    with pytest.raises(NotFound):
        access_conversation(actor, msg.conversation_id)
    assert traces(camille, TraceAction.DELETE_CONVERSATION) == 1
    # The professional writes again in that thread: a new conversation.
    again = receive(camille, mail(in_reply_to=msg.message_id))
    assert again.conversation_id != msg.conversation_id


def test_save_attachment_into_documents(camille: Citizen, boxes: Any) -> None:
    msg = receive(camille, mail(files=[IncomingFile("Compte rendu.pdf", make_pdf())]))
    att = msg.attachments.get()
    doc = actions.attachment_save_to_documents(
        actor=citizen_actor(camille),
        attachment_id=att.pk,
        category="CPT_REND",
        title="Compte rendu",
    )
    assert Document.objects.get(pk=doc.pk).patient == camille
    assert Attachment.objects.get(pk=att.pk).saved_document_id == doc.pk


def test_received_is_idempotent_and_rejects_unknown_senders(camille: Citizen, boxes: Any) -> None:
    incoming = mail()
    receive(camille, incoming)
    receive(camille, incoming)
    assert Message.objects.count() == 1
    with pytest.raises(actions.UnknownSender):
        receive(camille, mail(sender="inconnu@medecin.mssante.fr"))
    with pytest.raises(InvalidInput):
        receive(camille, mail(files=[IncomingFile("virus.exe", b"MZ\x90\x00binary")]))
    assert Message.objects.count() == 1 and Attachment.objects.count() == 0


def test_html_is_sanitised(camille: Citizen, boxes: Any) -> None:
    from dataclasses import replace

    incoming = replace(
        mail(),
        body_html='<p onclick="x()">Bonjour <script>alert(1)</script><img src="https://t/p.gif">'
        '<a href="javascript:x">lien</a></p>',
    )
    msg = receive(camille, incoming)
    assert "script" not in msg.body_html and "onclick" not in msg.body_html
    assert "img" not in msg.body_html and "javascript" not in msg.body_html
    assert msg.body_html.startswith("<p>Bonjour")


def test_delivery_retries_then_fails(
    camille: Citizen, boxes: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    msg = receive(camille, mail())
    settings.MES_MSSANTE_RELAY_HOST = "127.0.0.1"
    settings.MES_MSSANTE_RELAY_PORT = 1  # nothing listens: a temporary failure
    settings.MES_MSSANTE_RELAY_STARTTLS = False
    settings.MES_MESSAGE_DELIVERY_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        sent = actions.message_reply(
            actor=citizen_actor(camille),
            conversation_id=msg.conversation_id,
            outgoing=Outgoing(body="Bonjour"),
        )
    sent.refresh_from_db()
    assert sent.delivery == Message.Delivery.PENDING and sent.delivery_attempts == 1
    assert actions.message_deliver(actor=system_actor("t"), message_id=sent.pk) == "failed"
    sent.refresh_from_db()
    assert sent.delivery == Message.Delivery.FAILED
    assert Notification.objects.filter(code=Notification.Code.MESSAGE_NOT_DELIVERED).exists()
