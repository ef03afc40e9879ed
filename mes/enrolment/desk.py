"""What a support-desk agent (the 3422) may do on an espace: find it by NIR, see its state and
history of states, resend a code, record an opposition or a closure asked on the phone.
Everything is traced on the person's chain under the agent's own identity. Agents never reach
health content: the access decision gives the SUPPORT actor no standing on any dossier.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from mes.access.actors import Actor, ActorKind
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.lib.ins import InvalidIns, parse_ins

from . import lifecycle, notices
from .models import Espace, EspaceEvent, EspaceState


@dataclass(frozen=True)
class DeskView:
    espace: Espace
    events: list[EspaceEvent]

    # The desk offers only what the espace's state allows (lifecycle.ALLOWED_FROM): a caller
    # whose profile is active is not offered an opposition to its creation, nor a provisional
    # code that could activate nothing.
    @property
    def can_resend_code(self) -> bool:
        S = EspaceState
        return self.espace.state in (S.NOT_NOTIFIED, S.NOTIFIED, S.CREATED, S.OPPOSED, S.CLOSED)

    @property
    def can_oppose(self) -> bool:
        return self.espace.state in lifecycle.ALLOWED_FROM[EspaceState.OPPOSED]

    @property
    def can_suspend(self) -> bool:
        return self.espace.state in lifecycle.ALLOWED_FROM[EspaceState.SUSPENDED]

    @property
    def can_lift_suspension(self) -> bool:
        return self.espace.state == EspaceState.SUSPENDED

    @property
    def has_opposition_proof(self) -> bool:
        return self.espace.state == EspaceState.OPPOSED

    @property
    def has_closure_proof(self) -> bool:
        return self.espace.state == EspaceState.CLOSED

    @property
    def can_close(self) -> bool:
        return self.espace.state in lifecycle.ALLOWED_FROM[EspaceState.CLOSED]


def _agent_only(actor: Actor) -> None:
    if actor.kind is not ActorKind.SUPPORT:
        raise Refused.because(
            actor, TraceAction.SUPPORT_CONSULT, None, "réservé aux conseillers du 3422"
        )


@traced_action
def desk_find(*, actor: Actor, nir: str) -> DeskView:
    """The espace of this NIR (state and history), for an agent; NotFound otherwise.
    Side effect: a CONSULT_SUPPORT trace on the person's chain."""
    _agent_only(actor)
    try:
        ins = parse_ins(nir).value
    except InvalidIns as error:
        raise InvalidInput(str(error), field="nir") from error
    citizen = Citizen.objects.filter(ins=ins).first()
    espace = lifecycle.espace_of(citizen) if citizen is not None else None
    if espace is None:
        raise Refused.because(actor, TraceAction.SUPPORT_CONSULT, None, "aucun profil pour ce NIR")
    trace.record(actor=actor, action=TraceAction.SUPPORT_CONSULT, patient_id=espace.pk)
    return DeskView(espace=espace, events=list(espace.events.all()))


def _espace(actor: Actor, citizen_id: uuid.UUID) -> Espace:
    _agent_only(actor)
    citizen = Citizen.objects.filter(pk=citizen_id).first()
    espace = lifecycle.espace_of(citizen) if citizen is not None else None
    if espace is None:
        raise Refused.because(actor, TraceAction.SUPPORT_CONSULT, None, "profil inconnu")
    return espace


def desk_oppose(*, actor: Actor, citizen_id: uuid.UUID) -> EspaceEvent:
    """An opposition asked on the phone (mes-spec §3.2), before creation."""
    espace = _espace(actor, citizen_id)
    return lifecycle.espace_oppose(actor=actor, espace=espace, channel=lifecycle.PHONE)


def desk_close(*, actor: Actor, citizen_id: uuid.UUID, express_deletion: bool) -> Espace:
    """A closure asked on the phone (R1111-36: « par demande à l'opérateur »)."""
    espace = _espace(actor, citizen_id)
    return lifecycle.espace_close(
        actor=actor,
        citizen=espace.citizen,
        channel=lifecycle.PHONE,
        express_deletion=express_deletion,
    )


def desk_suspend(*, actor: Actor, citizen_id: uuid.UUID, reason: str) -> Espace:
    """A suspension decided by the Assurance Maladie (R1111-36: serious malfunction or fraud),
    recorded by the agent with its reason; the holder is informed and may object within the
    6 weeks before the closure."""
    espace = _espace(actor, citizen_id)
    return lifecycle.espace_suspend(
        actor=actor, citizen=espace.citizen, reason=reason, channel=lifecycle.DESK
    )


def desk_lift_suspension(*, actor: Actor, citizen_id: uuid.UUID, reason: str) -> Espace:
    """The holder's objection to a suspension, made on the phone, once the cause is settled:
    the espace is active again."""
    espace = _espace(actor, citizen_id)
    return lifecycle.espace_lift_suspension(
        actor=actor, citizen=espace.citizen, reason=reason, channel=lifecycle.PHONE
    )


def desk_resend_code(*, actor: Actor, citizen_id: uuid.UUID, channel: str) -> str:
    """A new provisional code by e-mail or SMS to the contact on file, or a letter (the
    returned description says where); older codes stop working."""
    espace = _espace(actor, citizen_id)
    return lifecycle.code_send(espace, channel=channel, actor=actor)


def _recorded(
    actor: Actor, citizen_id: uuid.UUID, state: EspaceState, *, missing: str, given: str
) -> EspaceEvent:
    """The history row that put the espace in `state`, where it still is, for its proof;
    Refused (traced: `missing`) otherwise. The proof's handing over is traced under the agent
    (`given`): the row says when and how, never any health content. A CLOSED → CLOSED row
    (the express deletion asked after the closure) is not the closure."""
    espace = _espace(actor, citizen_id)
    event = espace.events.filter(to_state=state).exclude(from_state=state).last()
    if espace.state != state or event is None:
        raise Refused.because(actor, TraceAction.SUPPORT_CONSULT, espace.pk, missing)
    trace.record(
        actor=actor, action=TraceAction.SUPPORT_CONSULT, patient_id=espace.pk, reason=given
    )
    return event


@traced_action
def desk_opposition_proof(*, actor: Actor, citizen_id: uuid.UUID) -> bytes:
    """The proof of the opposition on record, asked on the phone (mes-spec §3.2: « justificatif
    sur demande »), for the agent to send; NotFound when the espace is not opposed. Side
    effect: a CONSULT_SUPPORT trace under the agent."""
    event = _recorded(
        actor,
        citizen_id,
        EspaceState.OPPOSED,
        missing="aucune opposition enregistrée",
        given="justificatif d'opposition",
    )
    return notices.opposition_proof_of(event)


@traced_action
def desk_closure_proof(*, actor: Actor, citizen_id: uuid.UUID) -> bytes:
    """The proof of the closure on record (« justificatif de clôture », mes-spec §3.4), for the
    agent to send: the same PDF whether the closure was asked on the phone or done online with
    the provisional code; NotFound when the espace is not closed. Side effect: a
    CONSULT_SUPPORT trace under the agent."""
    event = _recorded(
        actor,
        citizen_id,
        EspaceState.CLOSED,
        missing="aucune clôture enregistrée",
        given="justificatif de clôture",
    )
    return notices.closure_proof_of(event)
