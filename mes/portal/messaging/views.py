"""Messagerie (portal.md §9, wave2.md §1.1): the inbox, a conversation, replies and drafts,
« Enregistrer dans mes documents », deleting a conversation, a new message to a pharmacy.

Each view resolves through one policy or action of mes.messaging; refusals raise NotFound and
look exactly like a conversation that does not exist.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mes.lib.errors import InvalidInput
from mes.medical_profile import synthesis
from mes.messaging import actions
from mes.messaging.models import Conversation, Draft, Mailbox, Message
from mes.messaging.policies import (
    ConversationAccess,
    access_conversation,
    access_inbox,
    conversation_access,
    conversations_visible_to,
    inbox_access,
    is_secret,
    unread_filter,
    visible_messages,
)
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.vault.store import VaultError
from mes.web.downloads import attachment_response, file_name

from ..access import PROFILE_SESSION_KEY, PortalRequest, patient_view
from .forms import NewMessageForm, ReplyForm, SaveAttachmentForm

logger = logging.getLogger(__name__)

PAGE_SIZE = 50  # wave2.md §1.1: itemsPerPage=50


def _show_profile_of(request: PortalRequest, conv: Conversation) -> None:
    """A conversation reached by a link (a child's notification) shows its own profile; the
    policy already allowed it."""
    if conv.patient_id != request.profile.pk:
        request.profile = conv.patient
        request.is_own_profile = conv.patient_id == request.citizen.pk
        request.session[PROFILE_SESSION_KEY] = str(conv.patient_id)


def _documents_of(request: PortalRequest) -> list[Document]:
    return list(
        documents_visible_to(request.actor, request.profile).order_by("-service_date")[:100]
    )


def _outgoing(request: PortalRequest, form: ReplyForm | NewMessageForm) -> actions.Outgoing:
    data = form.cleaned_data
    pdf = None
    if data.get("synthesis"):
        pdf = synthesis.synthesis_pdf(
            actor=request.actor,
            patient_id=request.profile.pk,
            sections=list(synthesis.ALL_SECTIONS),
        )
    return actions.Outgoing(
        body=data.get("body", ""),
        files=[(f.name, f.read()) for f in data.get("attachments", [])],
        document_ids=[uuid.UUID(d) for d in data.get("documents", [])],
        synthesis_pdf=pdf,
        reply_all=bool(data.get("reply_all")),
    )


@patient_view
def inbox(request: PortalRequest) -> HttpResponse:
    """« Messagerie de santé »: the profile's conversations, 50 a page, unread filter."""
    # One decision: what the list shows of the minor's secret care follows the access's.
    reached = inbox_access(request.actor, request.profile.pk)
    patient, sees_secret = reached.patient, reached.sees_secret_care
    unread_only = request.GET.get("non-lus") == "1"
    unread = Message.objects.filter(
        unread_filter(request.actor, patient, sees_secret=sees_secret), conversation=OuterRef("pk")
    )
    # Files of the messages this citizen reads (a parent never counts the minor's secret care).
    files = Q()
    if not sees_secret:
        files = Q(messages__hidden_from_representatives=False)
    qs = (
        conversations_visible_to(request.actor, patient, sees_secret=sees_secret)
        .select_related("counterpart__professional", "counterpart__organisation")
        .annotate(
            has_unread=Exists(unread),
            n_files=Count("messages__attachments", filter=files, distinct=True),
            has_draft=Exists(Draft.objects.filter(conversation=OuterRef("pk"))),
        )
        .order_by("-last_message_at")
    )
    any_unread = qs.filter(has_unread=True).exists()
    if unread_only:
        qs = qs.filter(has_unread=True)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/messaging/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "any_unread": any_unread,
            "address": actions.patient_address(patient),
            "own_profile": request.is_own_profile,
            "profile": patient,
        },
    )


def _conversation_context(
    request: PortalRequest, reached: ConversationAccess, form: ReplyForm | None = None
) -> dict[str, Any]:
    """What the conversation page shows, as the access that let the citizen in decided (the
    minor's secret care for the minor only): no second decision."""
    conv, sees_secret = reached.conversation, reached.sees_secret_care
    msgs = list(
        visible_messages(request.actor, conv, sees_secret=sees_secret)
        .select_related("sender__professional", "sender__organisation")
        .prefetch_related("attachments")
    )
    last_in = next((m for m in reversed(msgs) if m.direction == Message.Direction.TO_PATIENT), None)
    no_reply = last_in is not None and last_in.reply_mode == Message.ReplyMode.NO_REPLY
    # A parent never answers onto the minor's secret care (the action refuses it too).
    no_reply = no_reply or (not sees_secret and is_secret(conv))
    can_reply = not conv.is_closed and not no_reply and conv.counterpart.active
    draft = Draft.objects.filter(conversation=conv).first()
    if form is None:
        form = ReplyForm(
            initial={"body": draft.body if draft else ""}, documents=_documents_of(request)
        )
    return {
        "conversation": conv,
        "messages_list": msgs,
        "form": form,
        "can_reply": can_reply,
        "no_reply": no_reply,
        "reply_all_possible": bool(last_in and last_in.reply_mode == Message.ReplyMode.REPLY_ALL),
        "draft": draft,
        "own_profile": request.is_own_profile,
        "profile": conv.patient,
    }


@patient_view
def conversation(request: PortalRequest, conversation_id: uuid.UUID) -> HttpResponse:
    """One conversation; opening it marks what the professional sent as read."""
    reached = actions.conversation_open(actor=request.actor, conversation_id=conversation_id)
    _show_profile_of(request, reached.conversation)
    return render(
        request, "portal/messaging/conversation.html", _conversation_context(request, reached)
    )


