"""What the person receives about their espace: the notice with a provisional code (by e-mail,
or by post where there is no e-mail: mes-spec §3.2), a new code, the proofs of opposition
and of closure.

No NIR, INS or health data ever goes in an e-mail, an SMS or a letter's text: the person is
named, the code is given, the rest is on the portal.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

if TYPE_CHECKING:
    from .models import EspaceEvent

logger = logging.getLogger("mes.enrolment")

FRENCH_MONTHS = (
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


def french_date(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = timezone.localtime(day).date()
    return f"{day.day} {FRENCH_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Notice:
    """One notice to send: to the holder, or to the parent a child is attached to."""

    recipient_name: str  # who the letter/e-mail is addressed to
    subject_name: str  # whose espace it is about (the child, or the recipient)
    email: str
    phone: str
    address: str
    postcode: str
    city: str
    code: str
    code_expires: datetime
    opposition_until: datetime | None  # None: the espace already exists (new code, majority)
    # A child's notice, to the parent: activated from the parent's own account (§3.2).
    from_parent_account: bool = False


def notice_text(notice: Notice) -> str:
    about = (
        "votre profil Mon espace santé"
        if notice.subject_name == notice.recipient_name
        else f"le profil Mon espace santé de {notice.subject_name}"
    )
    lines = [f"Bonjour {notice.recipient_name},", ""]
    if notice.opposition_until is not None:
        lines += [
            f"L'Assurance Maladie va créer {about}, le carnet de santé numérique qui "
            "rassemble vos documents de santé et les échanges avec vos professionnels de "
            "santé.",
            "",
            "Si vous ne voulez pas de ce profil, vous pouvez vous y opposer jusqu'au "
            f"{french_date(notice.opposition_until)}, en ligne (page « Je m'oppose à la "
            "création ») ou au 3422. Sans opposition, le profil sera créé à cette date.",
        ]
    else:
        lines.append(f"Voici un code provisoire pour activer {about}.")
    lines += [
        "",
        f"Votre code provisoire : {notice.code}",
        f"Il est valable jusqu'au {french_date(notice.code_expires)} et ne sert qu'une fois.",
        "",
        (
            f"Pour activer le profil de {notice.subject_name} : connectez-vous à votre propre "
            "profil Mon espace santé, puis ouvrez « Activer le profil d'un enfant » (Mon compte "
            "> Mes informations de connexion) et saisissez ce code."
            if notice.from_parent_account
            else "Pour activer le profil : page « Activer mon profil », avec ce code, le numéro "
            "de sécurité sociale et le numéro de série de la carte Vitale."
        ),
        "Vous pourrez clôturer le profil à tout moment.",
        "",
        "Ne communiquez ce code à personne : ni l'Assurance Maladie ni un professionnel de "
        "santé ne vous le demandera.",
    ]
    return "\n".join(lines)


def send_email_notice(notice: Notice) -> bool:
    """Send by e-mail; False when it failed (the caller falls back to a letter, §3.2)."""
    try:
        send_mail("Votre profil Mon espace santé", notice_text(notice), None, [notice.email])
    except Exception:  # any SMTP failure: the letter takes over
        logger.exception("enrolment notice e-mail not delivered")
        return False
    return True


def send_sms_code(phone: str, code: str, expires: datetime) -> None:
    sms: Callable[[str, str], None] = import_string(settings.MES_SMS_BACKEND)
    sms(
        phone,
        f"Mon espace santé : votre code provisoire est {code}. Valable jusqu'au "
        f"{french_date(expires)}, une seule fois. Ne le communiquez à personne.",
    )


def _wrap(text: str, width: int = 95) -> list[str]:
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if len(line) + len(word) + 1 > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        out.append(line)
    return out


def _page(pdf: canvas.Canvas, title: str, address: Sequence[str], body: str) -> None:
    y = 270 * mm
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(20 * mm, y, "Mon espace santé – Assurance Maladie")
    pdf.setFont("Helvetica", 10)
    # The window of a DL envelope: the address block at 110 mm from the left.
    y_addr = 240 * mm
    for line in address:
        pdf.drawString(110 * mm, y_addr, line)
        y_addr -= 5 * mm
    y = 200 * mm
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(20 * mm, y, title)
    y -= 10 * mm
    pdf.setFont("Helvetica", 10)
    for line in _wrap(body):
        pdf.drawString(20 * mm, y, line)
        y -= 5 * mm
    pdf.showPage()


def letters_pdf(notices: Sequence[Notice]) -> bytes:
    """A batch of postal letters (one page each), for the printing service."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle("Courriers Mon espace santé")
    for notice in notices:
        address = [notice.recipient_name, notice.address, f"{notice.postcode} {notice.city}"]
        _page(pdf, "Votre profil Mon espace santé", address, notice_text(notice))
    pdf.save()
    return buffer.getvalue()


