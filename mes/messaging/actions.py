"""Every change in the Messagerie. Each action checks its policy and writes its trace on the
patient's chain (wave2.md §1.1: CONSULT_MESSAGE, ENVOI_MESSAGE, RECEPTION_MESSAGE ...).

Inbound mail arrives already parsed by the gateway (mes.mssante) as an `IncomingMail`; outbound
messages are written here and leave through the relay in `message_deliver` (worker).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.enrolment.policies import EspaceUse, espace_allows
from mes.identity.models import Citizen, Organisation
from mes.lib import filetypes
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.channels.person import notify_through_channels
from mes.notifications.models import Notification
from mes.records.models import Document
from mes.vault import store

from . import content
from .models import Attachment, Conversation, Draft, Mailbox, Message
from .policies import (
    ConversationAccess,
    access_attachment,
    access_conversation,
    citizen_may,
    conversation_access,
    is_secret,
    mailboxes_of,
    visible_messages,
)

logger = logging.getLogger(__name__)

BODY_MAX = 20_000  # characters of a citizen's message
# The header a professional's software marks a minor's secret care with (mes.mssante.parsing
# reads it; the Web PS writes it): the HL7 MetaDMPMSS flag INVISIBLE_REP_LEGAUX (mes-spec §4.1)
# under our own prefix, Y or N; the MSSanté specifications define none [GAP].
HIDDEN_FROM_REPS_HEADER = "X-MES-INVISIBLE-REP-LEGAUX"
SUBJECT_MAX = 255
# A citizen attaches PDF, JPEG or PNG (wave2.md §1.1, mes-spec §7.4 [INF]), checked by content.
CITIZEN_FILE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
# What the gateway accepts from professionals: the Documents formats, and CDA XML from an XDM.
INBOUND_FILE_TYPES = frozenset(filetypes.EXTENSIONS) | {"text/xml"}


class UnknownSender(InvalidInput):
    """The sender is not a mailbox of the MSSanté directory, or it is no longer active."""


class UnknownRecipient(NotFound):
    """No espace behind this patient address."""


class SecretCareForAdult(InvalidInput):
    """A message marked for a minor's secret care sent to someone 18 or over: there are no
    legal representatives to keep it from, and the label would be false (R1111-50)."""


HIDDEN_FROM_REPS_ADULT = (
    "Seul un message à un patient mineur peut être rendu invisible à ses représentants légaux."
)


def secret_care_allowed(patient: Citizen) -> bool:
    """Only a minor's messages may be kept from the legal representatives (as documents)."""
    return patient.is_minor()


# --- addresses and actors ----------------------------------------------------------------


def patient_address(patient: Citizen) -> str:
    """`<INS>@<patient domain>` (mes-spec §2.3)."""
    return f"{patient.ins}@{settings.MES_MSSANTE_PATIENT_DOMAIN}"


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{settings.MES_MSSANTE_PATIENT_DOMAIN}>"


def mailbox_actor(mailbox: Mailbox, *, software: str = "") -> Actor:
    """The sender of an inbound message, as the trace names them."""
    pro, org = mailbox.professional, mailbox.organisation
    if pro is not None:
        return Actor(
            kind=ActorKind.PROFESSIONAL,
            display_name=pro.display_name,
            professional_id=pro.pk,
            national_id=pro.national_id,
            profession=pro.profession,
            specialty=pro.specialty,
            organisation_id=pro.organisation_id,
            organisation_name=pro.organisation.name if pro.organisation else "",
            software=software[:200],
        )
    assert org is not None
    return Actor(
        kind=ActorKind.STRUCTURE,
        display_name=mailbox.display_name,
        national_id=org.national_id,
        organisation_id=org.pk,
        organisation_name=org.name,
        software=software[:200],
    )


def citizen_may_write_to(mailbox: Mailbox) -> bool:
    """A citizen starts a conversation only with a pharmacy's organisational mailbox
    (mes-spec §7.2, since May 2023)."""
    return mailbox.active and mailbox.is_pharmacy


def visited_pharmacies(patient: Citizen) -> QuerySet[Mailbox]:
    """« Pharmacies déjà fréquentées »: the pharmacies behind the patient's dispensation
    documents (class 43), that have an active organisational mailbox."""
    dispensations = Document.objects.filter(patient=patient, class_code="43").exclude(
        status=Document.Status.DELETED
    )
    orgs = Organisation.objects.filter(
        Q(pk__in=dispensations.values("author_organisation_id"))
        | Q(members__pk__in=dispensations.values("author_professional_id")),
        kind=Organisation.Kind.PHARMACY,
    )
    return pharmacy_mailboxes().filter(organisation__in=orgs)


