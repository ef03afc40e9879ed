"""Who may reach an agenda santé. Every outcome is traced (DESIGN.md §4).

- The holder and their legal representatives read and manage the agenda (Action.MANAGE): the
  appointments, what was said about prevention items, the opposition, the iCalendar feeds.
- A paired app (catalogue) reads or writes them within the purposes consented (decide_exchange).
- A professional reads and writes appointments (FHIR `Appointment`) when they may read the
  dossier (decide READ: authorised, médecin traitant, emergency modes are not for agendas): an
  appointment says who the person sees, so it is given only to those already trusted with the
  dossier [decision, docs/decisions.md « Agenda »]. Nobody else (insurer, system, support).

Refusals raise NotFound, exactly as for what does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from mes.access.actors import AccessMode, Actor, ActorKind
from mes.access.decision import Action, Decision, Role, Standing, decide, decide_exchange
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .models import Appointment, UserReminder


def _allowed(actor: Actor, action: Action, patient: Citizen) -> tuple[bool, str, Standing]:
    """decide() for the agenda: the citizen side manages it, a trusted professional reads and
    writes appointments (action READ), nobody else."""
    if actor.kind is ActorKind.CITIZEN:
        decision = decide(actor, Action.MANAGE, patient)
        return decision.allowed, decision.reason, decision.standing
    if actor.kind is ActorKind.APP:
        # A paired app (issue 11): within the agenda purposes the holder consented to.
        exchange = "lecture" if action is Action.READ else "ecriture"
        d = decide_exchange(actor, patient, "agenda", exchange)
        return d.allowed and action in (Action.READ, Action.DEPOSIT), d.reason, d.standing
    decision = decide(actor, Action.READ, patient)
    st = decision.standing
    if actor.kind is not ActorKind.PROFESSIONAL:
        return False, "agenda réservé à l'usager et à ses professionnels de santé", st
    if actor.mode is not AccessMode.NORMAL:
        return False, "l'agenda n'est pas accessible en mode urgence", st
    if not decision.allowed:
        return False, decision.reason, st
    return action in (Action.READ, Action.DEPOSIT), "", st


def visible_appointments(
    appointments: QuerySet[Appointment], standing: Standing
) -> QuerySet[Appointment]:
    """The appointments an actor of this `standing` (the one its access to the agenda was
    decided with: access_agenda, the iCalendar feed's read) may see: a minor's secret care
    stays hidden from the legal representatives (R1111-50), as the documents do. The decision
    is the caller's, made once per request, never made again here."""
    if standing.sees_hidden_from_representatives:
        return appointments
    return appointments.filter(hidden_from_representatives=False)


def manageable_standing(actor: Actor, patient: Citizen) -> Standing | None:
    """The standing of a citizen who may manage this agenda, None otherwise. Pure (no trace),
    for menus and summary tiles."""
    if actor.kind is not ActorKind.CITIZEN:
        return None
    ok, _, st = _allowed(actor, Action.MANAGE, patient)
    return st if ok else None


def agenda_manageable(actor: Actor, patient: Citizen) -> bool:
    """May this citizen manage this agenda? Pure (no trace), for menus."""
    return manageable_standing(actor, patient) is not None


@dataclass(frozen=True)
class AgendaAccess:
    """An agenda the actor reached, with the standing it was decided on (for what follows in
    the same request: which appointments it sees)."""

    patient: Citizen
    standing: Standing


@traced_action
def agenda_access(
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    action: Action,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
) -> AgendaAccess:
    """The agenda the actor may reach for this action and the standing decided, or NotFound
    (traced).

    action: MANAGE (the citizen side), READ or DEPOSIT (a professional, appointments only).
    trace_action: written when allowed (None: the caller's action traces itself); a refusal is
    traced under refused_as, else trace_action, else CONSULT_AGENDA.
    """
    refused_as = refused_as or trace_action or TraceAction.CONSULT_AGENDA
    patient = patient_or_refused(actor, patient_id, refused_as=refused_as)
    ok, reason, st = _allowed(actor, action, patient)
    if not ok:
        raise Refused.because(actor, refused_as, patient.pk, reason)
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=patient.pk,
            matrix_version=st.matrix_version,
        )
    return AgendaAccess(patient, st)


