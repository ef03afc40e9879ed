"""Mesures (portal.md §2.10): the tiles, one page per measure with its chart and its values,
adding, modifying and deleting a value, choosing the tiles.

Each view resolves through one policy or action of mes.measures; refusals raise NotFound and so
look exactly like a measure that does not exist. Only the holder and their legal
representatives reach the measures (they are not shared with professionals).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.measures import actions, bmi, charts, growth, profiles
from mes.measures.models import Measurement
from mes.measures.policies import access_measurement, access_measures, measurements_of
from mes.measures.profiles import ADULT_AGE, MeasureCode, MeasureType

from ..access import PROFILE_SESSION_KEY, PortalRequest, patient_view
from .forms import MeasurementForm, TilesForm, initial_for, initial_now

# Values per page: about two phone screens of the compact list (issue 8: a glycémie page was
# 8,000 px long); the chart above still draws the whole period.
PAGE_SIZE = 20
PERIODS = (
    ("1m", "1 mois", 31),
    ("3m", "3 mois", 92),
    ("1a", "1 an", 366),
    ("tout", "Tout", None),
)
SOURCE_BADGES = {
    Measurement.Source.PROFESSIONAL: "Ajoutée par un professionnel de santé",
    Measurement.Source.APP: "Ajoutée par un service connecté",
    Measurement.Source.DOCUMENT: "Extraite d'un document",
}


# --- helpers -------------------------------------------------------------------------------


def _type_or_404(request: PortalRequest, code: str) -> MeasureType:
    t = profiles.BY_CODE.get(code)
    if t is None or t not in actions.available_types(request.profile):
        raise Http404("Introuvable.")
    return t


def _is_child(profile: Citizen, day: date | None = None) -> bool:
    return profile.age_on(day or timezone.localdate()) < ADULT_AGE


def _local_day(m: Measurement) -> date:
    return timezone.localtime(m.effective_at).date()


def value_text(t: MeasureType, value: Decimal, diastolic: Decimal | None = None) -> str:
    """« 80,5 kg », « 132/82 mmHg », « 142 mg/dL (1,42 g/L) »."""
    if diastolic is not None:
        return f"{t.format(value)}/{t.format(diastolic)} {t.unit_label}"
    text = f"{t.format(value)} {t.unit_label}"
    if t.code is MeasureCode.GLUCOSE:
        text += f" ({profiles.format_decimal(value / 100, 2)} g/L)"
    return text


@dataclass(frozen=True)
class Row:
    """One line of the values list."""

    measurement: Measurement | None  # None for a computed BMI
    when: str
    value: str
    age: str  # a child's age at the measure
    moment: str
    comment: str
    author: str
    badge: str
    editable: bool
    detail: str = ""  # the BMI's weight and height


def _row(profile: Citizen, m: Measurement, child: bool) -> Row:
    t = m.measure_type
    local = timezone.localtime(m.effective_at)
    return Row(
        measurement=m,
        when=local.strftime("%d/%m/%Y à %H:%M"),
        value=value_text(t, m.value, m.diastolic),
        age=growth.age_label(profile.birth_date, local.date()) if child else "",
        moment=m.moment_label,
        comment=m.comment,
        # A paired app's value says which app: « Ajoutée par Glyco » (issue 11).
        author="" if m.source == Measurement.Source.APP else m.author_label,
        badge=(
            f"Ajoutée par {m.author_label}"
            if m.source == Measurement.Source.APP
            else SOURCE_BADGES.get(Measurement.Source(m.source), "")
        ),
        editable=m.editable_by_citizen,
    )


def _samples(profile: Citizen, code: MeasureCode) -> list[bmi.Sample]:
    return [
        bmi.Sample(at, v)
        for at, v in Measurement.objects.of(profile, code.value).values_list(
            "effective_at", "value"
        )
    ]


def _bmi_points(profile: Citizen) -> list[bmi.BmiPoint]:
    return bmi.series(
        _samples(profile, MeasureCode.WEIGHT),
        _samples(profile, MeasureCode.HEIGHT),
        profile.birth_date,
    )


@dataclass(frozen=True)
class Tile:
    measure: MeasureType
    value: str
    when: str
    band: str


def _tile(profile: Citizen, t: MeasureType) -> Tile:
    if t.computed:
        points = _bmi_points(profile)
        if not points:
            return Tile(t, "", "", "")
        last = points[-1]
        band = bmi.band_for(last, profile.birth_date)
        when = timezone.localtime(last.at).strftime("%d/%m/%Y")
        return Tile(t, t.format(last.value), when, band.label if band else "")
    m = Measurement.objects.of(profile, t.code.value).newest_first().first()
    if m is None:
        return Tile(t, "", "", "")
    shown = f"{t.format(m.value)}/{t.format(m.diastolic)}" if m.diastolic else t.format(m.value)
    return Tile(t, shown, timezone.localtime(m.effective_at).strftime("%d/%m/%Y"), "")


def _period(request: PortalRequest, t: MeasureType, child: bool) -> tuple[str, int | None]:
    # A child's growth reads over the years; several glucose values a week, over 3 months.
    default = "tout" if child else "3m" if t.code is MeasureCode.GLUCOSE else "1a"
    wanted = request.GET.get("periode") or default
    for key, _, days in PERIODS:
        if key == wanted:
            return key, days
    return "tout", None


def _show_profile_of(request: PortalRequest, m: Measurement) -> None:
    """A value reached by its link shows its own profile (the policy already allowed it)."""
    if m.patient_id != request.profile.pk:
        request.profile = m.patient
        request.is_own_profile = m.patient_id == request.citizen.pk
        request.session[PROFILE_SESSION_KEY] = str(m.patient_id)


# --- pages ---------------------------------------------------------------------------------


@patient_view
def measures(request: PortalRequest) -> HttpResponse:
    """« Mesures »: the tiles with the last value of each chosen measure."""
    profile = access_measures(
        request.actor, request.profile.pk, trace_action=TraceAction.CONSULT_MEASURES
    )
    tiles = [_tile(profile, t) for t in actions.tiles_of(profile)]
    return render(
        request,
        "portal/measures/index.html",
        {"tiles": tiles, "child": _is_child(profile)},
    )


@patient_view
def measure_tiles(request: PortalRequest) -> HttpResponse:
    """« Afficher les autres mesures »: choose the tiles of the Mesures page."""
    posted = request.method == "POST"
    profile = access_measures(
        request.actor,
        request.profile.pk,
        trace_action=None if posted else TraceAction.CONSULT_MEASURES,
        refused_as=TraceAction.MEASURE_TILES if posted else None,
    )
    types = actions.available_types(profile)
    if posted:
        form = TilesForm(request.POST, types=types)
        if form.is_valid():
            try:
                actions.tiles_set(
                    actor=request.actor,
                    patient_id=profile.pk,
                    visible=set(form.cleaned_data["visible"]),
                )
            except InvalidInput as exc:
                form.add_input_error(exc)
            else:
                messages.success(request, "Mesures affichées mises à jour")
                return redirect("portal:measures")
    else:
        shown = [t.code.value for t in actions.tiles_of(profile)]
        form = TilesForm(types=types, initial={"visible": shown})
    return render(request, "portal/measures/tiles.html", {"form": form})


@patient_view
def measure(request: PortalRequest, code: str) -> HttpResponse:
    """One measure: its chart over the chosen period and its values, newest first."""
    t = _type_or_404(request, code)
    profile = access_measures(
        request.actor,
        request.profile.pk,
        trace_action=TraceAction.CONSULT_MEASURES,
        type_code=t.code.value,
    )
    child = _is_child(profile)
    period, days = _period(request, t, child)
    since = timezone.now() - timedelta(days=days) if days else None
    context: dict[str, object] = {
        "measure": t,
        "child": child,
        "period": period,
        "periods": PERIODS,
    }
    if t.computed:
        points = _bmi_points(profile)
        rows = [
            Row(
                measurement=None,
                when=timezone.localtime(p.at).strftime("%d/%m/%Y à %H:%M"),
                value=f"{t.format(p.value)} {t.unit_label}",
                age=growth.age_label(profile.birth_date, timezone.localtime(p.at).date())
                if child
                else "",
                moment="",
                comment="",
                author="",
                badge="",
                editable=False,
                detail=(
                    f"Poids {profiles.format_decimal(p.weight, 1)} kg, "
                    f"taille {profiles.format_decimal(p.height, 1)} cm"
                ),
            )
            for p in reversed(points)
        ]
        chart_points = [
            charts.ChartPoint(p.at, (p.value,)) for p in points if not since or p.at >= since
        ]
        last_band = bmi.band_for(points[-1], profile.birth_date) if points else None
        context.update(
            bands=[(b, profiles.bmi_band_range(b)) for b in profiles.BMI_BANDS],
            last_band=last_band,
            adult=not child,
        )
        bmi_pages = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        pages: Page[Any] = bmi_pages
        rows = list(bmi_pages.object_list)
    else:
        qs = measurements_of(profile, t.code.value)
        chart_qs = qs.filter(effective_at__gte=since) if since else qs
        chart_points = [
            charts.ChartPoint(
                m.effective_at,
                (m.value, m.diastolic) if m.diastolic is not None else (m.value,),
                m.moment_label,  # a glucose: one line per moment
            )
            for m in chart_qs.only("effective_at", "value", "diastolic", "moment")
        ]
        value_pages = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        pages = value_pages
        rows = [_row(profile, m, child) for m in value_pages.object_list]
    chart = charts.render(
        t,
        chart_points,
        subject=profile.display_name,
        birth_date=profile.birth_date,
        sex=profile.sex,
        chart_id=f"courbe-{t.slug}",
        group_order=[m.label for m in profiles.GLUCOSE_MOMENTS],
    )
    context.update(rows=rows, pages=pages, chart=chart)
    return render(request, "portal/measures/measure.html", context)


def _save(request: PortalRequest, form: MeasurementForm, m: Measurement | None) -> bool:
    try:
        if m is None:
            actions.measurement_add(
                actor=request.actor,
                patient_id=request.profile.pk,
                type_code=form.measure.code.value,
                **form.action_kwargs(),
            )
        else:
            actions.measurement_update(
                actor=request.actor, measurement_id=m.pk, **form.action_kwargs()
            )
    except InvalidInput as exc:
        form.add_input_error(exc)
        return False
    return True


@patient_view
def measure_add(request: PortalRequest, code: str) -> HttpResponse:
    """« Ajouter une valeur »: nothing is stored unless every check passes."""
    t = _type_or_404(request, code)
    if t.computed:
        raise Http404("Introuvable.")
    posted = request.method == "POST"
    access_measures(
        request.actor,
        request.profile.pk,
        trace_action=None,
        refused_as=TraceAction.ADD_MEASURE if posted else TraceAction.CONSULT_MEASURES,
        type_code=t.code.value,
    )
    if posted:
        form = MeasurementForm(request.POST, measure=t)
        if form.is_valid() and _save(request, form, None):
            messages.success(request, f"{t.label} : valeur ajoutée")
            return redirect("portal:measure", t.code.value)
    else:
        form = MeasurementForm(measure=t, initial=initial_now())
    return render(request, "portal/measures/form.html", {"form": form, "measure": t})


@patient_view
def measure_edit(request: PortalRequest, measurement_id: uuid.UUID) -> HttpResponse:
    """« Modifier » a value the citizen side entered (others are read only: a 404)."""
    posted = request.method == "POST"
    m = access_measurement(
        request.actor,
        measurement_id,
        trace_action=None if posted else TraceAction.CONSULT_MEASURES,
        refused_as=TraceAction.UPDATE_MEASURE if posted else None,
        for_change=True,
    )
    _show_profile_of(request, m)
    t = m.measure_type
    if posted:
        form = MeasurementForm(request.POST, measure=t)
        if form.is_valid() and _save(request, form, m):
            messages.success(request, f"{t.label} : valeur modifiée")
            return redirect("portal:measure", t.code.value)
    else:
        form = MeasurementForm(measure=t, initial=initial_for(m))
    return render(
        request, "portal/measures/form.html", {"form": form, "measure": t, "measurement": m}
    )


@patient_view
def measure_delete(request: PortalRequest, measurement_id: uuid.UUID) -> HttpResponse:
    """« Supprimer cette valeur ? »: a confirmation page, then the deletion (POST)."""
    if request.method == "POST":
        code = actions.measurement_delete(actor=request.actor, measurement_id=measurement_id)
        messages.success(request, f"{profiles.get(code).label} : valeur supprimée")
        return redirect("portal:measure", code)
    m = access_measurement(
        request.actor, measurement_id, trace_action=TraceAction.CONSULT_MEASURES, for_change=True
    )
    _show_profile_of(request, m)
    child = _is_child(m.patient, _local_day(m))
    return render(
        request,
        "portal/measures/delete.html",
        {"measure": m.measure_type, "measurement": m, "row": _row(m.patient, m, child)},
    )
