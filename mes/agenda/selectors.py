"""Reading an agenda: the appointments and the prevention calendar of a profile.

`agenda_of` is what the portal page reads (one policy call, traced); `calendar_for` computes the
prevention calendar from the rows of one patient (the caller has checked access: the page, the
reminder sweep as the system, the iCalendar feed by its secret); `due_items` is the short list
the home page shows under « Examens à réaliser ».
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from mes.access.actors import Actor
from mes.access.decision import Action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.prevention.schedule import (
    ItemStatus,
    Planned,
    PreventionItem,
    Record,
    prevention_calendar,
)
from mes.vaccinations.models import Vaccination

from .actions import personalised_prevention
from .models import AgendaSettings, Appointment, PreventionRecord, UserReminder
from .policies import agenda_access, manageable_standing, visible_appointments

# What is still to do, most urgent first: overdue, then by window start.
OPEN_STATUSES = (ItemStatus.TO_DO, ItemStatus.PLANNED)


def _records(patient: Citizen) -> dict[str, Record]:
    return {
        r.key: Record(ItemStatus(r.status), r.done_on)
        for r in PreventionRecord.objects.filter(patient=patient)
    }


def _planned(appointments: list[Appointment]) -> dict[str, Planned]:
    out: dict[str, Planned] = {}
    for a in sorted(appointments, key=lambda a: a.starts_at):
        if a.prevention_key and a.status in (
            Appointment.Status.BOOKED,
            Appointment.Status.FULFILLED,
        ):
            out[a.prevention_key] = Planned(timezone.localtime(a.starts_at).replace(tzinfo=None), a)
    return out


def calendar_for(
    patient: Citizen,
    today: date,
    *,
    appointments: list[Appointment] | None = None,
    personalised: bool | None = None,
) -> list[PreventionItem]:
    """The prevention calendar of one patient from their rows: the carnet's doses, what was
    said, the appointments planning items, and their opposition. No access check here."""
    if appointments is None:
        appointments = list(Appointment.objects.filter(patient=patient))
    settings = AgendaSettings.objects.filter(patient=patient).first()
    if personalised is None:
        personalised = settings.personalised_prevention if settings else True
    return prevention_calendar(
        birth_date=patient.birth_date,
        sex=patient.sex,
        today=today,
        vaccinations=[v.as_done() for v in Vaccination.objects.filter(patient=patient)],
        records=_records(patient),
        planned=_planned(appointments),
        personalised=personalised,
        conditions=settings.situations if settings else (),
        pregnancy_start=settings.pregnancy_start if settings else None,
    )


@dataclass(frozen=True)
class Agenda:
    patient: Citizen
    upcoming: list[Appointment]
    past: list[Appointment]
    items: list[PreventionItem]
    personalised: bool
    today: date
    reminders: list[UserReminder]  # the « Rappels » ahead

    def open_items(self) -> list[PreventionItem]:
        """« Examens médicaux et vaccinations à réaliser »: à faire or planifié."""
        return sorted(
            (i for i in self.items if i.status in OPEN_STATUSES),
            key=lambda i: (not i.overdue, i.status is ItemStatus.PLANNED, i.window_start),
        )

    def later_items(self) -> list[PreventionItem]:
        return [i for i in self.items if i.status is ItemStatus.UPCOMING]

    def closed_items(self) -> list[PreventionItem]:
        return [i for i in self.items if i.status not in (*OPEN_STATUSES, ItemStatus.UPCOMING)]

    def item(self, key: str) -> PreventionItem | None:
        return next((i for i in self.items if i.key == key), None)


def agenda_of(*, actor: Actor, patient_id: uuid.UUID, now: datetime | None = None) -> Agenda:
    """The agenda of a profile the actor manages (CONSULT_AGENDA trace), or NotFound (traced).

    Upcoming: booked appointments from now on; past: the history of consultations (every
    appointment before now, and any not booked any more).
    """
    reached = agenda_access(
        actor, patient_id, action=Action.MANAGE, trace_action=TraceAction.CONSULT_AGENDA
    )
    patient = reached.patient
    now = now or timezone.now()
    mine = Appointment.objects.filter(patient=patient).select_related("professional")
    appointments = list(visible_appointments(mine, reached.standing))
    upcoming = [a for a in appointments if a.starts_at >= now and a.active]
    past = sorted(
        (a for a in appointments if a not in upcoming), key=lambda a: a.starts_at, reverse=True
    )
    personalised = personalised_prevention(patient)
    today = timezone.localdate(now)
    return Agenda(
        patient=patient,
        upcoming=upcoming,
        past=past,
        items=calendar_for(patient, today, appointments=appointments, personalised=personalised),
        personalised=personalised,
        today=today,
        reminders=list(UserReminder.objects.filter(patient=patient, at__gte=now)),
    )


def due_items(actor: Actor, profile: Citizen, limit: int = 3) -> list[PreventionItem]:
    """« Examens à réaliser » for the home page: the first `limit` items to do of a profile the
    actor manages (empty otherwise). Not traced: the holder's own summary tile, like the
    unread counts; opening the agenda itself is traced."""
    st = manageable_standing(actor, profile)
    if st is None:
        return []
    seen = visible_appointments(Appointment.objects.filter(patient=profile), st)
    items = calendar_for(profile, timezone.localdate(), appointments=list(seen))
    open_items = sorted(
        (i for i in items if i.status in OPEN_STATUSES),
        key=lambda i: (not i.overdue, i.window_start),
    )
    return open_items[:limit]


def appointments_between(patient: Citizen, start: datetime, end: datetime) -> QuerySet[Appointment]:
    return Appointment.objects.filter(patient=patient, starts_at__gte=start, starts_at__lt=end)
