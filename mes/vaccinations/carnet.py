"""The carnet as one reads it: the vaccinations done and what the calendar says is due.

`carnet_of` is the read used by the portal page and the synthesis PDF: one policy call (traced),
then the calendar engine (mes.prevention.calendar) over the doses recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from mes.access.actors import Actor
from mes.access.decision import Action
from mes.access.models import ProfessionalAccess
from mes.audit.models import TraceAction
from mes.identity.models import Citizen, Professional
from mes.prevention.calendar import CalendarItem, Status, default_calendar, vaccination_status

from .models import Vaccination
from .policies import access_vaccinations

# What is « à venir » is shown when it starts before 1 January of the year after next, as the
# agenda's « Prochains » tab does (prevention.md §6.4).
UPCOMING_HORIZON_YEARS = 2
STATUS_ORDER = {Status.OVERDUE: 0, Status.TO_DO: 1, Status.UPCOMING: 2, Status.DONE: 3}


def calendar_items(
    patient: Citizen, vaccinations: list[Vaccination], today: date
) -> list[CalendarItem]:
    """The calendar for this person against the doses of their carnet."""
    return vaccination_status(
        patient.birth_date, patient.sex, today, [v.as_done() for v in vaccinations]
    )


def horizon(today: date) -> date:
    return date(today.year + UPCOMING_HORIZON_YEARS, 1, 1)


def period_text(item: CalendarItem) -> str:
    """« Du 01/03/2027 au 31/03/2027 », « À partir du 01/06/2025 »."""
    if item.window_start is None:
        return ""
    start = f"{item.window_start:%d/%m/%Y}"
    if item.window_end is None:
        return f"À partir du {start}"
    last = item.window_end - timedelta(days=1)
    return f"Du {start} au {last:%d/%m/%Y}"


def status_text(item: CalendarItem) -> str:
    """The status with its date, as the carnet and the PDF say it."""
    if item.status is Status.DONE:
        return f"Faite le {item.done_on:%d/%m/%Y}" if item.done_on else "Faite"
    if item.status is Status.OVERDUE:
        text = f"En retard : prévue le {item.due_date:%d/%m/%Y}" if item.due_date else "En retard"
        if item.catch_up_until is not None:
            last = item.catch_up_until - timedelta(days=1)
            text += f", rattrapage possible jusqu'au {last:%d/%m/%Y}"
        return text
    if item.status is Status.TO_DO:
        if item.window_end is not None and item.window_start is not None:
            last = item.window_end - timedelta(days=1)
            return f"À faire entre le {item.window_start:%d/%m/%Y} et le {last:%d/%m/%Y}"
        return "À faire dès maintenant"
    return f"À venir, à partir du {item.window_start:%d/%m/%Y}" if item.window_start else "À venir"


@dataclass(frozen=True)
class Carnet:
    patient: Citizen
    vaccinations: list[Vaccination]
    items: list[CalendarItem]
    today: date

    @property
    def calendar_title(self) -> str:
        return default_calendar().title

    def due(self, *, level: str = "") -> list[CalendarItem]:
        """To do, late, and to come before the horizon; « obligatoires » or « recommandees »."""
        limit = horizon(self.today)
        out = [
            i
            for i in self.items
            if i.pending
            and (i.status is not Status.UPCOMING or (i.due_date or limit) < limit)
            and _level_matches(i, level)
        ]
        return sorted(out, key=lambda i: (STATUS_ORDER[i.status], i.due_date or self.today))

    def later(self, *, level: str = "") -> list[CalendarItem]:
        """What comes after the horizon (shown on demand)."""
        limit = horizon(self.today)
        return [
            i
            for i in self.items
            if i.status is Status.UPCOMING
            and (i.due_date or limit) >= limit
            and _level_matches(i, level)
        ]

    def done(self, *, level: str = "") -> list[Vaccination]:
        """The vaccinations recorded. « obligatoires »: those counted for a mandatory rule of
        the calendar; « recommandees »: the others (travel vaccines included)."""
        if not level:
            return self.vaccinations
        mandatory = {i.done_ref for i in self.items if i.done_ref and i.mandatory}
        wanted = level == "obligatoires"
        return [v for v in self.vaccinations if (v.pk in mandatory) is wanted]


def _level_matches(item: CalendarItem, level: str) -> bool:
    if level == "obligatoires":
        return item.mandatory
    if level == "recommandees":
        return not item.mandatory
    return True


def carnet_of(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    today: date | None = None,
    trace_action: TraceAction = TraceAction.CONSULT_VACCINATIONS,
) -> Carnet:
    """The carnet of a patient the actor may read (traced under trace_action), or NotFound."""
    patient, _ = access_vaccinations(
        actor, patient_id, action=Action.READ, trace_action=trace_action
    )
    today = today or timezone.localdate()
    vaccinations = list(
        Vaccination.objects.filter(patient=patient).select_related("vaccinator", "patient")
    )
    return Carnet(patient, vaccinations, calendar_items(patient, vaccinations, today), today)


def professionals_of(patient: Citizen) -> list[Professional]:
    """The professionals the patient authorised: the carnet proposes them as vaccinators.
    The caller has already reached the dossier through a policy."""
    return list(
        Professional.objects.filter(
            pk__in=ProfessionalAccess.objects.authorised()
            .filter(patient=patient)
            .values("professional_id")
        ).order_by("last_name", "first_name")
    )
