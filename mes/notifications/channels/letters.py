"""Postal letters, for people with neither e-mail nor mobile phone and for what can wait:
`print_letters` gathers the pending ones into one printable PDF (reportlab, one page each).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ..models import Category, Channel, Delivery, LetterBatch


def _letter_pdf(rows: Iterable[Delivery]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle("Courriers Mon espace santé")
    _width, height = A4
    for row in rows:
        y = height - 5 * cm
        for line in row.destination.splitlines():  # window envelope: the address block
            pdf.drawString(11 * cm, y, line)
            y -= 0.5 * cm
        y = height - 10 * cm
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(2 * cm, y, "Mon espace santé")
        pdf.setFont("Helvetica", 11)
        y -= 1 * cm
        for line in _letter_text(row).splitlines():
            pdf.drawString(2 * cm, y, line)
            y -= 0.6 * cm
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _letter_text(row: Delivery) -> str:
    return (
        "Madame, Monsieur,\n\n"
        "Un examen de prévention, un dépistage ou une vaccination est à planifier\n"
        f"(rubrique « {Category(row.category).label} »).\n"
        "Parlez-en à votre médecin ou à votre pharmacien, ou consultez Mon espace santé.\n\n"
        "L'Assurance Maladie"
    )


def print_letters(*, limit: int = 5000) -> LetterBatch | None:
    """Gather pending letters into one printable PDF (one page each), stored with the default
    storage; the rows are marked sent with their batch. None when there is nothing to print."""
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, channel=Channel.LETTER)
            .order_by("pk")[:limit]
        )
        if not rows:
            return None
        batch = LetterBatch.objects.create(file_name="", count=len(rows))
        name = default_storage.save(
            f"courriers/lot-{batch.pk:06d}.pdf", ContentFile(_letter_pdf(rows))
        )
        batch.file_name = name
        batch.save(update_fields=["file_name"])
        Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), batch=batch
        )
    return batch