def pharmacy_mailboxes(query: str = "") -> QuerySet[Mailbox]:
    """Every pharmacy with an active organisational MSSanté address, by name or city."""
    qs = Mailbox.objects.filter(
        kind=Mailbox.Kind.ORG, active=True, organisation__kind=Organisation.Kind.PHARMACY
    ).select_related("organisation")
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(organisation__name__icontains=query) | Q(organisation__city__icontains=query)
        )
    return qs.order_by("organisation__name")


# --- notifications ---------------------------------------------------------------------------


def _tell_new_message(
    patient: Citizen, conv: Conversation, sender: Mailbox, *, secret: bool = False
) -> None:
    """The centre, then the channels each recipient chose for messages (portal.md §7.3,
    « Messagerie »): the holder, or a represented person's representatives — never about a
    minor's secret care (`secret`: the minor alone is told, R1111-50). The e-mail or SMS says
    only that a notification is waiting: no sender, no subject, no health data."""
    notify_through_channels(
        profile=patient,
        code=Notification.Code.NEW_MESSAGE,
        label=f"Nouveau message de {sender.display_name}",
        url=reverse("portal:messaging_conversation", args=[conv.pk]),
        link_label="Lire le message",
        hidden_from_representatives=secret,
    )


# --- inbound (gateway) -----------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content: bytes
    declared_type: str = ""
    cda_type_code: str = ""


@dataclass(frozen=True)
class IncomingMail:
    sender_address: str
    subject: str
    message_id: str
    at: datetime
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    body_html: str = ""
    body_text: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    mss_codecda: str = ""
    mss_ins: str = ""
    mss_nil: str = ""
    end_of_exchange: bool = False  # X-MSS-MES: FIN
    no_reply: bool = False
    files: list[IncomingFile] = field(default_factory=list)
    # A minor's secret care: INVISIBLE_REPRESENTANTS_LEGAUX in the XDM metadata, or the
    # X-MES-INVISIBLE-REP-LEGAUX header (mes.mssante.parsing).
    hidden_from_representatives: bool = False


def espace_of(ins: str) -> Citizen | None:
    """The espace behind an INS, when it can receive mail: what may receive a professional's
    document may receive a professional's message (mes.enrolment: a closed, purged or opposed
    espace receives nothing; an unknown INS has none)."""
    patient = Citizen.objects.filter(ins=ins).first()
    if patient is None or not espace_allows(patient, EspaceUse.DEPOSIT):
        return None
    return patient


def sender_mailbox(address: str) -> Mailbox | None:
    return (
        Mailbox.objects.select_related("professional__organisation", "organisation")
        .filter(address=address.strip().lower(), active=True)
        .first()
    )


def _check_incoming_file(f: IncomingFile) -> str:
    mime = filetypes.sniff(f.content)
    if mime is None and f.declared_type in ("text/xml", "application/xml"):
        head = f.content.lstrip()[:200]
        if head.startswith(b"<?xml") or head.startswith(b"<ClinicalDocument"):
            mime = "text/xml"
    if mime not in INBOUND_FILE_TYPES:
        raise InvalidInput(f"Pièce jointe « {f.filename[:80]} » : format non accepté.")
    return mime


def _clean_filename(name: str, mime: str) -> str:
    base = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\:*?"<>|').strip()
    base = base[:200] or "piece-jointe"
    ext = filetypes.EXTENSIONS.get(mime, "xml")
    return base if base.lower().endswith("." + ext) else f"{base}.{ext}"


def _store_attachments(
    message: Message, files: Sequence[tuple[str, bytes, str, str]], written: list[uuid.UUID]
) -> None:
    """Encrypt and store each (filename, content, mime, cda code); `written` collects the blob
    ids so that a failed transaction removes them (nothing half-stored)."""
    patient_id = message.conversation.patient_id
    for name, data, mime, cda in files:
        att = Attachment(
            message=message,
            filename=_clean_filename(name, mime),
            mime_type=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            cda_type_code=cda[:32],
        )
        att.save()
        written.append(att.pk)
        store.put(patient_id, att.pk, data)


def _with_blob_cleanup(
    patient_id: uuid.UUID, work: Callable[[list[uuid.UUID]], Message]
) -> Message:
    written: list[uuid.UUID] = []
    try:
        with transaction.atomic():
            return work(written)
    except BaseException:
        for blob_id in written:
            store.delete(patient_id, blob_id)
        raise


def _thread_of(patient: Citizen, mail: IncomingMail) -> Conversation | None:
    refs = [r for r in [mail.in_reply_to, *mail.references] if r]
    if not refs:
        return None
    earlier = (
        Message.objects.filter(conversation__patient=patient, message_id__in=refs)
        .select_related("conversation")
        .order_by("-at")
        .first()
    )
    if earlier is None or earlier.conversation.trashed_at is not None:
        return None
    return earlier.conversation


