"""A minor's secret care in the messagerie (issue 14 §5, L1111-5, R1111-50): Dr Martin writes to
Léa, 16, about contraception and marks the message INVISIBLE_REPRESENTANTS_LEGAUX. Léa (her own
account) and Dr Martin read it; her mother Camille, who manages Léa's espace, never does — not
in the list, not the conversation (refused exactly as an unknown one, and traced out of her
sight), not its file, not its unread mark, not in the data download, not in a notification.
A conversation is confidential whole: a secret message never joins one the parents read, and
what is written into a confidential one stays confidential."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import uuid
import zipfile
from datetime import date
from typing import Any

import pytest
from django.core import mail as django_mail
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.history import HistoryTab, history_traces
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_citizen, make_pdf, pro
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen, Professional
from mes.lib.errors import InvalidInput, NotFound
from mes.messaging import actions
from mes.messaging.actions import IncomingFile, Outgoing
from mes.messaging.models import Attachment, Conversation, Message
from mes.messaging.policies import (
    access_conversation,
    conversations_visible_to,
    unread_filter,
    visible_messages,
)
from mes.notifications.models import Delivery, Notification
from mes.portal.access import PROFILE_SESSION_KEY
from mes.takeout.export import export_download, export_request

from .fixtures import mail, martin_mailbox, receive

SECRET_SUBJECT = "Contraception"


@pytest.fixture
def lea(camille: Citizen) -> Citizen:
    """Camille's daughter, 16, with her own account."""
    child = make_citizen(
        "lea",
        first13="2100975056045",
        first_name="Léa",
        birth_name="Lefèvre",
        birth_date=date(2010, 9, 1),
        sex="F",
        email="lea@example.org",
    )
    LegalRepresentation.objects.create(
        representative=camille, represented=child, role=LegalRepresentation.Role.MOTHER
    )
    return child


@pytest.fixture
def box(dr_martin: Professional) -> Any:
    return martin_mailbox(dr_martin)


def secret_mail(**kwargs: Any) -> actions.IncomingMail:
    kwargs.setdefault("subject", SECRET_SUBJECT)
    return dataclasses.replace(mail(**kwargs), hidden_from_representatives=True)


def secret_message(lea: Citizen) -> Message:
    return receive(
        lea, secret_mail(files=[IncomingFile("ordonnance pilule.pdf", make_pdf("Pilule"))])
    )


def test_the_minor_and_the_professional_read_it_the_parent_never(
    lea: Citizen, camille: Citizen, dr_martin: Professional, box: Any
) -> None:
    secret = secret_message(lea)
    ordinary = receive(lea, mail(subject="Certificat de sport"))
    assert secret.hidden_from_representatives and not ordinary.hidden_from_representatives
    conv = secret.conversation
    att = secret.attachments.get()
    minor, mother = citizen_actor(lea), citizen_actor(camille)

    # Léa: both conversations, the message, its file.
    assert set(conversations_visible_to(minor, lea)) == {conv, ordinary.conversation}
    assert list(
        visible_messages(minor, actions.conversation_read(actor=minor, conversation_id=conv.pk))
    ) == [secret]
    assert actions.attachment_content(actor=minor, attachment_id=att.pk)[1].startswith(b"%PDF-")
    # Dr Martin, the other party: the conversation whole.
    assert access_conversation(pro(dr_martin), conv.pk) == conv

    # Camille: only the ordinary conversation; the secret one answered as unknown.
    assert list(conversations_visible_to(mother, lea)) == [ordinary.conversation]
    with pytest.raises(NotFound) as unknown:
        access_conversation(mother, uuid.uuid4())
    with pytest.raises(NotFound) as refused:
        actions.conversation_read(actor=mother, conversation_id=conv.pk)
    assert str(refused.value) == str(unknown.value)
    with pytest.raises(NotFound):
        actions.attachment_content(actor=mother, attachment_id=att.pk)
    with pytest.raises(NotFound):
        actions.message_reply(actor=mother, conversation_id=conv.pk, outgoing=Outgoing(body="?"))
    with pytest.raises(NotFound):
        actions.conversation_trash(actor=mother, conversation_id=conv.pk)
    assert Conversation.objects.get(pk=conv.pk).trashed_at is None

    # Each refusal is traced on Léa's chain, out of her parents' sight.
    refusals = Trace.objects.filter(
        patient_id=lea.pk, outcome=TraceOutcome.REFUSED, actor_id=camille.ins
    )
    assert refusals.count() == 4
    assert all(t.hidden_from_representatives and "R1111-50" in t.reason for t in refusals)
    # What happened in the secret conversation is hidden from the parents' history too.
    received = Trace.objects.get(
        patient_id=lea.pk, action=TraceAction.RECEIVE_MESSAGE, document_title=SECRET_SUBJECT
    )
    assert received.hidden_from_representatives
    read = Trace.objects.get(
        patient_id=lea.pk,
        action=TraceAction.CONSULT_MESSAGE,
        actor_id=lea.ins,
        document_title=SECRET_SUBJECT,
    )
    assert read.hidden_from_representatives
    assert (
        Trace.objects.filter(
            patient_id=lea.pk, hidden_from_representatives=False, action=TraceAction.RECEIVE_MESSAGE
        )
        .get()
        .document_title
        == "Certificat de sport"
    )


