"""Reading Mon histoire de santé. Selectors only: the caller has checked (and traced) that the
actor may read the history (policies.access_care_history), except `visited_pharmacies`, which
gives the messaging the pharmacies a citizen may write to and no health detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone

from mes.identity.models import Citizen, Organisation

from .models import Category, Episode

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


class Grouping(StrEnum):
    DAY = "jour"
    MONTH = "mois"
    YEAR = "annee"


@dataclass(frozen=True)
class Group:
    label: str  # « 12 mars 2026 », « mars 2026 », « 2026 »
    episodes: list[Episode]


def episodes_of(patient: Citizen, categories: list[str] | None = None) -> QuerySet[Episode]:
    qs = Episode.objects.filter(patient=patient)
    if categories:
        qs = qs.filter(category__in=[c for c in categories if c in Category.values])
    return qs.order_by("-date", "category", "label")


def _key(day: date, grouping: Grouping) -> tuple[int, ...]:
    if grouping is Grouping.YEAR:
        return (day.year,)
    if grouping is Grouping.MONTH:
        return (day.year, day.month)
    return (day.year, day.month, day.day)


def _label(key: tuple[int, ...]) -> str:
    if len(key) == 1:
        return str(key[0])
    if len(key) == 2:
        return f"{MONTHS[key[1] - 1]} {key[0]}"
    day = "1er" if key[2] == 1 else str(key[2])
    return f"{day} {MONTHS[key[1] - 1]} {key[0]}"


def timeline(episodes: list[Episode], grouping: Grouping) -> list[Group]:
    """The episodes (newest first) grouped by day, month or year (portal.md §2.2)."""
    groups: list[Group] = []
    current: tuple[int, ...] | None = None
    for episode in episodes:
        key = _key(episode.date, grouping)
        if key != current:
            groups.append(Group(label=_label(key), episodes=[]))
            current = key
        groups[-1].episodes.append(episode)
    return groups


@dataclass(frozen=True)
class VisitedPharmacy:
    finess: str
    name: str
    last_dispensation: date
    organisation: Organisation | None  # the directory's entry, when it knows this FINESS


def visited_pharmacies(citizen: Citizen, *, today: date | None = None) -> list[VisitedPharmacy]:
    """The pharmacies where a dispensation (drug or vaccine) of this citizen was reimbursed in
    the last MES_VISITED_PHARMACY_WINDOW: the « Pharmacies déjà fréquentées » a patient may
    write to (mes-spec §7.2). Most recent first. For the messaging, which checks its own access
    to the citizen: only names, FINESS and dates leave here, no drug."""
    today = today or timezone.localdate()
    since = today - settings.MES_VISITED_PHARMACY_WINDOW
    rows = (
        Episode.objects.filter(
            patient=citizen,
            category__in=[Category.DRUG, Category.VACCINE],
            date__gte=since,
        )
        .exclude(professional_id="")
        .values("professional_id")
        .annotate(last=Max("date"), name=Max("professional"))
        .order_by("-last")
    )
    finess = [r["professional_id"] for r in rows]
    known = {o.finess: o for o in Organisation.objects.filter(finess__in=finess)}
    return [
        VisitedPharmacy(
            finess=r["professional_id"],
            name=known[r["professional_id"]].name if r["professional_id"] in known else r["name"],
            last_dispensation=r["last"],
            organisation=known.get(r["professional_id"]),
        )
        for r in rows
    ]
