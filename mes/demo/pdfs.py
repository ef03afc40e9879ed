"""Medical letters of the demo as real PDFs (reportlab only, no system library).

A letter has a letterhead (the structure and the professional), the patient's identity with their
INS, a place and date, a title, and a body of paragraphs, sub-headings and tables. The output is
byte-for-byte reproducible (reportlab's invariant mode), so a document's hash never changes
between two loads of the demo.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from mes.lib.ins import normalise

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

BRAND = colors.HexColor("#1B4F72")


def french_date(day: date) -> str:
    """12 mars 2026 (1er for the first day of the month, as written in French letters)."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def format_ins(ins: str) -> str:
    v = normalise(ins)
    return f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:15]}"


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside the body."""

    text: str


@dataclass(frozen=True)
class Rows:
    """A table: the first row is the header."""

    rows: tuple[tuple[str, ...], ...]


Block = str | Heading | Rows


@dataclass(frozen=True)
class PatientHeader:
    display_name: str  # « Louise DUPONT »
    birth_name: str
    birth_date: date
    sex: str  # F / M
    ins: str


@dataclass(frozen=True)
class Letter:
    organisation: str
    organisation_lines: tuple[str, ...]
    author: str
    author_lines: tuple[str, ...]
    patient: PatientHeader
    place: str
    day: date
    title: str
    body: Sequence[Block]
    signature: str = ""
    recipient: str = ""
    footer: str = field(
        default="Document fictif produit pour la démonstration de Mon espace santé."
    )


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()["Normal"]
    return {
        "org": ParagraphStyle("org", base, fontName="Helvetica-Bold", fontSize=12, textColor=BRAND),
        "small": ParagraphStyle("small", base, fontSize=8.5, leading=11),
        "right": ParagraphStyle("right", base, fontSize=9.5, leading=12, alignment=TA_RIGHT),
        "title": ParagraphStyle(
            "title",
            base,
            fontName="Helvetica-Bold",
            fontSize=13.5,
            leading=17,
            spaceBefore=6,
            spaceAfter=8,
            textColor=BRAND,
        ),
        "h": ParagraphStyle(
            "h", base, fontName="Helvetica-Bold", fontSize=10, spaceBefore=6, spaceAfter=2
        ),
        "body": ParagraphStyle("body", base, fontSize=10, leading=13.5, spaceAfter=3),
        "cell": ParagraphStyle("cell", base, fontSize=9, leading=11),
        "footer": ParagraphStyle(
            "footer", base, fontSize=7.5, textColor=colors.grey, spaceBefore=10
        ),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _lines(lines: Sequence[str], style: ParagraphStyle, bold_first: bool = False) -> Paragraph:
    parts = [_esc(line) for line in lines]
    if bold_first and parts:
        parts[0] = f"<b>{parts[0]}</b>"
    return Paragraph("<br/>".join(parts), style)


def render(letter: Letter) -> bytes:
    """The letter as a one- or two-page A4 PDF."""
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=letter.title,
        author=letter.author,
        subject=f"{letter.title} – {letter.patient.display_name}",
        creator="Mon espace santé – démonstration",
        invariant=1,
    )
    p = letter.patient
    sex = "Féminin" if p.sex == "F" else "Masculin"
    head = Table(
        [
            [
                [
                    Paragraph(_esc(letter.organisation), st["org"]),
                    _lines(letter.organisation_lines, st["small"]),
                    Spacer(1, 4),
                    _lines((letter.author, *letter.author_lines), st["small"], bold_first=True),
                ],
                _lines(
                    (
                        "Patient(e)",
                        p.display_name,
                        f"Nom de naissance : {p.birth_name}",
                        f"Né(e) le {p.birth_date:%d/%m/%Y} – Sexe : {sex}",
                        f"INS (NIR) : {format_ins(p.ins)}",
                    ),
                    st["small"],
                    bold_first=True,
                ),
            ]
        ],
        colWidths=[95 * mm, 75 * mm],
    )
    head.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (1, 0), (1, 0), 0.6, BRAND),
                ("BACKGROUND", (1, 0), (1, 0), colors.HexColor("#F2F6FA")),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
            ]
        )
    )
    story: list[Flowable] = [head, Spacer(1, 6)]
    if letter.recipient:
        story.append(Paragraph(_esc(letter.recipient), st["right"]))
    story.append(Paragraph(_esc(f"{letter.place}, le {french_date(letter.day)}"), st["right"]))
    story.append(HRFlowable(width="100%", thickness=0.6, color=BRAND, spaceBefore=4))
    story.append(Paragraph(_esc(letter.title), st["title"]))
    for block in letter.body:
        if isinstance(block, Heading):
            story.append(Paragraph(_esc(block.text), st["h"]))
        elif isinstance(block, Rows):
            data = [[Paragraph(_esc(c), st["cell"]) for c in row] for row in block.rows]
            table = Table(data, hAlign="LEFT", repeatRows=1)
            table.setStyle(
                TableStyle(
                    [
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DCE8F2")),
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9FB6C8")),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ]
                )
            )
            story.extend([Spacer(1, 2), table, Spacer(1, 4)])
        else:
            story.append(Paragraph(_esc(block), st["body"]))
    if letter.signature:
        story.append(Spacer(1, 8))
        story.append(Paragraph(_esc(letter.signature), st["right"]))
    story.append(Paragraph(_esc(letter.footer), st["footer"]))
    doc.build(story)
    return buf.getvalue()