def test_the_unread_mark_counts_for_the_minor_only(
    lea: Citizen, camille: Citizen, box: Any
) -> None:
    secret = secret_message(lea)
    receive(lea, mail(subject="Certificat de sport"))
    mine = Message.objects.filter(unread_filter(citizen_actor(lea), lea))
    theirs = Message.objects.filter(unread_filter(citizen_actor(camille), lea))
    assert secret in mine and mine.count() == 2
    assert secret not in theirs and theirs.count() == 1


def test_a_conversation_is_confidential_whole(
    lea: Citizen, camille: Citizen, dr_martin: Professional, box: Any
) -> None:
    ordinary = receive(lea, mail(subject="Vaccins"))
    # A secret reply to a conversation the parents read opens its own conversation...
    secret = receive(lea, secret_mail(in_reply_to=ordinary.message_id))
    assert secret.conversation_id != ordinary.conversation_id
    assert secret.conversation.subject == SECRET_SUBJECT
    # ...and what follows in it is confidential, labelled or not: the professional's next
    # message, Léa's answer.
    follow = receive(lea, mail(subject="RE: Contraception", in_reply_to=secret.message_id))
    assert follow.conversation_id == secret.conversation_id and follow.hidden_from_representatives
    answer = actions.message_reply(
        actor=citizen_actor(lea),
        conversation_id=secret.conversation_id,
        outgoing=Outgoing(body="Merci docteur"),
    )
    assert answer.hidden_from_representatives
    sent = Trace.objects.get(patient_id=lea.pk, action=TraceAction.SEND_MESSAGE)
    assert sent.hidden_from_representatives
    assert list(conversations_visible_to(citizen_actor(camille), lea)) == [ordinary.conversation]


def test_a_parent_never_replies_onto_secret_messages(
    lea: Citizen, camille: Citizen, box: Any
) -> None:
    """Should a conversation hold both (the label set on a stored message), the parent reads
    only what is not secret and may not answer there."""
    first = receive(lea, mail(subject="Bilan"))
    later = receive(lea, mail(subject="RE: Bilan", in_reply_to=first.message_id))
    Message.objects.filter(pk=later.pk).update(hidden_from_representatives=True)
    mother = citizen_actor(camille)
    conv = actions.conversation_read(actor=mother, conversation_id=first.conversation_id)
    assert list(visible_messages(mother, conv)) == [first]
    assert Message.objects.get(pk=later.pk).read_at is None  # still new for Léa
    with pytest.raises(InvalidInput, match="n'autorise pas la réponse"):
        actions.message_reply(actor=mother, conversation_id=conv.pk, outgoing=Outgoing(body="?"))
    assert not Message.objects.filter(direction=Message.Direction.FROM_PATIENT).exists()
    # Léa answers.
    actions.message_reply(
        actor=citizen_actor(lea), conversation_id=conv.pk, outgoing=Outgoing(body="D'accord")
    )