def message_receive(*, actor: Actor, patient_ins: str, mail: IncomingMail) -> Message:
    """Store one message from the professional side for one patient (the gateway's 250).

    Precondition: an open espace behind the INS, an active sender mailbox of the directory,
    accepted attachments. Threads by In-Reply-To / References; `X-MSS-MES: FIN` closes the
    conversation (mes-spec §7.2). Idempotent on Message-ID (a delivery retried after a lost
    reply stores nothing twice). Side effects: encrypted blobs, RECEPTION_MESSAGE trace, the
    notification and an alert that says only that a message is waiting. Any failure stores
    nothing (rows rolled back, blobs removed).

    A minor's secret care (`mail.hidden_from_representatives`, R1111-50) is refused for a
    patient of 18 or over (SecretCareForAdult). A conversation is secret whole or not at all:
    a secret message never joins a conversation the parents read (it opens its own), and a
    message threaded into a secret conversation is secret. Its trace and notification are then
    kept from the legal representatives.
    """
    patient = espace_of(patient_ins)
    if patient is None:
        raise UnknownRecipient()
    sender = sender_mailbox(mail.sender_address)
    if sender is None:
        raise UnknownSender("Expéditeur absent de l'annuaire MSSanté ou boîte désactivée.")
    if not mail.message_id or len(mail.message_id) > 255:
        raise InvalidInput("Message-ID absent ou invalide.")
    if mail.hidden_from_representatives and not secret_care_allowed(patient):
        raise SecretCareForAdult(HIDDEN_FROM_REPS_ADULT)
    for text in (mail.subject, mail.body_text, mail.body_html, mail.sender_address):
        if content.has_control_characters(text):
            raise InvalidInput("Caractères de contrôle refusés dans le message.")
    files = [(f.filename, f.content, _check_incoming_file(f), f.cda_type_code) for f in mail.files]
    existing = Message.objects.filter(
        message_id=mail.message_id, conversation__patient=patient
    ).first()
    if existing is not None:
        return existing

    def work(written: list[uuid.UUID]) -> Message:
        now = timezone.now()
        conv = _thread_of(patient, mail)
        secret = mail.hidden_from_representatives
        if conv is not None:
            conv_secret = is_secret(conv)
            if secret and not conv_secret:
                conv = None  # the parents read that conversation: the secret opens its own
            secret = secret or conv_secret
        subject = (mail.subject or "(sans objet)").strip()[:SUBJECT_MAX]
        if conv is None:
            conv = Conversation.objects.create(
                patient=patient,
                counterpart=sender,
                subject=subject,
                created_at=now,
                last_message_at=now,
            )
        conv.last_message_at = now
        if mail.end_of_exchange:
            conv.closed_at, conv.closed_by = now, sender
        conv.save()
        message = Message.objects.create(
            conversation=conv,
            direction=Message.Direction.TO_PATIENT,
            sender=sender,
            to=mail.to[:50],
            cc=mail.cc[:50],
            subject=subject,
            body_html=content.sanitise_html(mail.body_html) if mail.body_html else "",
            body_text=mail.body_text,
            message_id=mail.message_id,
            in_reply_to=mail.in_reply_to[:255],
            references=" ".join(mail.references)[:10_000],
            mss_codecda=mail.mss_codecda[:255],
            mss_ins=mail.mss_ins[:1],
            mss_nil=mail.mss_nil[:255],
            reply_mode=(
                Message.ReplyMode.NO_REPLY
                # An applicative mailbox (results sent by software) reads no reply.
                if mail.no_reply or sender.kind == Mailbox.Kind.APP
                else Message.ReplyMode.REPLY_ALL
                if mail.cc
                else Message.ReplyMode.REPLY
            ),
            at=mail.at or now,
            delivery=Message.Delivery.RECEIVED,
            hidden_from_representatives=secret,
        )
        _store_attachments(message, files, written)
        trace.record(
            actor=mailbox_actor(sender, software=mail.mss_nil),
            action=TraceAction.RECEIVE_MESSAGE,
            patient_id=patient.pk,
            document_title=subject,
            hidden_from_representatives=secret,
        )
        if mail.end_of_exchange:
            trace.record(
                actor=mailbox_actor(sender, software=mail.mss_nil),
                action=TraceAction.CLOSE_CONVERSATION,
                patient_id=patient.pk,
                document_title=subject,
                hidden_from_representatives=secret,
            )
        _tell_new_message(patient, conv, sender, secret=secret)
        return message

    return _with_blob_cleanup(patient.pk, work)


