"""Camille's Messagerie pages: inbox, a conversation, reply and draft, saving an attachment,
deleting, a new message to a pharmacy — each with its denials (anonymous, a professional's
login, another patient) and its traces."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.identity.models import Citizen, Organisation, Professional
from mes.messaging.actions import IncomingFile
from mes.messaging.models import Conversation, Draft, Message
from mes.messaging.tests.fixtures import mail, martin_mailbox, pharmacy_mailbox, receive
from mes.records.models import Document

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


@pytest.fixture
def conv(camille: Citizen, dr_martin: Professional) -> Conversation:
    martin_mailbox(dr_martin)
    msg = receive(camille, mail(files=[IncomingFile("Compte rendu.pdf", make_pdf())]))
    return msg.conversation


@pytest.fixture
def as_camille(client: Any, camille: Citizen) -> Any:
    client.force_login(camille.user)
    return client


def test_inbox_lists_by_name_and_profession_never_the_address(as_camille: Any, conv: Any) -> None:
    page = as_camille.get(reverse("portal:messaging")).content.decode()
    assert "Compte rendu" in page and "Dr Anne Martin" in page and "Médecin" in page
    assert "anne.martin@medecin.mssante.fr" not in page
    assert f"{conv.patient.ins}@patient.mssante.fr" in page  # her own address, to give out
    assert "Nouveau message" in page
    unread = as_camille.get(reverse("portal:messaging") + "?non-lus=1").content.decode()
    assert "Compte rendu" in unread
    assert Trace.objects.filter(action=TraceAction.CONSULT_MESSAGING).count() == 2


def test_conversation_reply_with_a_photo_and_draft(as_camille: Any, conv: Any) -> None:
    url = reverse("portal:messaging_conversation", args=[conv.pk])
    assert "Compte rendu" in as_camille.get(url).content.decode()
    assert not Message.objects.filter(read_at__isnull=True).exists()
    reply = reverse("portal:messaging_reply", args=[conv.pk])
    r = as_camille.post(reply, {"intent": "draft", "body": "Je réfléchis"})
    assert r.status_code == 302 and Draft.objects.get().body == "Je réfléchis"
    assert "Je réfléchis" in as_camille.get(url).content.decode()
    photo = SimpleUploadedFile("photo.jpg", JPEG, content_type="image/jpeg")
    r = as_camille.post(reply, {"intent": "send", "body": "Voici la photo", "attachments": [photo]})
    assert r.status_code == 302
    sent = Message.objects.get(direction=Message.Direction.FROM_PATIENT)
    assert sent.attachments.get().mime_type == "image/jpeg" and not Draft.objects.exists()


def test_reply_refused_with_a_clear_message(as_camille: Any, conv: Any) -> None:
    bad = SimpleUploadedFile("x.pdf", b"<html>pas un pdf</html>", content_type="application/pdf")
    r = as_camille.post(
        reverse("portal:messaging_reply", args=[conv.pk]),
        {"intent": "send", "body": "x", "attachments": [bad]},
    )
    assert r.status_code == 400 and "seuls les fichiers PDF, JPEG et PNG" in r.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.FROM_PATIENT).exists()


def test_closed_conversation_shows_no_form(as_camille: Any, conv: Any, dr_martin: Any) -> None:
    receive(conv.patient, mail(in_reply_to=conv.messages.get().message_id, end=True))
    page = as_camille.get(reverse("portal:messaging_conversation", args=[conv.pk])).content
    assert "a mis fin aux échanges" in page.decode() and b"intent" not in page


def test_save_attachment_into_documents(as_camille: Any, conv: Any) -> None:
    att = conv.messages.get().attachments.get()
    url = reverse("portal:messaging_attachment_save", args=[att.pk])
    assert as_camille.get(url).status_code == 200
    r = as_camille.post(url, {"title": "CR consultation", "category": "CPT_REND"})
    assert r.status_code == 302
    doc = Document.objects.get(title="CR consultation")
    assert doc.category == "CPT_REND"
    download = as_camille.get(reverse("portal:messaging_attachment", args=[att.pk]))
    assert download["Content-Disposition"].startswith("attachment;")


def test_delete_conversation(as_camille: Any, conv: Any) -> None:
    url = reverse("portal:messaging_delete", args=[conv.pk])
    assert "Une fois supprimée" in as_camille.get(url).content.decode()
    assert as_camille.post(url).status_code == 302
    assert (
        as_camille.get(reverse("portal:messaging_conversation", args=[conv.pk])).status_code == 404
    )


def test_new_message_to_a_pharmacy(
    as_camille: Any, camille: Citizen, pharmacie_centre: Organisation
) -> None:
    box = pharmacy_mailbox(pharmacie_centre)
    page = as_camille.get(reverse("portal:messaging_new") + "?q=centre").content.decode()
    assert "Pharmacie du Centre" in page
    ordo = SimpleUploadedFile("ordo.jpg", JPEG, content_type="image/jpeg")
    r = as_camille.post(
        reverse("portal:messaging_new"),
        {
            "mailbox": str(box.pk),
            "subject": "Mon ordonnance",
            "body": "Bonjour",
            "attachments": [ordo],
        },
    )
    assert r.status_code == 302
    conv = Conversation.objects.get(started_by_patient=True)
    assert conv.counterpart == box


@pytest.mark.parametrize("who", ["anonymous", "bob", "professional"])
def test_denials(client: Any, conv: Any, bob: Citizen, dr_durand: Professional, who: str) -> None:
    if who == "bob":
        client.force_login(bob.user)
    elif who == "professional":
        client.force_login(dr_durand.user)
    att = conv.messages.get().attachments.get()
    urls = [
        reverse("portal:messaging_conversation", args=[conv.pk]),
        reverse("portal:messaging_attachment", args=[att.pk]),
        reverse("portal:messaging_attachment_save", args=[att.pk]),
        reverse("portal:messaging_delete", args=[conv.pk]),
    ]
    for url in urls:
        r = client.get(url)
        assert r.status_code in ((302,) if who == "anonymous" else (404,))
    r = client.post(reverse("portal:messaging_reply", args=[conv.pk]), {"body": "x"})
    assert r.status_code in ((302,) if who == "anonymous" else (404,))
    assert not Message.objects.filter(direction=Message.Direction.FROM_PATIENT).exists()
    if who == "bob":
        refused = Trace.objects.filter(
            patient_id=conv.patient_id, outcome=TraceOutcome.REFUSED, actor_id=bob.ins
        )
        assert refused.count() == 5


def test_parent_reads_the_childs_conversation(
    client: Any, camille: Any, louis: Any, dr_martin: Any
) -> None:
    martin_mailbox(dr_martin)
    msg = receive(louis, mail(subject="Vaccins de Louis"))
    client.force_login(camille.user)
    page = client.get(reverse("portal:messaging_conversation", args=[msg.conversation_id]))
    assert page.status_code == 200 and "Vaccins de Louis" in page.content.decode()
    inbox = client.get(reverse("portal:messaging")).content.decode()
    assert "Vaccins de Louis" in inbox  # the profile switched to Louis
