"""The messaging cast: dr_martin's nominative mailbox, the Pharmacie du Centre's organisational
one, a laboratory's applicative one; helpers that build the mail a professional sends."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.utils import timezone

from mes.access.actors import system_actor
from mes.identity.models import Citizen, Organisation, Professional
from mes.messaging.actions import IncomingFile, IncomingMail, message_receive
from mes.messaging.models import Mailbox, Message

MARTIN_ADDRESS = "anne.martin@medecin.mssante.fr"
PHARMACY_ADDRESS = "pharmacie.centre@pharmacien.mssante.fr"


def martin_mailbox(dr_martin: Professional) -> Mailbox:
    return Mailbox.objects.get_or_create(
        address=MARTIN_ADDRESS, defaults={"kind": Mailbox.Kind.PER, "professional": dr_martin}
    )[0]


def pharmacy_mailbox(pharmacy: Organisation) -> Mailbox:
    return Mailbox.objects.get_or_create(
        address=PHARMACY_ADDRESS,
        defaults={"kind": Mailbox.Kind.ORG, "organisation": pharmacy, "description": "Officine"},
    )[0]


def mail(
    *,
    sender: str = MARTIN_ADDRESS,
    subject: str = "Compte rendu",
    body: str = "Bonjour, voici votre compte rendu.",
    files: list[IncomingFile] | None = None,
    in_reply_to: str = "",
    end: bool = False,
    at: datetime | None = None,
) -> IncomingMail:
    return IncomingMail(
        sender_address=sender,
        subject=subject,
        message_id=f"<{uuid.uuid4().hex}@medecin.mssante.fr>",
        at=at or timezone.now(),
        body_text=body,
        in_reply_to=in_reply_to,
        end_of_exchange=end,
        files=files or [],
    )


def receive(patient: Citizen, incoming: IncomingMail) -> Message:
    return message_receive(actor=system_actor("test"), patient_ins=patient.ins, mail=incoming)