def bounce_receive(
    *, actor: Actor, patient_ins: str, original_message_id: str, reason: str
) -> Message:
    """A delivery status notification (DSN) about a message the citizen sent: the message is
    marked « non distribué » and the citizen told (wave2.md §1.1)."""
    message = (
        Message.objects.select_related("conversation__patient")
        .filter(
            message_id=original_message_id,
            direction=Message.Direction.FROM_PATIENT,
            conversation__patient__ins=patient_ins,
        )
        .first()
    )
    if message is None:
        raise InvalidInput("Avis de non-distribution d'un message inconnu.")
    with transaction.atomic():
        _mark_failed(message, reason or "Le destinataire n'a pas pu recevoir ce message.")
    return message


def _mark_failed(message: Message, reason: str) -> None:
    message.delivery = Message.Delivery.FAILED
    message.delivery_error = reason[:300]
    message.save(update_fields=["delivery", "delivery_error"])
    notify_through_channels(
        profile=message.conversation.patient,
        code=Notification.Code.MESSAGE_NOT_DELIVERED,
        label=f"Votre message « {message.subject[:80]} » n'a pas pu être distribué.",
        url=reverse("portal:messaging_conversation", args=[message.conversation_id]),
        link_label="Voir la conversation",
        hidden_from_representatives=message.hidden_from_representatives,
    )


# --- reading ---------------------------------------------------------------------------------


@traced_action
def conversation_open(*, actor: Actor, conversation_id: uuid.UUID) -> ConversationAccess:
    """Open a conversation (CONSULT_MESSAGE) on one decision; what the other side sent and the
    actor reads is now read. With whether that decision shows the minor's secret care, for
    what the same request shows of it (visible_messages)."""
    reached = conversation_access(actor, conversation_id, action=Action.READ)
    conv = reached.conversation
    incoming = (
        Message.Direction.TO_PATIENT
        if actor.kind is ActorKind.CITIZEN
        else Message.Direction.FROM_PATIENT
    )
    # A parent opening the conversation leaves the minor's secret messages unread for the minor.
    visible_messages(actor, conv, sees_secret=reached.sees_secret_care).filter(
        direction=incoming, read_at__isnull=True
    ).update(read_at=timezone.now())
    return reached


def conversation_read(*, actor: Actor, conversation_id: uuid.UUID) -> Conversation:
    """conversation_open, for callers that need only the conversation."""
    return conversation_open(actor=actor, conversation_id=conversation_id).conversation


@traced_action
def attachment_content(*, actor: Actor, attachment_id: uuid.UUID) -> tuple[Attachment, bytes]:
    """The bytes of one attachment (CONSULT_MESSAGE titled with the file name)."""
    att = access_attachment(actor, attachment_id, action=Action.READ)
    conv = att.message.conversation
    if att.document_id is not None:
        data = store.get(conv.patient_id, att.document_id)
    else:
        data = store.get(conv.patient_id, att.pk)
    trace.record(
        actor=actor,
        action=TraceAction.CONSULT_MESSAGE,
        patient_id=conv.patient_id,
        document_title=att.filename,
        hidden_from_representatives=att.message.hidden_from_representatives,
    )
    return att, data


@traced_action
def attachment_save_to_documents(
    *, actor: Actor, attachment_id: uuid.UUID, category: str, title: str
) -> Document:
    """« Enregistrer dans mes documents de santé »: a received file becomes a document of the
    profile, in the category the citizen chose (DEPOT_DOC, by the records action)."""
    from mes.records.actions import document_deposit

    att = access_attachment(actor, attachment_id, action=Action.MANAGE)
    if att.message.direction != Message.Direction.TO_PATIENT or att.document_id is not None:
        raise InvalidInput("Seule une pièce jointe reçue peut être enregistrée.")
    if att.message.hidden_from_representatives:
        # A document the citizen side adds is read by the representatives, and only a
        # professional may label one INVISIBLE_REPRESENTANTS_LEGAUX (mes.records).
        raise InvalidInput(HIDDEN_ATTACHMENT_NOT_SAVED)
    if att.mime_type not in filetypes.EXTENSIONS:
        raise InvalidInput(
            "Ajout aux documents impossible : la pièce-jointe est trop lourde ou de type non "
            "supporté."
        )
    conv = att.message.conversation
    data = store.get(conv.patient_id, att.pk)
    if len(data) > settings.MES_UPLOAD_MAX_BYTES:
        raise InvalidInput(
            "Ajout aux documents impossible : la pièce-jointe est trop lourde ou de type non "
            "supporté."
        )
    doc = document_deposit(
        actor=actor,
        patient_id=conv.patient_id,
        content=data,
        title=title or att.filename.rsplit(".", 1)[0],
        category=category,
        description=f"Reçu par la messagerie de {att.message.sender or conv.counterpart}",
    )
    att.saved_document = doc
    att.save(update_fields=["saved_document"])
    return doc


