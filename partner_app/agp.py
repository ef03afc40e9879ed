"""The day's AGP-style report (ambulatory glucose profile) as a one-page PDF, drawn with
reportlab: the curve over the target band, time in range, mean glucose and GMI."""

from __future__ import annotations

import io
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from .readings import HIGH, LOW, Reading, summarise

Y_MAX = 300  # mg/dL at the top of the chart


def _percent(x: float) -> str:
    return f"{x * 100:.0f} %"


def agp_pdf(day: date, readings: list[Reading], *, patient_name: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"Rapport de glycémie du {day:%d/%m/%Y}")
    pdf.setAuthor("Glycémie Plus")
    width, height = A4
    left, top = 20 * mm, height - 20 * mm
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(left, top, "Profil glycémique ambulatoire (AGP)")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(left, top - 8 * mm, f"{patient_name} — journée du {day:%d/%m/%Y}")
    pdf.drawString(left, top - 14 * mm, "Capteur de glucose en continu, via Glycémie Plus")

    s = summarise(readings)
    lines = [
        f"Temps dans la cible ({LOW}–{HIGH} mg/dL) : {_percent(s.in_range)}",
        f"Sous la cible : {_percent(s.below)}    Au-dessus de la cible : {_percent(s.above)}",
        f"Glucose moyen : {s.mean:.0f} mg/dL    Indicateur de gestion du glucose (GMI) : "
        f"{s.gmi:.1f} %",
        f"Nombre de mesures : {len(readings)}",
    ]
    for i, line in enumerate(lines):
        pdf.drawString(left, top - (26 + 7 * i) * mm, line)

    chart_left, chart_bottom = left, top - 150 * mm
    chart_width, chart_height = width - 2 * left, 90 * mm

    def y(value: float) -> float:
        return chart_bottom + chart_height * min(value, Y_MAX) / Y_MAX

    def x(minutes: float) -> float:
        return chart_left + chart_width * minutes / (24 * 60)

    pdf.setFillColor(colors.Color(0.85, 0.95, 0.85))
    pdf.rect(chart_left, y(LOW), chart_width, y(HIGH) - y(LOW), stroke=0, fill=1)
    pdf.setStrokeColor(colors.grey)
    pdf.rect(chart_left, chart_bottom, chart_width, chart_height, stroke=1, fill=0)
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica", 8)
    for value in (0, LOW, HIGH, Y_MAX):
        pdf.drawRightString(chart_left - 2 * mm, y(value) - 1 * mm, f"{value}")
    for hour in range(0, 25, 3):
        pdf.drawCentredString(x(hour * 60), chart_bottom - 5 * mm, f"{hour:02d}h")
    pdf.setStrokeColor(colors.Color(0.1, 0.3, 0.7))
    pdf.setLineWidth(1.5)
    path = pdf.beginPath()
    for i, r in enumerate(readings):
        point = (x(r.at.hour * 60 + r.at.minute), y(r.mg_dl))
        path.moveTo(*point) if i == 0 else path.lineTo(*point)
    pdf.drawPath(path, stroke=1, fill=0)
    pdf.setFont("Helvetica-Oblique", 9)
    pdf.drawString(
        left,
        chart_bottom - 14 * mm,
        "Ce rapport ne remplace pas l'avis de votre médecin. Données en mg/dL.",
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
