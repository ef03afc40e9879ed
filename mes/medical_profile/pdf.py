"""The PDF layout of the documents the profil médical produces (directives anticipées, synthèse).

reportlab only (no system library, DESIGN.md §2). A document is a title, the person's identity
box, then blocks: headings, paragraphs, label/value lists, tables, notes and signature lines.
The output is reproducible (reportlab's invariant mode) so the same content gives the same hash.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from mes.identity.models import Citizen

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
# The service's primary colour (portal.md §11.2).
BRAND = colors.HexColor("#0C419A")
LIGHT = colors.HexColor("#EEF2FA")
RULE = colors.HexColor("#9FB0CF")
PRODUCER = "Mon espace santé"
CONTENT_WIDTH = A4[0] - 40 * mm  # 20 mm margins


def french_date(day: date) -> str:
    """« 1er mars 2026 », « 12 mars 2026 »."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def format_ins(ins: str) -> str:
    v = ins.replace(" ", "").upper()
    if len(v) != 15:
        return v
    return f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:15]}"


@dataclass(frozen=True)
class Identity:
    """Who the document is about, as printed in its identity box (traits of the INS)."""

    display_name: str
    birth_name: str
    first_names: str
    birth_date: date
    sex: str
    ins: str

    @classmethod
    def of(cls, citizen: Citizen) -> Identity:
        return cls(
            display_name=citizen.display_name,
            birth_name=citizen.birth_name,
            first_names=citizen.first_names,
            birth_date=citizen.birth_date,
            sex=citizen.sex,
            ins=citizen.ins,
        )


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1: a section, 2: a sub-heading inside a section


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Note:
    """A smaller, grey paragraph: an empty rubric, a help line, a legal mention."""

    text: str


@dataclass(frozen=True)
class Fields:
    """Label / value lines; an empty value prints as « Non renseigné »."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Rows:
    """A table; the first row is the header. `weights`: relative column widths (equal if
    empty) over the width of the page."""

    rows: tuple[tuple[str, ...], ...]
    weights: tuple[float, ...] = ()


@dataclass(frozen=True)
class Signature:
    """Signature lines: « Fait le … à … », the name, and room to sign."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class NewPage:
    """Start the next block on a new page (e.g. the witnesses' attestation)."""


Block = Heading | Para | Note | Fields | Rows | Signature | NewPage


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()["Normal"]
    return {
        "title": ParagraphStyle(
            "title",
            base,
            fontName="Helvetica-Bold",
            fontSize=16,
            leading=20,
            textColor=BRAND,
            spaceAfter=2,
        ),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=10, leading=13, spaceAfter=6),
        "h1": ParagraphStyle(
            "h1",
            base,
            fontName="Helvetica-Bold",
            fontSize=12.5,
            leading=16,
            textColor=BRAND,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,  # never a heading alone at the foot of a page
        ),
        "h2": ParagraphStyle(
            "h2",
            base,
            fontName="Helvetica-Bold",
            fontSize=10.5,
            spaceBefore=6,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "body": ParagraphStyle("body", base, fontSize=10, leading=13.5, spaceAfter=4),
        "note": ParagraphStyle(
            "note", base, fontSize=9, leading=12, textColor=colors.HexColor("#495574")
        ),
        "cell": ParagraphStyle("cell", base, fontSize=9, leading=11.5),
        "label": ParagraphStyle("label", base, fontName="Helvetica-Bold", fontSize=9, leading=11.5),
        "small": ParagraphStyle("small", base, fontSize=8.5, leading=11),
    }


# The standard PDF fonts cover Windows-1252 only: a few common characters outside it get their
# closest equivalent, anything else becomes « ? » rather than an empty box.
_SUBSTITUTES = {
    "\u202f": " ",  # narrow no-break space (French thousands separator)
    "\u2009": " ",
    "\u2212": "-",  # minus sign (« A− »)
    "\u2010": "-",
    "\u2011": "-",
    "\u2264": "<=",
    "\u2265": ">=",
}