HIDDEN_ATTACHMENT_NOT_SAVED = (
    "Ce fichier relève de soins confidentiels : l'enregistrer dans vos documents le rendrait "
    "visible à vos représentants légaux. Vous pouvez le télécharger."
)


# --- the citizen writes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    body: str
    files: Sequence[tuple[str, bytes]] = ()  # uploaded (name, bytes)
    document_ids: Sequence[uuid.UUID] = ()  # Documents attached by reference
    synthesis_pdf: bytes | None = None  # « Ajouter le profil médical »
    reply_all: bool = False


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Écrivez votre message.", field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"Votre message dépasse {BODY_MAX} caractères.", field="body")
    if content.has_control_characters(body):
        raise InvalidInput("Votre message contient des caractères non autorisés.", field="body")
    return body


def _checked_files(
    actor: Actor, patient: Citizen, out: Outgoing
) -> tuple[list[tuple[str, bytes, str, str]], list[Document]]:
    files: list[tuple[str, bytes, str, str]] = []
    total = 0
    for name, data in out.files:
        mime = filetypes.sniff(data)
        if mime not in CITIZEN_FILE_TYPES:
            raise InvalidInput(
                f"« {name[:80]} » : seuls les fichiers PDF, JPEG et PNG peuvent être joints.",
                field="attachments",
            )
        files.append((name, data, mime, ""))
        total += len(data)
    if out.synthesis_pdf:
        files.append(("Synthèse du profil médical.pdf", out.synthesis_pdf, "application/pdf", ""))
        total += len(out.synthesis_pdf)
    docs: list[Document] = []
    if out.document_ids:
        from mes.records.policies import documents_visible_to

        visible = documents_visible_to(actor, patient)
        docs = list(visible.filter(pk__in=list(out.document_ids)))
        if len(docs) != len(set(out.document_ids)):
            raise InvalidInput("Un des documents choisis n'existe pas.", field="documents")
        total += sum(d.size for d in docs)
    if total > settings.MES_MESSAGE_ATTACHMENTS_MAX_BYTES:
        mb = settings.MES_MESSAGE_ATTACHMENTS_MAX_BYTES // (1024 * 1024)
        raise InvalidInput(
            f"Les pièces jointes dépassent {mb} Mo au total pour un message.", field="attachments"
        )
    return files, docs


def _write(
    actor: Actor,
    conv: Conversation,
    out: Outgoing,
    to: list[str],
    cc: list[str],
    in_reply_to: str,
    references: str,
) -> Message:
    body = _check_body(out.body)
    files, docs = _checked_files(actor, conv.patient, out)
    # The minor's answer in a conversation of secret care is secret care too.
    secret = is_secret(conv)

    def work(written: list[uuid.UUID]) -> Message:
        now = timezone.now()
        message = Message.objects.create(
            conversation=conv,
            direction=Message.Direction.FROM_PATIENT,
            author_citizen_id=actor.citizen_id,
            to=to,
            cc=cc,
            subject=conv.subject
            if conv.messages.exists() is False
            else f"RE: {conv.subject}"[:255],
            body_text=body,
            message_id=new_message_id(),
            in_reply_to=in_reply_to,
            references=references,
            at=now,
            read_at=now,
            delivery=Message.Delivery.PENDING,
            hidden_from_representatives=secret,
        )
        _store_attachments(message, files, written)
        for doc in docs:
            Attachment.objects.create(
                message=message,
                filename=_clean_filename(doc.title, doc.mime_type),
                mime_type=doc.mime_type,
                size=doc.size,
                sha256=doc.sha256,
                document=doc,
            )
        Conversation.objects.filter(pk=conv.pk).update(last_message_at=now)
        Draft.objects.filter(conversation=conv).delete()
        trace.record(
            actor=actor,
            action=TraceAction.SEND_MESSAGE,
            patient_id=conv.patient_id,
            document_title=conv.subject,
            hidden_from_representatives=secret,
        )
        message_id = message.pk
        transaction.on_commit(lambda: _enqueue_delivery(message_id))
        return message

    return _with_blob_cleanup(conv.patient_id, work)


def _enqueue_delivery(message_id: uuid.UUID, run_after: datetime | None = None) -> None:
    from .tasks import deliver_message

    task = deliver_message
    if run_after is not None:
        task = task.using(run_after=run_after)
    task.enqueue(str(message_id))


NO_REPLY = "Ce message n'autorise pas la réponse."