def _proof_pdf(*, title: str, name: str, body: Sequence[str]) -> bytes:
    """One page of proof, addressed to the person: what was recorded, when, its reference."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"{title} – Mon espace santé")
    _page(pdf, title, [name], "\n".join(body))
    pdf.save()
    return buffer.getvalue()


def opposition_proof_pdf(*, name: str, birth_date: date, at: datetime, reference: str) -> bytes:
    """The proof of opposition (« justificatif d'opposition », mes-spec §3.2)."""
    return _proof_pdf(
        title="Justificatif d'opposition",
        name=name,
        body=[
            f"Nous attestons que l'opposition à la création du profil Mon espace santé de {name}, "
            f"né(e) le {french_date(birth_date)}, a été enregistrée le {french_date(at)} à "
            f"{timezone.localtime(at):%H:%M}.",
            "",
            "Aucun profil Mon espace santé ne sera créé pour cette personne. Les professionnels "
            "de santé n'y ont pas accès.",
            "",
            "Vous pourrez changer d'avis à tout moment et demander la création du profil, en "
            "ligne ou au 3422.",
            "",
            f"Référence : {reference}",
        ],
    )


def opposition_proof_of(event: EspaceEvent) -> bytes:
    """The proof of the opposition this history row records: the same PDF whether it was
    asked online or at the 3422 (mes-spec §3.2)."""
    citizen = event.espace.citizen
    return opposition_proof_pdf(
        name=citizen.display_name,
        birth_date=citizen.birth_date,
        at=event.at,
        reference=f"OPP-{event.at:%Y%m%d}-{event.pk:08d}",
    )


def closure_proof_of(event: EspaceEvent) -> bytes:
    """The proof of the closure this history row records (« justificatif de clôture »): when,
    until when the data are archived and may come back (R1111-36, mes-spec §3.4), or when
    they are deleted if the person asked for it at closure."""
    espace = event.espace
    name = espace.citizen.display_name
    archived_until = event.at + settings.MES_ENROLMENT_ARCHIVE_DURATION
    deleted_on = (
        espace.purge_due_at
        if espace.deletion_requested_at is not None
        and espace.deletion_requested_at >= event.at
        and espace.purge_due_at is not None
        else None
    )
    future = (
        [
            "Vous avez demandé la suppression des données sans attendre : elles seront "
            f"supprimées définitivement le {french_date(deleted_on)}. Jusque-là, vous pouvez "
            "encore changer d'avis en rouvrant le profil avec un nouveau code provisoire (en "
            "ligne ou au 3422).",
        ]
        if deleted_on
        else [
            "Plus personne n'accède au profil ni n'y dépose de document. Les données sont "
            f"archivées jusqu'au {french_date(archived_until)}, puis supprimées.",
            "",
            "D'ici là, vous pouvez rouvrir le profil avec un nouveau code provisoire (en ligne "
            "ou au 3422) : les données archivées sont alors restaurées. Vous pouvez aussi "
            "demander leur suppression sans attendre, au 3422.",
        ]
    )
    return _proof_pdf(
        title="Justificatif de clôture",
        name=name,
        body=[
            f"Nous attestons que le profil Mon espace santé de {name}, né(e) le "
            f"{french_date(espace.citizen.birth_date)}, a été clôturé le {french_date(event.at)} "
            f"à {timezone.localtime(event.at):%H:%M}.",
            "",
            *future,
            "",
            f"Référence : CLO-{event.at:%Y%m%d}-{event.pk:08d}",
        ],
    )