@require_POST
@patient_view
def reply(request: PortalRequest, conversation_id: uuid.UUID) -> HttpResponse:
    """Send the reply, or keep it as the conversation's draft, or discard the draft."""
    reached = conversation_access(request.actor, conversation_id, trace_action=None)
    conv = reached.conversation
    _show_profile_of(request, conv)
    intent = request.POST.get("intent", "send")
    if intent == "discard":
        actions.draft_discard(actor=request.actor, conversation_id=conv.pk)
        messages.success(request, "Brouillon supprimé.")
        return redirect("portal:messaging_conversation", conv.pk)
    form = ReplyForm(request.POST, request.FILES, documents=_documents_of(request))
    if form.is_valid():
        try:
            if intent == "draft":
                actions.draft_save(
                    actor=request.actor, conversation_id=conv.pk, body=form.cleaned_data["body"]
                )
                messages.success(request, "Brouillon enregistré.")
            else:
                actions.message_reply(
                    actor=request.actor, conversation_id=conv.pk, outgoing=_outgoing(request, form)
                )
                messages.success(request, "Message envoyé.")
            return redirect("portal:messaging_conversation", conv.pk)
        except InvalidInput as exc:
            form.add_input_error(exc)
    return render(
        request,
        "portal/messaging/conversation.html",
        _conversation_context(request, reached, form),
        status=400,
    )


@patient_view
def attachment(request: PortalRequest, attachment_id: uuid.UUID) -> HttpResponse:
    """A file of a message, always as a download under a name we make."""
    try:
        att, data = actions.attachment_content(actor=request.actor, attachment_id=attachment_id)
    except VaultError:
        logger.exception("Pièce jointe %s illisible dans le coffre", attachment_id)
        return render(request, "portal/documents/unavailable.html", status=500)
    return attachment_response(
        data, content_type=att.mime_type, filename=file_name(att.filename, att.mime_type)
    )


@patient_view
def attachment_save(request: PortalRequest, attachment_id: uuid.UUID) -> HttpResponse:
    """« Enregistrer dans mes documents de santé », in the category the citizen chooses."""
    from mes.access.decision import Action
    from mes.messaging.policies import access_attachment

    att = access_attachment(request.actor, attachment_id, action=Action.MANAGE)
    conv = att.message.conversation
    _show_profile_of(request, conv)
    form = SaveAttachmentForm(
        request.POST or None, initial={"title": att.filename.rsplit(".", 1)[0]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            doc = actions.attachment_save_to_documents(
                actor=request.actor,
                attachment_id=att.pk,
                category=form.cleaned_data["category"],
                title=form.cleaned_data["title"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, f"« {doc.title} » est enregistré dans vos documents.")
            return redirect("portal:messaging_conversation", conv.pk)
    return render(
        request,
        "portal/messaging/save.html",
        {"attachment": att, "conversation": conv, "form": form},
        status=400 if form.errors else 200,
    )


@patient_view
def delete(request: PortalRequest, conversation_id: uuid.UUID) -> HttpResponse:
    """« Supprimer la conversation », after a confirmation."""
    conv = access_conversation(request.actor, conversation_id, trace_action=None)
    _show_profile_of(request, conv)
    if request.method == "POST":
        actions.conversation_trash(actor=request.actor, conversation_id=conv.pk)
        messages.success(request, "Conversation supprimée.")
        return redirect("portal:messaging")
    return render(request, "portal/messaging/delete.html", {"conversation": conv})


def _pharmacy_choices(request: PortalRequest, query: str) -> tuple[list[Mailbox], list[Mailbox]]:
    visited = list(actions.visited_pharmacies(request.profile).select_related("organisation"))
    found = list(actions.pharmacy_mailboxes(query)[:20]) if query else []
    return visited, [m for m in found if m not in visited]


def _pharmacy_label(m: Mailbox) -> str:
    city = m.organisation.city if m.organisation else ""
    return f"{m.display_name} — {city}" if city else m.display_name


@patient_view
def new_message(request: PortalRequest) -> HttpResponse:
    """« Envoyer mon ordonnance »: a new conversation with a pharmacy (mes-spec §7.2)."""
    access_inbox(request.actor, request.profile.pk)
    query = request.GET.get("q", "").strip()[:100]
    visited, found = _pharmacy_choices(request, query)
    chosen_id = request.POST.get("mailbox") or request.GET.get("pharmacie", "")
    chosen = (
        [m for m in actions.pharmacy_mailboxes().filter(pk=chosen_id)]
        if chosen_id.isdigit()
        else []
    )
    boxes = {m.pk: m for m in [*visited, *found, *chosen]}
    choices = [(str(m.pk), _pharmacy_label(m)) for m in boxes.values()]
    docs = _documents_of(request)
    prescriptions = [d for d in docs if d.class_code == "42" or d.category == "ORD_SOIN"]
    ordered_docs = prescriptions + [d for d in docs if d not in prescriptions]
    form = NewMessageForm(
        request.POST or None,
        request.FILES or None,
        documents=ordered_docs,
        pharmacies=choices,
        initial={
            "subject": "Mon ordonnance",
            "mailbox": chosen_id,
            "body": (
                "Bonjour,\nJe souhaite vous partager mon document.\nBonne réception.\n"
                f"{request.profile.display_name}"
            ),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            conv = actions.conversation_start(
                actor=request.actor,
                patient_id=request.profile.pk,
                mailbox_id=int(form.cleaned_data["mailbox"]),
                subject=form.cleaned_data["subject"],
                outgoing=_outgoing(request, form),
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Message envoyé à la pharmacie.")
            return redirect("portal:messaging_conversation", conv.pk)
    return render(
        request,
        "portal/messaging/new.html",
        {"form": form, "query": query, "visited": visited, "found": found},
        status=400 if form.errors else 200,
    )
