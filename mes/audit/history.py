"""The patient's activity history: the trace read back for the holder (L1111-19, portal.md §5.3).

A selector only: the caller has already checked, and traced, that the actor may read the traces
of this dossier (`records.policies.access_dossier(..., action=Action.READ_TRACES)`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.db.models import QuerySet
from django.utils import timezone

from mes.access.actors import CARER_JUSTIFICATION, AccessMode, ActorKind
from mes.lib import codes

from .models import Trace, TraceAction, TraceOutcome

# portal.md §5.3: « Afficher plus », 100 per page, newest first.
HISTORY_PAGE_SIZE = 100


class HistoryTab(StrEnum):
    # Professionals and every other party acting on the dossier from outside (structures, the
    # Assurance Maladie, apps, support, system jobs): the right to see every access covers them all.
    PROFESSIONALS = "professionnels"
    # The holder's own actions, or on a child's profile those of the legal representatives.
    CITIZENS = "mes-activites"


_TAB_KINDS: dict[HistoryTab, tuple[str, ...]] = {
    HistoryTab.PROFESSIONALS: (
        ActorKind.PROFESSIONAL.value,
        ActorKind.STRUCTURE.value,
        ActorKind.INSURER.value,
        ActorKind.APP.value,
        ActorKind.SUPPORT.value,
        ActorKind.SYSTEM.value,
    ),
    HistoryTab.CITIZENS: (ActorKind.CITIZEN.value,),
}

ACCESS_MODE_LABELS = {
    AccessMode.NORMAL.value: "Accès normal",
    AccessMode.BREAK_GLASS.value: "Accès en urgence (bris de glace)",
    AccessMode.CENTRE_15.value: "SAMU – Centre 15",
}

ACTOR_KIND_LABELS = {
    ActorKind.CITIZEN.value: "Usager",
    ActorKind.PROFESSIONAL.value: "Professionnel de santé",
    ActorKind.STRUCTURE.value: "Établissement",
    ActorKind.INSURER.value: "Assurance Maladie",
    ActorKind.APP.value: "Service synchronisé",
    ActorKind.SUPPORT.value: "Support",
    ActorKind.SYSTEM.value: "Système",
}


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    actor_kind: str
    actor_kind_label: str
    actor_name: str
    by_representative: bool  # a legal representative acted for the patient
    by_carer: bool  # a proche aidant acted for the patient (portal.md §5.8)
    profession_label: str
    specialty_label: str
    organisation_name: str
    access_mode: str
    access_mode_label: str
    is_emergency: bool
    action_label: str
    document_title: str
    refused: bool


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    page: int
    has_next: bool
    has_previous: bool


SYSTEM_NAME = "Mon espace santé (traitement automatique)"
HIDDEN_TITLE = "Document en attente de remise par un professionnel"


def _titles_hidden_from_patient(traces: list[Trace]) -> set[uuid.UUID]:
    """Documents of these rows still INVISIBLE_PATIENT: their titles must not show (R1111-53)."""
    from mes.records.models import Document

    ids = {t.document_id for t in traces if t.document_id}
    now = timezone.now()
    candidates = Document.objects.filter(pk__in=ids, hidden_from_patient=True)
    return {d.pk for d in candidates if not d.released_to_patient(now)}


def _as_row(t: Trace, hidden_titles: set[uuid.UUID]) -> HistoryRow:
    try:
        action_label = str(TraceAction(t.action).label)
    except ValueError:
        action_label = t.action
    return HistoryRow(
        at=t.at,
        actor_kind=t.actor_kind,
        actor_kind_label=ACTOR_KIND_LABELS.get(t.actor_kind, t.actor_kind),
        # A job's internal name (« import-mesures-documents ») is never shown as « Qui ».
        actor_name=SYSTEM_NAME if t.actor_kind == ActorKind.SYSTEM.value else t.actor_name,
        by_representative=t.acting_citizen_id is not None
        and t.justification != CARER_JUSTIFICATION,
        by_carer=t.acting_citizen_id is not None and t.justification == CARER_JUSTIFICATION,
        profession_label=codes.professions().get(t.profession, t.profession),
        specialty_label=codes.specialties().get(t.specialty, t.specialty),
        organisation_name=t.organisation_name,
        access_mode=t.access_mode,
        access_mode_label=ACCESS_MODE_LABELS.get(t.access_mode, t.access_mode),
        is_emergency=t.access_mode != AccessMode.NORMAL.value,
        action_label=action_label,
        document_title=HIDDEN_TITLE if t.document_id in hidden_titles else t.document_title,
        refused=t.outcome == TraceOutcome.REFUSED,
    )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def history_traces(
    *,
    patient_id: uuid.UUID,
    for_representative: bool,
    tab: HistoryTab,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[Trace]:
    """The traces of one dossier shown in one tab, newest first.

    for_representative: the viewer is a legal representative, who never sees the traces of a
    minor's secret care (R1111-50), whatever else is asked. Dates are whole local days, both
    bounds included.
    """
    qs = Trace.objects.filter(patient_id=patient_id, actor_kind__in=_TAB_KINDS[tab])
    if for_representative:
        qs = qs.filter(hidden_from_representatives=False)
    if start is not None:
        qs = qs.filter(at__gte=_local_midnight(start))
    if end is not None:
        qs = qs.filter(at__lt=_local_midnight(end + timedelta(days=1)))
    return qs.order_by("-at", "-seq")


def history_page(
    *,
    patient_id: uuid.UUID,
    for_representative: bool,
    tab: HistoryTab,
    start: date | None = None,
    end: date | None = None,
    page: int = 1,
    per_page: int = HISTORY_PAGE_SIZE,
) -> HistoryPage:
    """One page of the history (see history_traces), ready to display."""
    page = max(page, 1)
    offset = (page - 1) * per_page
    traces = list(
        history_traces(
            patient_id=patient_id,
            for_representative=for_representative,
            tab=tab,
            start=start,
            end=end,
        )[offset : offset + per_page + 1]
    )
    shown = traces[:per_page]
    hidden_titles = _titles_hidden_from_patient(shown)
    return HistoryPage(
        rows=[_as_row(t, hidden_titles) for t in shown],
        page=page,
        has_next=len(traces) > per_page,
        has_previous=page > 1,
    )