@traced_action
def message_reply(*, actor: Actor, conversation_id: uuid.UUID, outgoing: Outgoing) -> Message:
    """The citizen answers in a conversation (ENVOI_MESSAGE), then the worker sends it.

    Refused (InvalidInput, nothing stored) when the professional closed the exchange, when the
    last message allows no reply, or when the counterpart mailbox is no longer active. A
    legal representative never replies into a conversation holding the minor's secret care
    (told as « no reply », nothing more).
    """
    reached = conversation_access(actor, conversation_id, action=Action.MANAGE, trace_action=None)
    conv = reached.conversation
    if conv.is_closed:
        raise InvalidInput(
            "Le professionnel a mis fin aux échanges : vous ne pouvez plus répondre."
        )
    if not reached.sees_secret_care and is_secret(conv):
        raise InvalidInput(NO_REPLY)
    last_in = conv.messages.filter(direction=Message.Direction.TO_PATIENT).order_by("-at").first()
    if last_in is not None and last_in.reply_mode == Message.ReplyMode.NO_REPLY:
        raise InvalidInput(NO_REPLY)
    if not conv.counterpart.active:
        raise InvalidInput("Ce professionnel n'utilise plus cette messagerie.")
    to = [conv.counterpart.address]
    cc: list[str] = []
    if (
        outgoing.reply_all
        and last_in is not None
        and last_in.reply_mode == Message.ReplyMode.REPLY_ALL
    ):
        own = patient_address(conv.patient)
        cc = [a for a in [*last_in.to, *last_in.cc] if a.lower() not in (own, to[0])]
    last = conv.messages.order_by("-at").first()
    refs = " ".join(
        x for x in [last.references if last else "", last.message_id if last else ""] if x
    )
    return _write(actor, conv, outgoing, to, cc, last.message_id if last else "", refs[-10_000:])


@traced_action
def conversation_start(
    *, actor: Actor, patient_id: uuid.UUID, mailbox_id: int, subject: str, outgoing: Outgoing
) -> Conversation:
    """A citizen writes first: only to a pharmacy's organisational mailbox (mes-spec §7.2).
    Anything else is refused as not found, and traced."""
    patient = patient_or_refused(actor, patient_id, refused_as=TraceAction.SEND_MESSAGE)
    ok, why = citizen_may(actor, patient, Action.MANAGE)
    if not ok:
        raise Refused.because(actor, TraceAction.SEND_MESSAGE, patient.pk, why)
    mailbox = Mailbox.objects.select_related("organisation").filter(pk=mailbox_id).first()
    if mailbox is None or not citizen_may_write_to(mailbox):
        raise Refused.because(
            actor,
            TraceAction.SEND_MESSAGE,
            patient.pk,
            "un usager n'écrit en premier qu'à la boîte organisationnelle d'une pharmacie",
        )
    subject = (subject or "").strip()
    if not subject:
        raise InvalidInput("Indiquez l'objet du message.", field="subject")
    if len(subject) > SUBJECT_MAX or content.has_control_characters(subject):
        raise InvalidInput("Objet trop long ou caractères non autorisés.", field="subject")
    now = timezone.now()
    conv = Conversation.objects.create(
        patient=patient,
        counterpart=mailbox,
        subject=subject,
        started_by_patient=True,
        created_at=now,
        last_message_at=now,
    )
    _write(actor, conv, outgoing, [mailbox.address], [], "", "")
    return conv


@traced_action
def draft_save(*, actor: Actor, conversation_id: uuid.UUID, body: str) -> Draft:
    """« Enregistrer le brouillon »: one draft per conversation, replaced each time."""
    conv = access_conversation(actor, conversation_id, action=Action.MANAGE, trace_action=None)
    body = (body or "")[:BODY_MAX]
    if content.has_control_characters(body):
        raise InvalidInput("Votre message contient des caractères non autorisés.", field="body")
    draft, _ = Draft.objects.update_or_create(
        conversation=conv,
        defaults={
            "body": body,
            "author_citizen_id": actor.citizen_id,
            "updated_at": timezone.now(),
        },
    )
    return draft


@traced_action
def draft_discard(*, actor: Actor, conversation_id: uuid.UUID) -> None:
    conv = access_conversation(actor, conversation_id, action=Action.MANAGE, trace_action=None)
    Draft.objects.filter(conversation=conv).delete()


