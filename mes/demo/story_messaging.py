"""The Messagerie of the demo (mes-spec §7, wave2.md §1.1).

- The MSSanté directory: a nominative mailbox for each demo professional, the organisational
  mailbox of the Pharmacie des Tilleuls and of a second pharmacy to find by search, the
  applicative mailbox of the laboratory (its results read no reply).
- Louise Dupont: her médecin traitant, Dr Bernard Léon, writes to her with his consultation
  report attached; she replies with a photo of her glucose notebook, saves the report into her
  Documents (« Comptes rendus »), and sends her latest prescription to her pharmacy, the
  Pharmacie des Tilleuls, where her dispensations come from.

Everything goes through mes.messaging.actions, so the traces are in Louise's Historique
d'activité. Idempotent: keyed on the médecin traitant's Message-ID.
"""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

from django.utils import timezone

from mes.access.actors import citizen_actor, system_actor
from mes.identity.models import Citizen, Organisation, Professional
from mes.messaging import actions
from mes.messaging.models import Mailbox, Message
from mes.records.models import Document

from .dataset import ORGS, PEOPLE, PROS

FIRST_MESSAGE_ID = "<demo-louise-mt-1@medecin.mssante.fr>"
PROFESSION_DOMAINS = {
    "10": "medecin.mssante.fr",
    "21": "pharmacien.mssante.fr",
    "60": "infirmier.mssante.fr",
    "70": "masseur-kinesitherapeute.mssante.fr",
    "80": "pedicure-podologue.mssante.fr",
}
SECOND_PHARMACY = ("750029992", "Pharmacie de la Gare", "Villeneuve")


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def pro_address(pro: Professional) -> str:
    domain = PROFESSION_DOMAINS.get(pro.profession, "medecin.mssante.fr")
    return f"{_ascii(pro.first_name)}.{_ascii(pro.last_name).replace(' ', '-')}@{domain}"


def load_directory() -> int:
    """The demo's part of the Annuaire Santé; returns the number of mailboxes created."""
    created = 0
    for spec in PROS:
        pro = Professional.objects.get(rpps=spec.rpps)
        _, new = Mailbox.objects.get_or_create(
            address=pro_address(pro), defaults={"kind": Mailbox.Kind.PER, "professional": pro}
        )
        created += new
    pharmacy = Organisation.objects.get(finess=next(o.finess for o in ORGS if o.key == "pharmacie"))
    lab = Organisation.objects.get(finess=next(o.finess for o in ORGS if o.key == "labo"))
    gare, _ = Organisation.objects.get_or_create(
        finess=SECOND_PHARMACY[0],
        defaults={
            "name": SECOND_PHARMACY[1],
            "kind": Organisation.Kind.PHARMACY,
            "city": SECOND_PHARMACY[2],
        },
    )
    for address, kind, org, description in (
        ("pharmacie.tilleuls@pharmacien.mssante.fr", Mailbox.Kind.ORG, pharmacy, "Officine"),
        ("pharmacie.gare@pharmacien.mssante.fr", Mailbox.Kind.ORG, gare, "Officine"),
        ("resultats@labo-demo.mssante.fr", Mailbox.Kind.APP, lab, "Résultats d'analyses"),
    ):
        _, new = Mailbox.objects.get_or_create(
            address=address,
            defaults={"kind": kind, "organisation": org, "description": description},
        )
        created += new
    return created


def _png(width: int = 64, height: int = 48) -> bytes:
    """A small PNG (a light page with ruled lines): the photo Louise takes of her notebook."""
    rows = b""
    for y in range(height):
        shade = 180 if y % 8 == 0 else 245
        rows += b"\x00" + bytes([shade, shade, 250]) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _report_pdf(mt: Professional, louise: Citizen) -> bytes:
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle("Compte rendu de consultation")
    c.setFont("Helvetica-Bold", 14)
    c.drawString(60, 780, "Compte rendu de consultation")
    c.setFont("Helvetica", 11)
    lines = [
        f"{mt.display_name} – Médecin généraliste",
        f"Patiente : {louise.first_name} {louise.birth_name.upper()}",
        f"Date : {timezone.localdate():%d/%m/%Y}",
        "",
        "Suivi du diabète de type 2 et de l'insuffisance cardiaque.",
        "Glycémies à jeun stables ; poids en légère baisse.",
        "Poursuite du traitement ; contrôle de l'HbA1c dans 3 mois.",
    ]
    for i, line in enumerate(lines):
        c.drawString(60, 750 - 18 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def load_messaging_story() -> dict[str, int]:
    created = {"boîtes aux lettres MSSanté": load_directory()}
    louise = Citizen.objects.get(ins=next(p.ins for p in PEOPLE if p.key == "louise"))
    if Message.objects.filter(message_id=FIRST_MESSAGE_ID, conversation__patient=louise).exists():
        return created
    mt = Professional.objects.get(rpps=next(p.rpps for p in PROS if p.key == "mt"))
    now = timezone.now()
    first = actions.message_receive(
        actor=system_actor("passerelle-mssante"),
        patient_ins=louise.ins,
        mail=actions.IncomingMail(
            sender_address=pro_address(mt),
            subject="Compte rendu de votre consultation",
            message_id=FIRST_MESSAGE_ID,
            at=now - timedelta(hours=3),
            to=[actions.patient_address(louise)],
            body_text=(
                "Bonjour Madame Dupont,\n\nVous trouverez ci-joint le compte rendu de notre "
                "consultation. Pouvez-vous m'envoyer une photo de votre carnet de glycémies ?\n\n"
                f"Bien cordialement,\n{mt.display_name}"
            ),
            mss_nil="LPS-DEMO-1.0",
            files=[
                actions.IncomingFile("Compte rendu de consultation.pdf", _report_pdf(mt, louise))
            ],
        ),
    )
    actor = citizen_actor(louise)
    actions.message_reply(
        actor=actor,
        conversation_id=first.conversation_id,
        outgoing=actions.Outgoing(
            body="Bonjour Docteur,\nVoici la photo de mon carnet de glycémies.\nLouise Dupont",
            files=[("carnet-glycemies.png", _png())],
        ),
    )
    report = first.attachments.get()
    actions.attachment_save_to_documents(
        actor=actor,
        attachment_id=report.pk,
        category="CPT_REND",
        title="Compte rendu de consultation",
    )
    prescription = (
        Document.objects.filter(patient=louise, class_code="42", status=Document.Status.CURRENT)
        .order_by("-service_date")
        .first()
    )
    pharmacy = Mailbox.objects.get(address="pharmacie.tilleuls@pharmacien.mssante.fr")
    actions.conversation_start(
        actor=actor,
        patient_id=louise.pk,
        mailbox_id=pharmacy.pk,
        subject="Mon ordonnance",
        outgoing=actions.Outgoing(
            body=(
                "Bonjour,\nJe souhaite vous partager mon document.\nBonne réception.\nLouise Dupont"
            ),
            document_ids=[prescription.pk] if prescription else [],
        ),
    )
    created["conversations de la messagerie"] = 2
    return created