def test_refused_for_an_adult_nothing_stored(camille: Citizen, box: Any) -> None:
    with pytest.raises(actions.SecretCareForAdult, match="patient mineur"):
        receive(camille, secret_mail(files=[IncomingFile("x.pdf", make_pdf())]))
    assert not Message.objects.exists() and not Attachment.objects.exists()
    assert not Trace.objects.filter(action=TraceAction.RECEIVE_MESSAGE).exists()


def test_only_the_minor_is_told(
    lea: Citizen, camille: Citizen, box: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        secret_message(lea)
    note = Notification.objects.get(profile=lea, code=Notification.Code.NEW_MESSAGE)
    assert note.hidden_from_representatives
    assert set(Delivery.objects.values_list("recipient_id", flat=True)) == {lea.pk}
    assert {a for m in django_mail.outbox for a in m.to} == {"lea@example.org"}
    assert not Notification.objects.filter(profile=lea).shown_to(representative=True).exists()
    # An ordinary message reaches the mother as before.
    with django_capture_on_commit_callbacks(execute=True):
        receive(lea, mail(subject="Certificat de sport"))
    assert Delivery.objects.filter(recipient=camille).exists()


def test_a_saved_file_would_reach_the_parents_so_it_is_refused(lea: Citizen, box: Any) -> None:
    att = secret_message(lea).attachments.get()
    with pytest.raises(InvalidInput, match="soins confidentiels"):
        actions.attachment_save_to_documents(
            actor=citizen_actor(lea), attachment_id=att.pk, category="", title="Pilule"
        )
    assert Attachment.objects.get(pk=att.pk).saved_document is None


def _listing(content: bytes, patient: Citizen) -> str:
    archive = zipfile.ZipFile(io.BytesIO(content))
    texts = [
        archive.read(n).decode()
        for n in archive.namelist()
        if "/messagerie/" in n and n.endswith(".json")
    ]
    return json.dumps([json.loads(t) for t in texts], ensure_ascii=False)


def test_the_data_download_of_a_parent_holds_no_secret(
    lea: Citizen, camille: Citizen, box: Any, django_capture_on_commit_callbacks: Any
) -> None:
    secret_message(lea)
    receive(lea, mail(subject="Certificat de sport"))
    for who, shown in ((camille, False), (lea, True)):
        actor = citizen_actor(who)
        with django_capture_on_commit_callbacks(execute=True):
            export = export_request(actor=actor)
        _, content = export_download(actor=actor, export_id=export.pk)
        assert content is not None
        listing = _listing(content, lea)
        assert "Certificat de sport" in listing
        assert (SECRET_SUBJECT in listing) is shown
        assert ("ordonnance pilule" in listing) is shown


# --- the citizen portal ------------------------------------------------------------------------


def _as(client: Any, citizen: Citizen, profile: Citizen) -> Any:
    client.force_login(citizen.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str(profile.pk)
    session.save()
    return client


def _same_page(a: bytes, b: bytes) -> bool:
    """The same page, but for the per-response CSRF masking."""
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
    return token.sub(b"", a) == token.sub(b"", b)


def test_portal_pages(client: Any, lea: Citizen, camille: Citizen, box: Any) -> None:
    secret = secret_message(lea)
    receive(lea, mail(subject="Certificat de sport"))
    conv_url = reverse("portal:messaging_conversation", args=[secret.conversation_id])
    file_url = reverse("portal:messaging_attachment", args=[secret.attachments.get().pk])

    _as(client, camille, lea)
    inbox = client.get(reverse("portal:messaging")).content.decode()
    assert "Certificat de sport" in inbox and SECRET_SUBJECT not in inbox
    unknown = client.get(reverse("portal:messaging_conversation", args=[uuid.uuid4()]))
    page = client.get(conv_url)
    assert page.status_code == unknown.status_code == 404
    assert _same_page(page.content, unknown.content)
    assert client.get(file_url).status_code == 404
    save = reverse("portal:messaging_attachment_save", args=[secret.attachments.get().pk])
    assert client.get(save).status_code == 404
    # Camille's history of Léa's espace never names it.
    shown = [
        t
        for tab in HistoryTab
        for t in history_traces(patient_id=lea.pk, for_representative=True, tab=tab)
    ]
    assert shown and not any(t.document_title == SECRET_SUBJECT for t in shown)
    assert not any(t.outcome == TraceOutcome.REFUSED for t in shown)

    _as(client, lea, lea)
    inbox = client.get(reverse("portal:messaging")).content.decode()
    assert SECRET_SUBJECT in inbox
    page = client.get(conv_url).content.decode()
    assert "Confidentiel : invisible à vos représentants légaux" in page
    assert "Enregistrer dans mes documents" not in page
    assert client.get(file_url).status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "bob", "professional"])