@traced_action
def conversation_trash(*, actor: Actor, conversation_id: uuid.UUID) -> None:
    """« Supprimer la conversation »: the citizen side no longer sees it nor its files."""
    conv = access_conversation(actor, conversation_id, action=Action.MANAGE, trace_action=None)
    conv.trashed_at = timezone.now()
    conv.save(update_fields=["trashed_at"])
    Draft.objects.filter(conversation=conv).delete()
    trace.record(
        actor=actor,
        action=TraceAction.DELETE_CONVERSATION,
        patient_id=conv.patient_id,
        document_title=conv.subject,
        hidden_from_representatives=is_secret(conv),
    )


@traced_action
def conversation_close(*, actor: Actor, conversation_id: uuid.UUID) -> Conversation:
    """The professional ends the exchange (Web PS button; the gateway does the same on
    `X-MSS-MES: FIN`): the citizen can no longer reply."""
    conv = access_conversation(actor, conversation_id, action=Action.READ, trace_action=None)
    if actor.kind is not ActorKind.PROFESSIONAL:
        raise Refused.because(
            actor, TraceAction.CLOSE_CONVERSATION, conv.patient_id, "réservé au professionnel"
        )
    if conv.closed_at is None:
        conv.closed_at = timezone.now()
        conv.closed_by = mailboxes_of(actor).filter(pk=conv.counterpart_id).first()
        conv.save(update_fields=["closed_at", "closed_by"])
        trace.record(
            actor=actor,
            action=TraceAction.CLOSE_CONVERSATION,
            patient_id=conv.patient_id,
            document_title=conv.subject,
            hidden_from_representatives=is_secret(conv),
        )
    return conv


# --- outbound delivery (worker) ----------------------------------------------------------------


def build_outbound(message: Message) -> EmailMessage:
    """The MIME message a citizen's message becomes on the wire, with the MSSanté headers."""
    conv = message.conversation
    patient = conv.patient
    headers = {
        "Message-ID": message.message_id,
        "X-MSS-NIL": settings.MES_MSSANTE_NIL,
        "Date": message.at.strftime("%a, %d %b %Y %H:%M:%S +0000"),
    }
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    email = EmailMessage(
        subject=message.subject,
        body=message.body_text,
        from_email=f"{patient.display_name} <{patient_address(patient)}>",
        to=list(message.to),
        cc=list(message.cc),
        headers=headers,
    )
    for att in message.attachments.all():
        blob = att.document_id if att.document_id else att.pk
        email.attach(att.filename, store.get(patient.pk, blob), att.mime_type)
    return email


def message_deliver(*, actor: Actor, message_id: uuid.UUID) -> str:
    """One delivery attempt through the relay: "sent", "retry" (temporary failure: the caller
    schedules the next attempt) or "failed" (refused for good, or attempts exhausted: the
    citizen is told on the message)."""
    import smtplib

    message = (
        Message.objects.select_related("conversation__patient")
        .filter(pk=message_id, direction=Message.Direction.FROM_PATIENT)
        .first()
    )
    if message is None or message.delivery != Message.Delivery.PENDING:
        return "done"
    Message.objects.filter(pk=message.pk).update(delivery_attempts=message.delivery_attempts + 1)
    attempts = message.delivery_attempts + 1
    try:
        connection = get_connection(
            settings.MES_MSSANTE_RELAY_BACKEND,
            host=settings.MES_MSSANTE_RELAY_HOST,
            port=settings.MES_MSSANTE_RELAY_PORT,
            use_tls=settings.MES_MSSANTE_RELAY_STARTTLS,
            timeout=30,
        )
        connection.send_messages([build_outbound(message)])
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
        code = getattr(exc, "smtp_code", 0) or _first_code(exc)
        if 500 <= code < 600:
            with transaction.atomic():
                _mark_failed(message, "Le destinataire a refusé ce message.")
            return "failed"
        return _retry_or_fail(message, attempts)
    except (OSError, smtplib.SMTPException):
        return _retry_or_fail(message, attempts)
    Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.SENT, delivery_error="")
    return "sent"


def _first_code(exc: Exception) -> int:
    recipients = getattr(exc, "recipients", None) or {}
    for code, _ in recipients.values():
        return int(code)
    return 0


def _retry_or_fail(message: Message, attempts: int) -> str:
    if attempts >= settings.MES_MESSAGE_DELIVERY_ATTEMPTS:
        with transaction.atomic():
            _mark_failed(message, "Le message n'a pas pu être remis après plusieurs essais.")
        return "failed"
    return "retry"


def retry_at(attempts: int) -> datetime:
    """Exponential backoff: the first wait, doubled at each attempt."""
    return timezone.now() + settings.MES_MESSAGE_DELIVERY_FIRST_BACKOFF * (
        2 ** max(attempts - 1, 0)
    )


# --- the Web PS writes (over SMTP, to the gateway) ------------------------------------------


