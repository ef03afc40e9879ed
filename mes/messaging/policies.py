"""Who may reach which mailbox and conversation (DESIGN.md §4). Every outcome is traced on the
patient's chain; refusals raise NotFound, exactly like what does not exist.

The citizen side goes through the dossier decision (`access.decide`): the holder and the legal
representatives read a profile's messages (READ) and write from it (MANAGE). The professional
side is the messaging's own rule: a professional reaches the conversations of the mailboxes they
hold (their nominative BAL, and the organisational or applicative BAL of their structure) — an
MSSanté exchange is not an access to the dossier, so no habilitation matrix applies.
"""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, decide
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .models import Attachment, Conversation, Mailbox


def mailboxes_of(actor: Actor) -> QuerySet[Mailbox]:
    """The mailboxes a professional reads: their PER BAL and their structure's ORG/APP BAL."""
    if actor.kind is not ActorKind.PROFESSIONAL or actor.professional_id is None:
        return Mailbox.objects.none()
    held = Q(kind=Mailbox.Kind.PER, professional_id=actor.professional_id)
    if actor.organisation_id is not None:
        held |= ~Q(kind=Mailbox.Kind.PER) & Q(organisation_id=actor.organisation_id)
    return Mailbox.objects.filter(held)


def citizen_may(actor: Actor, patient: Citizen, action: Action) -> tuple[bool, str]:
    """The holder or a legal representative, as the dossier decision says."""
    if actor.kind is not ActorKind.CITIZEN:
        return False, "réservé au titulaire ou à son représentant légal"
    decision = decide(actor, action, patient)
    return decision.allowed, decision.reason


@traced_action
def access_inbox(actor: Actor, patient_id: uuid.UUID) -> Citizen:
    """Open a profile's Messagerie (trace CONSULT_RUBRIQUE_MESSAGERIE), or NotFound."""
    patient = patient_or_refused(actor, patient_id, refused_as=TraceAction.CONSULT_MESSAGING)
    ok, why = citizen_may(actor, patient, Action.READ)
    if not ok:
        raise Refused.because(actor, TraceAction.CONSULT_MESSAGING, patient.pk, why)
    trace.record(actor=actor, action=TraceAction.CONSULT_MESSAGING, patient_id=patient.pk)
    return patient


def _conversation_allowed(actor: Actor, conv: Conversation, action: Action) -> tuple[bool, str]:
    if actor.kind is ActorKind.CITIZEN:
        if conv.trashed_at is not None:
            return False, "conversation supprimée par l'usager"
        return citizen_may(actor, conv.patient, action)
    if actor.kind is ActorKind.PROFESSIONAL:
        if mailboxes_of(actor).filter(pk=conv.counterpart_id).exists():
            return True, ""
        return False, "conversation d'une autre boîte aux lettres"
    return False, "acteur sans accès à la messagerie"


@traced_action
def access_conversation(
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    action: Action = Action.READ,
    trace_action: TraceAction | None = TraceAction.CONSULT_MESSAGE,
) -> Conversation:
    """One conversation the actor may reach, or NotFound (traced on the patient's chain).

    action: READ to read; MANAGE for the citizen side's changes (reply, draft, delete).
    trace_action: written when allowed (None: the calling action writes its own).
    """
    conv = (
        Conversation.objects.select_related(
            "patient", "counterpart__professional", "counterpart__organisation"
        )
        .filter(pk=conversation_id)
        .first()
    )
    refusal_action = trace_action or TraceAction.CONSULT_MESSAGE
    if conv is None:
        raise Refused.because(actor, refusal_action, None, "conversation inconnue")
    ok, why = _conversation_allowed(actor, conv, action)
    if not ok:
        raise Refused.because(actor, refusal_action, conv.patient_id, why)
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=conv.patient_id,
            document_title=conv.subject,
        )
    return conv


def access_attachment(actor: Actor, attachment_id: uuid.UUID, *, action: Action) -> Attachment:
    """An attachment of a conversation the actor may reach (the caller traces the use)."""
    att = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if att is None:
        raise Refused.because(actor, TraceAction.CONSULT_MESSAGE, None, "pièce jointe inconnue")
    access_conversation(actor, att.message.conversation_id, action=action, trace_action=None)
    return att


def conversations_visible_to(actor: Actor, patient: Citizen) -> QuerySet[Conversation]:
    """A profile's conversations as the citizen side lists them (after access_inbox)."""
    return Conversation.objects.filter(patient=patient, trashed_at__isnull=True)


def professional_conversations(actor: Actor) -> QuerySet[Conversation]:
    """The Web PS mailbox: the conversations of every mailbox the professional holds."""
    return Conversation.objects.filter(counterpart__in=mailboxes_of(actor))