def printable(text: str) -> str:
    out = []
    for ch in text:
        ch = _SUBSTITUTES.get(ch, ch)
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            ch = "?"
        out.append(ch)
    return "".join(out)


def esc(text: str) -> str:
    """Text for a reportlab Paragraph (a small markup language): escape it, keep line breaks."""
    safe = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return safe.replace("\r\n", "\n").replace("\n", "<br/>")


def _identity_box(identity: Identity, st: dict[str, ParagraphStyle]) -> Table:
    sex = {"F": "Féminin", "M": "Masculin"}.get(identity.sex, "Indéterminé")
    lines = [
        f"<b>{esc(identity.display_name)}</b>",
        f"Nom de naissance : {esc(identity.birth_name.upper())}",
        f"Prénom(s) de naissance : {esc(identity.first_names)}",
        f"Né(e) le {identity.birth_date:%d/%m/%Y} – Sexe : {sex}",
        f"INS (matricule) : {format_ins(identity.ins)}",
    ]
    box = Table([[Paragraph("<br/>".join(lines), st["small"])]], colWidths=[170 * mm])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, BRAND),
                ("BACKGROUND", (0, 0), (-1, -1), LIGHT),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return box


def _fields(block: Fields, st: dict[str, ParagraphStyle]) -> Table:
    data = [
        [Paragraph(esc(label), st["label"]), Paragraph(esc(value or "Non renseigné"), st["cell"])]
        for label, value in block.rows
    ]
    table = Table(data, colWidths=[58 * mm, 112 * mm], hAlign="LEFT", spaceAfter=4)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _rows(block: Rows, st: dict[str, ParagraphStyle]) -> Table:
    data = [[Paragraph(esc(cell), st["cell"]) for cell in row] for row in block.rows]
    widths = None
    if block.weights:
        total = sum(block.weights)
        widths = [CONTENT_WIDTH * w / total for w in block.weights]
    table = Table(data, colWidths=widths, hAlign="LEFT", repeatRows=1, spaceBefore=2, spaceAfter=4)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _signature(block: Signature, st: dict[str, ParagraphStyle]) -> Flowable:
    lines = [Paragraph(esc(line), st["body"]) for line in block.lines]
    room = Table([[""]], colWidths=[80 * mm], rowHeights=[22 * mm], hAlign="LEFT")
    room.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, RULE)]))
    return KeepTogether([Spacer(1, 6), *lines, room])


def render(
    *,
    title: str,
    identity: Identity,
    blocks: Sequence[Block],
    subtitle: str = "",
    author: str = "",
    footer: str = "",
) -> bytes:
    """The document as an A4 PDF: title, identity box, the blocks, a page footer."""
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author or identity.display_name,
        subject=f"{title} – {identity.display_name}",
        creator=PRODUCER,
        lang="fr-FR",
        invariant=1,
    )
    story: list[Flowable] = [Paragraph(esc(title), st["title"])]
    if subtitle:
        story.append(Paragraph(esc(subtitle), st["subtitle"]))
    story += [_identity_box(identity, st), HRFlowable(width="100%", thickness=0.6, color=BRAND)]
    for block in blocks:
        if isinstance(block, Heading):
            story.append(Paragraph(esc(block.text), st["h1" if block.level == 1 else "h2"]))
        elif isinstance(block, Para):
            story.append(Paragraph(esc(block.text), st["body"]))
        elif isinstance(block, Note):
            story.append(Paragraph(esc(block.text), st["note"]))
        elif isinstance(block, Fields):
            story.append(_fields(block, st))
        elif isinstance(block, Rows):
            story.append(_rows(block, st))
        elif isinstance(block, Signature):
            story.append(_signature(block, st))
        elif isinstance(block, NewPage):
            story.append(PageBreak())

    footer_text = footer or f"{title} – {identity.display_name}"

    def page_footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(20 * mm, 10 * mm, printable(footer_text)[:120])
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buf.getvalue()