def sending_mailbox(actor: Actor, conversation: Conversation | None = None) -> Mailbox:
    """The mailbox a professional writes from: the conversation's own one when they hold it
    (a pharmacy answers from its ORG BAL), else their nominative BAL."""
    held = mailboxes_of(actor).filter(active=True)
    if conversation is not None:
        box = held.filter(pk=conversation.counterpart_id).first()
        if box is not None:
            return box
    box = held.filter(kind=Mailbox.Kind.PER).first()
    if box is None:
        raise InvalidInput("Vous n'avez pas de boîte aux lettres MSSanté active.")
    return box


def professional_submit(
    *,
    actor: Actor,
    patient_ins: str,
    subject: str,
    body: str,
    files: Sequence[tuple[str, bytes]] = (),
    conversation_id: uuid.UUID | None = None,
    end_of_exchange: bool = False,
    hidden_from_representatives: bool = False,
) -> str:
    """The Web PS sends a professional's message as any MSSanté client would: a MIME mail over
    SMTP to the gateway (MES_WEBPS_SMTP_*), with the MSSanté headers. Returns its Message-ID.
    The gateway stores it (and traces RECEPTION_MESSAGE); its refusals come back as
    InvalidInput in French.

    hidden_from_representatives: a minor's secret care, sent as the
    X-MES-INVISIBLE-REP-LEGAUX: Y header; refused here for a patient of 18 or over (the gateway
    refuses it again: it decides)."""
    import smtplib
    import ssl

    conv = None
    if conversation_id is not None:
        conv = access_conversation(actor, conversation_id, trace_action=None)
        patient_ins = conv.patient.ins
    box = sending_mailbox(actor, conv)
    body = _check_body(body)
    subject = (subject or "").strip()
    if not subject or len(subject) > SUBJECT_MAX or content.has_control_characters(subject):
        raise InvalidInput("Indiquez un objet (255 caractères au plus).", field="subject")
    patient_ins = "".join(patient_ins.split())
    if not (len(patient_ins) == 15 and patient_ins.isdigit()):
        raise InvalidInput("Le matricule INS compte 15 chiffres.", field="ins")
    if hidden_from_representatives:
        patient = espace_of(patient_ins)
        if patient is not None and not secret_care_allowed(patient):
            raise SecretCareForAdult(HIDDEN_FROM_REPS_ADULT, field="hidden_from_representatives")
    domain = box.address.rpartition("@")[2]
    message_id = f"<{uuid.uuid4().hex}@{domain}>"
    headers = {"Message-ID": message_id, "X-MSS-NIL": settings.MES_MSSANTE_NIL}
    if conv is not None:
        last = conv.messages.order_by("-at").first()
        if last is not None:
            headers["In-Reply-To"] = last.message_id
            headers["References"] = f"{last.references} {last.message_id}".strip()[-10_000:]
    if end_of_exchange:
        headers["X-MSS-MES"] = "FIN"
    if hidden_from_representatives:
        headers[HIDDEN_FROM_REPS_HEADER] = "Y"
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=f"{box.display_name} <{box.address}>",
        to=[f"{patient_ins}@{settings.MES_MSSANTE_PATIENT_DOMAIN}"],
        headers=headers,
    )
    for name, data in files:
        mime = filetypes.sniff(data)
        if mime not in CITIZEN_FILE_TYPES:
            raise InvalidInput(
                "Seuls les fichiers PDF, JPEG et PNG peuvent être joints.", "attachments"
            )
        email.attach(_clean_filename(name, mime), data, mime)
    try:
        with smtplib.SMTP(
            settings.MES_WEBPS_SMTP_HOST, settings.MES_WEBPS_SMTP_PORT, timeout=30
        ) as s:
            s.ehlo()
            if s.has_extn("starttls"):
                context = ssl.create_default_context()
                if not settings.MES_WEBPS_SMTP_TLS_VERIFY:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                s.starttls(context=context)
                s.ehlo()
            s.send_message(email.message(), from_addr=box.address)
    except smtplib.SMTPRecipientsRefused as exc:
        raise InvalidInput("Aucun espace santé n'est ouvert à cette adresse.", field="ins") from exc
    except smtplib.SMTPResponseException as exc:
        code = exc.smtp_code
        if hidden_from_representatives and b"majeur" in (exc.smtp_error or b""):
            raise SecretCareForAdult(
                HIDDEN_FROM_REPS_ADULT, field="hidden_from_representatives"
            ) from exc
        if 500 <= code < 600:
            raise InvalidInput(f"Message refusé par la messagerie ({code}).") from exc
        raise InvalidInput("La messagerie est momentanément indisponible, réessayez.") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise InvalidInput("La messagerie est momentanément indisponible, réessayez.") from exc
    return message_id