def test_portal_denials(
    client: Any, who: str, lea: Citizen, bob: Citizen, dr_durand: Professional, box: Any
) -> None:
    secret = secret_message(lea)
    if who == "bob":
        client.force_login(bob.user)
    elif who == "professional":
        client.force_login(dr_durand.user)
    r = client.get(reverse("portal:messaging_conversation", args=[secret.conversation_id]))
    assert r.status_code == (302 if who == "anonymous" else 404)
    if who == "bob":
        refused = Trace.objects.get(patient_id=lea.pk, outcome=TraceOutcome.REFUSED)
        assert refused.actor_id == bob.ins


def test_portal_mixed_conversation_shows_the_parent_only_the_rest(
    client: Any, lea: Citizen, camille: Citizen, box: Any
) -> None:
    first = receive(lea, mail(subject="Bilan", body="Résultats normaux."))
    later = receive(lea, mail(body="Parlons de la pilule.", in_reply_to=first.message_id))
    Message.objects.filter(pk=later.pk).update(hidden_from_representatives=True)
    url = reverse("portal:messaging_conversation", args=[first.conversation_id])

    page = _as(client, camille, lea).get(url).content.decode()
    assert "Résultats normaux." in page and "pilule" not in page
    assert "Ce message n'autorise pas la réponse." in page and 'name="intent"' not in page
    r = client.post(
        reverse("portal:messaging_reply", args=[first.conversation_id]),
        {"intent": "send", "body": "Question"},
    )
    assert r.status_code == 400
    assert not Message.objects.filter(direction=Message.Direction.FROM_PATIENT).exists()
    assert Message.objects.get(pk=later.pk).read_at is None

    page = _as(client, lea, lea).get(url).content.decode()
    assert "Résultats normaux." in page and "pilule" in page and 'name="intent"' in page


def test_a_bounce_of_the_minors_secret_answer_tells_the_minor_only(
    lea: Citizen, camille: Citizen, box: Any
) -> None:
    secret = secret_message(lea)
    answer = actions.message_reply(
        actor=citizen_actor(lea),
        conversation_id=secret.conversation_id,
        outgoing=Outgoing(body="Merci"),
    )
    actions.bounce_receive(
        actor=citizen_actor(lea),
        patient_ins=lea.ins,
        original_message_id=answer.message_id,
        reason="550 boîte inconnue",
    )
    note = Notification.objects.get(code=Notification.Code.MESSAGE_NOT_DELIVERED)
    assert note.profile == lea and note.hidden_from_representatives
    assert not Delivery.objects.filter(recipient=camille).exists()
