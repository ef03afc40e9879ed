"""Web PS mailbox: the professional writes to a patient (found by INS), reads the replies and
ends the exchange. Messages leave over real SMTP to the MSSanté gateway, as from any MSSanté
client, so the whole loop is the one practice software uses."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from mes.lib.errors import InvalidInput
from mes.messaging import actions
from mes.messaging.models import Conversation, Message
from mes.messaging.policies import (
    access_conversation,
    is_secret,
    mailboxes_of,
    professional_conversations,
)
from mes.web.downloads import attachment_response, file_name

from ..access import ProRequest, professional_view
from ..rendering import render_pro
from .forms import ProMessageForm, ProReplyForm

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
@professional_view
def mailbox(request: ProRequest) -> HttpResponse:
    """The conversations of the mailboxes the professional holds, and « Écrire à un patient »."""
    boxes = list(mailboxes_of(request.actor).select_related("organisation"))
    form = ProMessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.professional_submit(
                actor=request.actor,
                patient_ins=data["ins"],
                subject=data["subject"],
                body=data["body"],
                files=[(f.name, f.read()) for f in data["attachments"]],
                end_of_exchange=data["end"],
                hidden_from_representatives=data["hidden_from_representatives"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Message envoyé au patient.")
            return redirect("pro:messaging")
    unread = Count(
        "messages",
        filter=Q(
            messages__direction=Message.Direction.FROM_PATIENT, messages__read_at__isnull=True
        ),
    )
    conversations = (
        professional_conversations(request.actor)
        .select_related("patient", "counterpart")
        .annotate(
            unread=unread,
            secret=Exists(
                Message.objects.filter(
                    conversation=OuterRef("pk"), hidden_from_representatives=True
                )
            ),
        )
        .order_by("-last_message_at")[:PAGE_SIZE]
    )
    return render_pro(
        request,
        "pro/messaging/mailbox.html",
        {"boxes": boxes, "conversations": conversations, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@professional_view
def conversation(request: ProRequest, conversation_id: uuid.UUID) -> HttpResponse:
    """One conversation (CONSULT_MESSAGE); the patient's replies are now read. A reply leaves
    over SMTP like the first message."""
    if request.method == "POST":
        conv = access_conversation(request.actor, conversation_id, trace_action=None)
        secret = is_secret(conv)
        form = ProReplyForm(request.POST, request.FILES, may_hide=_may_hide(conv, secret))
        if form.is_valid():
            try:
                message_id = actions.professional_submit(
                    actor=request.actor,
                    patient_ins=conv.patient.ins,
                    subject=f"RE: {conv.subject}"[:255],
                    body=form.cleaned_data["body"],
                    files=[(f.name, f.read()) for f in form.cleaned_data["attachments"]],
                    conversation_id=conv.pk,
                    end_of_exchange=form.cleaned_data["end"],
                    hidden_from_representatives=form.cleaned_data.get(
                        "hidden_from_representatives", False
                    ),
                )
            except InvalidInput as exc:
                form.add_input_error(exc)
            else:
                messages.success(request, "Réponse envoyée.")
                # A confidential reply opens its own conversation (mes.messaging.actions).
                return redirect("pro:messaging_conversation", _stored_in(conv, message_id))
        status = 400
    else:
        conv = actions.conversation_read(actor=request.actor, conversation_id=conversation_id)
        secret = is_secret(conv)
        form = ProReplyForm(may_hide=_may_hide(conv, secret))
        status = 200
    msgs = conv.messages.select_related("sender__professional", "sender__organisation")
    return render_pro(
        request,
        "pro/messaging/conversation.html",
        {
            "conversation": conv,
            "messages_list": msgs.prefetch_related("attachments"),
            "form": form,
            "secret": secret,
        },
        status=status,
    )


def _may_hide(conv: Conversation, secret: bool) -> bool:
    """Offer « invisible aux représentants légaux » on a reply: to a minor, in a conversation
    their parents read (a confidential conversation's replies are confidential anyway)."""
    return not secret and actions.secret_care_allowed(conv.patient)


def _stored_in(conv: Conversation, message_id: str) -> uuid.UUID:
    """The conversation the gateway stored a reply in: this one, or the confidential one it
    opened."""
    stored = (
        Message.objects.filter(conversation__patient_id=conv.patient_id, message_id=message_id)
        .values_list("conversation_id", flat=True)
        .first()
    )
    return stored or conv.pk


@require_POST
@professional_view
def close(request: ProRequest, conversation_id: uuid.UUID) -> HttpResponse:
    """« Mettre fin aux échanges »: the patient can no longer reply."""
    actions.conversation_close(actor=request.actor, conversation_id=conversation_id)
    messages.success(request, "Vous avez mis fin aux échanges : le patient ne peut plus répondre.")
    return redirect("pro:messaging_conversation", conversation_id)


@require_http_methods(["GET"])
@professional_view
def attachment(request: ProRequest, attachment_id: uuid.UUID) -> HttpResponse:
    """A file of the conversation, always as a download."""
    att, data = actions.attachment_content(actor=request.actor, attachment_id=attachment_id)
    return attachment_response(
        data, content_type=att.mime_type, filename=file_name(att.filename, att.mime_type)
    )
