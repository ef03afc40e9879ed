"""Who may reach which mailbox and conversation (DESIGN.md §4). Every outcome is traced on the
patient's chain; refusals raise NotFound, exactly like what does not exist.

The citizen side goes through the dossier decision (`access.decide`): the holder and the legal
representatives read a profile's messages (READ) and write from it (MANAGE). The professional
side is the messaging's own rule: a professional reaches the conversations of the mailboxes they
hold (their nominative BAL, and the organisational or applicative BAL of their structure) — an
MSSanté exchange is not an access to the dossier, so no habilitation matrix applies.

A minor's secret care (L1111-5, R1111-50): a message a professional marked
INVISIBLE_REPRESENTANTS_LEGAUX is read by the minor and by the professionals of the
conversation, never by the legal representatives. Who sees it is the standing of the one dossier
decision (`sees_hidden_from_representatives`), read once per request — the access that let the
citizen in (inbox_access, conversation_access) carries it — and applied by every read path:
the list, a conversation, its messages, its files, the unread marks, the data download. A
conversation whose every message is secret does not exist for the parents; its traces are
hidden from them too, as the DMP hides the traces of secret care (mes-spec §5.8).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, decide
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .models import Attachment, Conversation, Mailbox, Message

# What the parents' refusal says in the trace (they are answered « not found », like anything
# unknown; the minor reads the attempt in their history, the parents never do).
HIDDEN_FROM_REPS_REFUSAL = (
    "soins sous secret du mineur : invisible aux représentants légaux (R1111-50)"
)


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
    ok, why, _ = _citizen_may(actor, patient, action)
    return ok, why


def _citizen_may(actor: Actor, patient: Citizen, action: Action) -> tuple[bool, str, bool]:
    """citizen_may, and whether this citizen sees the minor's secret care (the standing)."""
    if actor.kind is not ActorKind.CITIZEN:
        return False, "réservé au titulaire ou à son représentant légal", False
    decision = decide(actor, action, patient)
    return decision.allowed, decision.reason, decision.standing.sees_hidden_from_representatives


def sees_secret_care(actor: Actor, patient: Citizen) -> bool:
    """Does this actor read the minor's secret-care messages of this profile? The citizen side
    as the dossier decision's standing says (the holder yes, a legal representative or a carer
    no: R1111-50); a professional reaches only the conversations of the mailboxes they hold,
    where they are the other party, and reads them whole. Pure: no trace. A decision of its
    own: for a caller whose access was not decided (after inbox_access or
    conversation_access, their `sees_secret_care` says it)."""
    if actor.kind is ActorKind.PROFESSIONAL:
        return True
    if actor.kind is ActorKind.CITIZEN:
        return _citizen_may(actor, patient, Action.READ)[2]
    return False


def _shown(actor: Actor, patient: Citizen, sees_secret: bool | None) -> bool:
    """What the caller's access decided, else a decision made here (see sees_secret_care)."""
    return sees_secret_care(actor, patient) if sees_secret is None else sees_secret


def is_secret(conv: Conversation) -> bool:
    """Does this conversation hold a minor's secret care? (Its traces are then hidden from the
    legal representatives; a message written into it is secret too.)"""
    return conv.messages.filter(hidden_from_representatives=True).exists()


def visible_messages(
    actor: Actor, conv: Conversation, *, sees_secret: bool | None = None
) -> QuerySet[Message]:
    """The messages of a reached conversation the actor reads. sees_secret: what the
    conversation's access decided (ConversationAccess.sees_secret_care), so that the request
    decides once; None: decided here."""
    messages = conv.messages.all()
    if _shown(actor, conv.patient, sees_secret):
        return messages
    return messages.filter(hidden_from_representatives=False)


