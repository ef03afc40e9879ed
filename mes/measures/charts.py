"""Server-side SVG charts of a measure over time (portal.md §2.10: « graph »).

A picture, not a table: an <svg role="img"> with its <title>/<desc>, drawn in a viewBox so it
scales to the width of the page (phone or desktop), without JavaScript and without style
attributes (the CSP allows only our own style sheet: the look comes from classes, see
portal/measures.css). Next to it the page prints a visually hidden summary (`Chart.summary`).
For a child, the reference growth curves (3rd, 50th and 97th centiles) are drawn behind the
points, and the horizontal axis reads as the child's age.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import growth
from .profiles import ADULT_AGE, MeasureType, format_decimal

WIDTH, HEIGHT = 400, 260
TOP, RIGHT, BOTTOM = 22, 34, 34
FONT = 11  # user units; the CSS caps the chart's width so that it stays readable
CHAR = 8.5  # average width of a digit at the phone size (15), to size the left margin
MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
SERIES_NAMES_BP = ("Systolique", "Diastolique")


# Many points: smaller dots, so that the line stays readable.
DENSE = 60


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    values: tuple[Decimal, ...]  # one per series (two for a blood pressure)
    group: str = ""  # a line of its own (a glucose's moment): « À jeun », « Après un repas »


@dataclass(frozen=True)
class Series:
    """One line of the chart, as the legend under the picture names it."""

    css: str  # chart-series-N: its colour and dash (measures.css)
    label: str
    points: tuple[tuple[ChartPoint, int], ...]  # the point and the index of its value


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    summary: str  # for the visually hidden paragraph next to the picture
    reference_source: str  # the growth reference drawn, if any (named under the chart)
    is_growth: bool
    legend: tuple[Series, ...] = ()  # when there is more than one line


def _day(at: datetime) -> date:
    return timezone.localtime(at).date() if timezone.is_aware(at) else at.date()


def french_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _y_ticks(lo: float, hi: float) -> tuple[float, float, list[float]]:
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    # Room around the extreme points, so that none sits on an axis.
    margin = (hi - lo) * 0.06
    lo, hi = lo - margin, hi + margin
    step = _nice_step(hi - lo)
    start = math.floor(lo / step) * step
    end = math.ceil(hi / step) * step
    ticks = []
    v = start
    while v <= end + step / 1000:
        ticks.append(round(v, 6))
        v += step
    return start, end, ticks


def _fmt(v: float, step: float) -> str:
    # As many decimals as the step needs: a step of 2,5 labels 97,5 – 100 – 102,5, not 98 – 102.
    decimals = next((d for d in (0, 1, 2) if abs(step * 10**d - round(step * 10**d)) < 1e-9), 2)
    return format_decimal(Decimal(str(round(v, decimals))), decimals)


def _month_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """First days of months (every 1, 2, 3, 6 or 12 months) between start and end."""
    months = (end.year - start.year) * 12 + end.month - start.month
    step = next((s for s in (1, 2, 3, 6, 12, 24) if months / s <= 5), 60)
    y, m = start.year, start.month
    out: list[tuple[date, str]] = []
    while True:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        d = date(y, m, 1)
        if d > end:
            break
        if ((y * 12 + m - 1) % step) == 0:
            if step >= 12:
                label = str(y)
            elif not out or m <= step:  # the first tick and each January name the year
                label = f"{MONTHS[m - 1]} {y}"
            else:
                label = MONTHS[m - 1]
            out.append((d, label))
    return out


def _day_ticks(start: date, end: date) -> list[tuple[date, str]]:
    span = (end - start).days
    step = max(1, math.ceil(span / 5))
    out = []
    d = start + timedelta(days=1)
    while d < end:
        if (d - start).days % step == 0:
            out.append((d, f"{d.day} {MONTHS[d.month - 1]}"))
        d += timedelta(days=1)
    return out


def _age_ticks(birth: date, start: date, end: date) -> list[tuple[date, str]]:
    span_months = growth.months_between(start, end)
    if span_months <= 30:
        step = next(s for s in (1, 2, 3, 6, 12) if span_months / s <= 6)
    else:
        step = next((s for s in (12, 24, 36, 60) if span_months / s <= 6), 60)
    out = []
    k = 0
    while True:
        total = k * step
        d = add_months(birth, total)
        if d > end:
            break
        if d >= start:
            years, months = divmod(total, 12)
            if total == 0:
                label = "naissance"
            elif months == 0:
                label = f"{years} an{'s' if years > 1 else ''}"
            elif total < 36:
                label = f"{total} mois"
            elif months == 6:
                label = f"{years} ans ½"
            else:
                label = f"{years} ans {months} m"
            out.append((d, label))
        k += 1
    return out


def add_months(d: date, n: int) -> date:
    """The same day n months later (the month's last day when it has no such day)."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, min(d.day, day))
        except ValueError:
            continue
    return date(year, month, 28)


class _Frame:
    """Maps days and values to the picture's coordinates."""

    def __init__(self, start: date, end: date, lo: float, hi: float, left: float) -> None:
        self.start, self.end, self.lo, self.hi, self.left = start, end, lo, hi, left
        self.days = max((end - start).days, 1)

    def x(self, d: date | datetime) -> float:
        if isinstance(d, datetime):
            local = timezone.localtime(d) if timezone.is_aware(d) else d
            offset = (local.date() - self.start).days + (
                local.hour * 3600 + local.minute * 60
            ) / 86400
        else:
            offset = (d - self.start).days
        return self.left + offset / self.days * (WIDTH - RIGHT - self.left)

    def y(self, v: float) -> float:
        span = (self.hi - self.lo) or 1
        return TOP + (1 - (v - self.lo) / span) * (HEIGHT - TOP - BOTTOM)


def _p(v: float) -> str:
    return f"{v:.1f}"


def render(
    t: MeasureType,
    points: Sequence[ChartPoint],
    *,
    subject: str,
    birth_date: date,
    sex: str,
    chart_id: str,
    group_order: Sequence[str] = (),
) -> Chart | None:
    """The chart of these points (any order), or None when there is nothing to draw.

    group_order: the order of the points' groups in the legend (the others follow)."""
    if not points:
        return None
    pts = sorted(points, key=lambda p: p.at)
    first, last = _day(pts[0].at), _day(pts[-1].at)
    child = birth_date and (last - birth_date).days < ADULT_AGE * 365.25
    table = growth.table(t.code, sex) if child else None
    # The time span: the points, padded; a child's chart shows at least 6 months around them.
    pad = max((last - first).days // 20, 7 if table is None else 90)
    start, end = first - timedelta(days=pad), last + timedelta(days=pad)
    if birth_date and start < birth_date:
        start = birth_date
    if end <= start:
        end = start + timedelta(days=1)

    values = [float(v) for p in pts for v in p.values]
    curves: list[tuple[str, list[tuple[date, float]]]] = []
    if table is not None:
        curves = _growth_curves(table, birth_date, start, end)
        if not curves:
            table = None
    curve_values = [v for _, c in curves for _, v in c]
    lo, hi, yticks = _y_ticks(min(values + curve_values), max(values + curve_values))
    step = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0
    label_chars = max(len(_fmt(v, step)) for v in yticks)
    left = 12 + label_chars * CHAR
    f = _Frame(start, end, lo, hi, left)

    if table is not None:
        xticks = _age_ticks(birth_date, start, end)
    elif (end - start).days <= 45:
        xticks = _day_ticks(start, end)
    else:
        xticks = _month_ticks(start, end)

    title = f"{t.label} de {subject}"
    dense = " chart-dense" if len(pts) > DENSE else ""
    desc = _desc(t, pts, table is not None)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mes-chart{dense}" viewBox="0 0 {WIDTH} '
        f'{HEIGHT}" width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-size="{FONT}" font-family="inherit">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    # Grid and axes.
    out.append('<g class="chart-grid" aria-hidden="true">')
    for v in yticks:
        gy = _p(f.y(v))
        out.append(f'<line x1="{_p(left)}" y1="{gy}" x2="{right}" y2="{gy}"/>')
    out.append("</g>")
    if table is not None:
        out.extend(_draw_curves(f, curves))
    out.append('<g class="chart-axis" aria-hidden="true">')
    out.append(f'<line x1="{_p(left)}" y1="{TOP}" x2="{_p(left)}" y2="{bottom}"/>')
    out.append(f'<line x1="{_p(left)}" y1="{bottom}" x2="{right}" y2="{bottom}"/>')
    for v in yticks:
        out.append(
            f'<text x="{_p(left - 5)}" y="{_p(f.y(v) + 4)}" text-anchor="end">'
            f"{escape(_fmt(v, step))}</text>"
        )
    for d, label in xticks:
        tx = _p(f.x(d))
        out.append(f'<line x1="{tx}" y1="{bottom}" x2="{tx}" y2="{bottom + 4}"/>')
        out.append(f'<text x="{tx}" y="{bottom + 16}" text-anchor="middle">{escape(label)}</text>')
    out.append(f'<text class="chart-unit" x="0" y="{TOP - 8}">{escape(t.unit_label)}</text>')
    if table is not None:
        out.append(
            f'<text class="chart-unit" x="{right}" y="{HEIGHT - 2}" text-anchor="end">âge</text>'
        )
    out.append("</g>")
    # The series: a line through the points, then the points (each with its value as tooltip).
    lines = series_of(pts, group_order)
    r = "2.5" if len(pts) > DENSE else "4"
    for line in lines:
        coords = [(f.x(p.at), f.y(float(p.values[i]))) for p, i in line.points]
        if len(coords) > 1:
            path = " ".join(f"{_p(x)},{_p(y)}" for x, y in coords)
            out.append(
                f'<polyline class="chart-line {line.css}" points="{path}" '
                'fill="none" aria-hidden="true"/>'
            )
        out.append(f'<g class="chart-points {line.css}">')
        for (p, i), (x, y) in zip(line.points, coords, strict=True):
            tip = f"{french_date(_day(p.at))} : {t.format(p.values[i])} {t.unit_label}"
            if len(lines) > 1:
                tip = f"{line.label}, le {tip}"
            out.append(
                f'<circle class="chart-point" cx="{_p(x)}" cy="{_p(y)}" r="{r}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        out.append("</g>")
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 - every text above went through escape()
        summary=summary(t, pts),
        reference_source=table.source if table is not None else "",
        is_growth=table is not None,
        legend=tuple(lines) if len(lines) > 1 else (),
    )


def series_of(pts: Sequence[ChartPoint], group_order: Sequence[str] = ()) -> list[Series]:
    """The lines to draw: one per value (systolic, diastolic), or one per group (moments)."""
    if len(pts[0].values) > 1:
        return [
            Series(f"chart-series-{i + 1}", name, tuple((p, i) for p in pts))
            for i, name in enumerate(SERIES_NAMES_BP)
        ]
    groups: dict[str, list[tuple[ChartPoint, int]]] = {g: [] for g in group_order}
    for p in pts:
        groups.setdefault(p.group, []).append((p, 0))
    groups = {g: points for g, points in groups.items() if points}
    return [
        Series(f"chart-series-{n + 1}", label, tuple(points))
        for n, (label, points) in enumerate(groups.items())
    ]


def _growth_curves(
    table: growth.GrowthTable, birth: date, start: date, end: date
) -> list[tuple[str, list[tuple[date, float]]]]:
    """The P3, P50 and P97 curves over [start, end] (ages the table covers, before 18)."""
    lo_m = max(growth.months_between(birth, start), table.first_month)
    hi_m = min(growth.months_between(birth, end), table.last_month, ADULT_AGE * 12)
    if hi_m <= lo_m:
        return []
    n = 48
    out = []
    for name, z in growth.CENTILES:
        curve = []
        for k in range(n + 1):
            month = lo_m + (hi_m - lo_m) * k / n
            v = table.value_at(month, z)
            if v is not None:
                day = birth + timedelta(days=round(month * growth.DAYS_PER_MONTH))
                curve.append((day, v))
        out.append((name, curve))
    return out


def _draw_curves(f: _Frame, curves: list[tuple[str, list[tuple[date, float]]]]) -> list[str]:
    by_name = dict(curves)
    low, mid, high = by_name["P3"], by_name["P50"], by_name["P97"]
    band = [(f.x(d), f.y(v)) for d, v in high] + [(f.x(d), f.y(v)) for d, v in reversed(low)]
    out = ['<g class="chart-reference" aria-hidden="true">']
    out.append(
        '<polygon class="chart-ref-band" points="'
        + " ".join(f"{_p(x)},{_p(y)}" for x, y in band)
        + '"/>'
    )
    for name, curve in (("P3", low), ("P50", mid), ("P97", high)):
        css = "chart-ref-median" if name == "P50" else "chart-ref-line"
        pts = " ".join(f"{_p(f.x(d))},{_p(f.y(v))}" for d, v in curve)
        out.append(f'<polyline class="{css}" data-centile="{name}" points="{pts}" fill="none"/>')
        d, v = curve[-1]
        out.append(
            f'<text class="chart-ref-label" x="{_p(f.x(d) + 3)}" y="{_p(f.y(v) + 4)}">{name}</text>'
        )
    out.append("</g>")
    return out


def _value_text(t: MeasureType, values: tuple[Decimal, ...]) -> str:
    if len(values) > 1:
        return f"{t.format(values[0])}/{t.format(values[1])} {t.unit_label}"
    return f"{t.format(values[0])} {t.unit_label}"


def _desc(t: MeasureType, pts: Sequence[ChartPoint], growth_curves: bool) -> str:
    first, last = _day(pts[0].at), _day(pts[-1].at)
    n = len(pts)
    text = (
        f"{t.label} en {t.unit_name} : {n} valeur{'s' if n > 1 else ''} "
        f"du {french_date(first)} au {french_date(last)}."
    )
    if growth_curves:
        text += " Les courbes de référence (3e, 50e et 97e centiles) sont tracées en arrière-plan."
    return text


def summary(t: MeasureType, pts: Sequence[ChartPoint]) -> str:
    """« Dernière valeur : … le …. Valeur la plus basse : …. Valeur la plus haute : …. »"""
    pts = sorted(pts, key=lambda p: p.at)
    last = pts[-1]
    low = min(pts, key=lambda p: p.values)
    high = max(pts, key=lambda p: p.values)
    return (
        f"Dernière valeur : {_value_text(t, last.values)} le {french_date(_day(last.at))}. "
        f"Valeur la plus basse : {_value_text(t, low.values)} le {french_date(_day(low.at))}. "
        f"Valeur la plus haute : {_value_text(t, high.values)} le {french_date(_day(high.at))}."
    )


def at_noon(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time(12)))