@traced_action
def exchanged_agenda(
    actor: Actor,
    patient: Citizen,
    exchange: Decision,
    *,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
) -> AgendaAccess:
    """A paired app's read of this agenda on the decision its request's gate already made
    (mes.fhir.services.access.require_exchange: decide_exchange(actor, patient, "agenda",
    "lecture")), or NotFound (traced). That decision IS the rule agenda_access applies to an app
    (`_allowed`: the agenda purpose consented, the pairing standing); deciding it again would
    compute the same standing twice. Nothing is taken on trust: the decision must be allowed
    and its standing an app's with the agenda read consented (fail closed otherwise).
    trace_action: written when allowed (None: the caller traces what it reads: an appointment,
    access_appointment); a refusal is traced under refused_as, else trace_action."""
    refused_as = refused_as or trace_action or TraceAction.CONSULT_AGENDA
    st = exchange.standing
    if not (
        actor.kind is ActorKind.APP
        and exchange.allowed
        and st.role is Role.APP
        and ("agenda", "lecture") in st.exchanges
    ):
        reason = exchange.reason or "finalité non consentie (agenda, lecture)"
        raise Refused.because(actor, refused_as, patient.pk, reason)
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=patient.pk,
            matrix_version=st.matrix_version,
        )
    return AgendaAccess(patient, st)


def access_agenda(
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    action: Action,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
) -> Citizen:
    """The patient whose agenda the actor may reach for this action, or NotFound (traced):
    agenda_access, for callers that need only the patient."""
    return agenda_access(
        actor, patient_id, action=action, trace_action=trace_action, refused_as=refused_as
    ).patient


@traced_action
def access_appointment(
    actor: Actor,
    appointment_id: uuid.UUID,
    *,
    action: Action,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
    for_update: bool = False,
    reached: AgendaAccess | None = None,
) -> Appointment:
    """One appointment the actor may reach for this action, or NotFound (traced).

    reached: the agenda this request already reached for a read (exchanged_agenda): the
    appointment must be in it, and its standing is the one decided (no second decision)."""
    refused_as = refused_as or trace_action or TraceAction.CONSULT_APPOINTMENT
    if reached is not None and action is not Action.READ:
        raise ValueError("an agenda reached for a read decides only reads")
    qs = Appointment.objects.select_related("patient", "professional")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    appointment = qs.filter(pk=appointment_id).first()
    if appointment is None:
        raise Refused.because(actor, refused_as, None, "rendez-vous inconnu")
    if reached is None:
        ok, reason, st = _allowed(actor, action, appointment.patient)
    else:
        same = appointment.patient_id == reached.patient.pk
        ok, reason, st = same, "" if same else "rendez-vous d'un autre espace", reached.standing
    if not ok:
        raise Refused.because(
            actor, refused_as, appointment.patient_id, reason, document_title=appointment.title
        )
    if appointment.hidden_from_representatives and not st.sees_hidden_from_representatives:
        # A minor's secret care: for the parents it does not exist (the refusal names nothing).
        raise Refused.because(actor, refused_as, None, "rendez-vous inconnu")
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=appointment.patient_id,
            document_title=appointment.display_title[:255],
            matrix_version=st.matrix_version,
        )
    return appointment


@traced_action
def access_user_reminder(
    actor: Actor,
    reminder_id: uuid.UUID,
    *,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
    for_update: bool = False,
) -> UserReminder:
    """One « Rappel » the citizen side may manage, or NotFound (traced): another patient's
    reminder looks exactly like one that does not exist."""
    refused_as = refused_as or trace_action or TraceAction.CONSULT_APPOINTMENT
    qs = UserReminder.objects.select_related("patient")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    reminder = qs.filter(pk=reminder_id).first()
    if reminder is None:
        raise Refused.because(actor, refused_as, None, "rappel inconnu")
    ok, reason, st = _allowed(actor, Action.MANAGE, reminder.patient)
    if not ok:
        raise Refused.because(actor, refused_as, reminder.patient_id, reason)
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=reminder.patient_id,
            document_title=f"Rappel : {reminder.title}"[:255],
            matrix_version=st.matrix_version,
        )
    return reminder