def _with_visible_message(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """The conversations that hold at least one message not kept from the representatives."""
    shown = Message.objects.filter(conversation=OuterRef("pk"), hidden_from_representatives=False)
    return qs.filter(Exists(shown))


@dataclass(frozen=True)
class InboxAccess:
    """A profile's Messagerie the citizen reached, with whether the standing it was decided on
    shows the minor's secret care (for what follows in the same request: the list, the unread
    marks, the files)."""

    patient: Citizen
    sees_secret_care: bool


@traced_action
def inbox_access(actor: Actor, patient_id: uuid.UUID) -> InboxAccess:
    """Open a profile's Messagerie (trace CONSULT_RUBRIQUE_MESSAGERIE) on one decision, or
    NotFound."""
    patient = patient_or_refused(actor, patient_id, refused_as=TraceAction.CONSULT_MESSAGING)
    ok, why, sees_secret = _citizen_may(actor, patient, Action.READ)
    if not ok:
        raise Refused.because(actor, TraceAction.CONSULT_MESSAGING, patient.pk, why)
    trace.record(actor=actor, action=TraceAction.CONSULT_MESSAGING, patient_id=patient.pk)
    return InboxAccess(patient, sees_secret)


def access_inbox(actor: Actor, patient_id: uuid.UUID) -> Citizen:
    """inbox_access, for callers that need only the patient."""
    return inbox_access(actor, patient_id).patient


def _conversation_allowed(
    actor: Actor, conv: Conversation, action: Action
) -> tuple[bool, str, bool]:
    """May the actor reach this conversation for this action, why not, and does it see the
    minor's secret care (the professional side, of a mailbox it holds: whole)."""
    if actor.kind is ActorKind.CITIZEN:
        if conv.trashed_at is not None:
            return False, "conversation supprimée par l'usager", False
        ok, why, sees_secret = _citizen_may(actor, conv.patient, action)
        if (
            ok
            and not sees_secret
            and not _with_visible_message(Conversation.objects.filter(pk=conv.pk)).exists()
        ):
            return False, HIDDEN_FROM_REPS_REFUSAL, False
        return ok, why, sees_secret
    if actor.kind is ActorKind.PROFESSIONAL:
        if mailboxes_of(actor).filter(pk=conv.counterpart_id).exists():
            return True, "", True
        return False, "conversation d'une autre boîte aux lettres", False
    return False, "acteur sans accès à la messagerie", False


@dataclass(frozen=True)
class ConversationAccess:
    """A conversation the actor reached, with whether the decision that let it in shows the
    minor's secret care (its messages, its files, whether a parent may answer)."""

    conversation: Conversation
    sees_secret_care: bool


@traced_action
def conversation_access(
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    action: Action = Action.READ,
    trace_action: TraceAction | None = TraceAction.CONSULT_MESSAGE,
) -> ConversationAccess:
    """One conversation the actor may reach, decided once, or NotFound (traced on the
    patient's chain).

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
    ok, why, sees_secret = _conversation_allowed(actor, conv, action)
    if not ok:
        # A parent refused a secret conversation: traced on the minor's chain, out of the
        # parents' sight, with nothing that names it.
        secret = why == HIDDEN_FROM_REPS_REFUSAL
        raise Refused.because(
            actor, refusal_action, conv.patient_id, why, hidden_from_representatives=secret
        )
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=conv.patient_id,
            document_title=conv.subject,
            hidden_from_representatives=is_secret(conv),
        )
    return ConversationAccess(conv, sees_secret)


def access_conversation(
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    action: Action = Action.READ,
    trace_action: TraceAction | None = TraceAction.CONSULT_MESSAGE,
) -> Conversation:
    """conversation_access, for callers that need only the conversation."""
    return conversation_access(
        actor, conversation_id, action=action, trace_action=trace_action
    ).conversation


def access_attachment(actor: Actor, attachment_id: uuid.UUID, *, action: Action) -> Attachment:
    """An attachment of a conversation the actor may reach (the caller traces the use)."""
    att = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if att is None:
        raise Refused.because(actor, TraceAction.CONSULT_MESSAGE, None, "pièce jointe inconnue")
    reached = conversation_access(
        actor, att.message.conversation_id, action=action, trace_action=None
    )
    conv = reached.conversation
    if att.message.hidden_from_representatives and not reached.sees_secret_care:
        raise Refused.because(
            actor,
            TraceAction.CONSULT_MESSAGE,
            conv.patient_id,
            HIDDEN_FROM_REPS_REFUSAL,
            hidden_from_representatives=True,
        )
    att.message.conversation = conv
    return att


def conversations_visible_to(
    actor: Actor, patient: Citizen, *, sees_secret: bool | None = None
) -> QuerySet[Conversation]:
    """A profile's conversations as the citizen side lists them: not put in the bin, and for
    a legal representative none made only of the minor's secret care. sees_secret: what the
    inbox's access decided (InboxAccess.sees_secret_care); None: decided here."""
    qs = Conversation.objects.filter(patient=patient, trashed_at__isnull=True)
    if _shown(actor, patient, sees_secret):
        return qs
    return _with_visible_message(qs)


def unread_filter(actor: Actor, patient: Citizen, *, sees_secret: bool | None = None) -> Q:
    """What counts as an unread message of `patient` for this citizen (a Q on Message): what
    the professional side sent and nobody opened, the secret care only for who may read it.
    sees_secret: what the inbox's access decided; None: decided here."""
    q = Q(direction=Message.Direction.TO_PATIENT, read_at__isnull=True)
    if not _shown(actor, patient, sees_secret):
        q &= Q(hidden_from_representatives=False)
    return q


def professional_conversations(actor: Actor) -> QuerySet[Conversation]:
    """The Web PS mailbox: the conversations of every mailbox the professional holds."""
    return Conversation.objects.filter(counterpart__in=mailboxes_of(actor))
