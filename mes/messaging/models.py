"""Messagerie: the MSSanté directory, conversations, messages, attachments, drafts (mes-spec §7,
wave2.md §1.1–1.2).

A conversation always belongs to one patient (the holder of `<INS>@<patient domain>`) and has
one counterpart mailbox on the professional side. Message bodies are stored sanitised; attachment
bytes live encrypted in the vault under the patient's key, with the attachment id as the blob id.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from mes.identity.models import Citizen, Organisation, Professional


class Mailbox(models.Model):
    """One MSSanté mailbox (BAL) of the Annuaire Santé: nominative, organisational or
    applicative (mes-spec §7.1, wave2.md §1.2)."""

    class Kind(models.TextChoices):
        PER = "PER", "Nominative"
        ORG = "ORG", "Organisationnelle"
        APP = "APP", "Applicative"

    address = models.CharField("adresse MSSanté", max_length=254, unique=True)
    kind = models.CharField(max_length=3, choices=Kind.choices)
    professional = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.PROTECT, related_name="mailboxes"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="mailboxes"
    )
    description = models.CharField(max_length=200, blank=True)  # ORG/APP: service, team
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "boîte aux lettres MSSanté"
        constraints = [
            models.CheckConstraint(
                name="mailbox_owner",
                condition=Q(kind="PER", professional__isnull=False)
                | (~Q(kind="PER") & Q(organisation__isnull=False)),
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The sender as the citizen sees it: a name and a profession, never the address."""
        if self.professional is not None:
            return self.professional.display_name
        assert self.organisation is not None
        if self.description:
            return f"{self.organisation.name} — {self.description}"
        return self.organisation.name

    @property
    def role_label(self) -> str:
        if self.professional is not None:
            label = self.professional.profession_label
            if self.professional.specialty:
                label = f"{label} — {self.professional.specialty_label}"
            return label
        assert self.organisation is not None
        return self.organisation.get_kind_display()

    @property
    def is_pharmacy(self) -> bool:
        return bool(
            self.kind == self.Kind.ORG
            and self.organisation is not None
            and self.organisation.kind == Organisation.Kind.PHARMACY
        )


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="conversations")
    counterpart = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="conversations")
    subject = models.CharField(max_length=255)
    started_by_patient = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    # « mettre fin aux échanges »: the Web PS button or `X-MSS-MES: FIN` (mes-spec §7.2).
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The citizen's « supprimer la conversation »: hidden from the citizen side for good.
    trashed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "-last_message_at"]),
            models.Index(fields=["counterpart", "-last_message_at"]),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Message(models.Model):
    class Direction(models.TextChoices):
        TO_PATIENT = "in", "Reçu"  # from the professional side, through the gateway
        FROM_PATIENT = "out", "Envoyé"  # written in the portal, sent through the relay

    class ReplyMode(models.TextChoices):
        REPLY = "reply", "Réponse à l'expéditeur"
        REPLY_ALL = "reply_all", "Réponse à tous"
        NO_REPLY = "no_reply", "Pas de réponse possible"

    class Delivery(models.TextChoices):
        RECEIVED = "received", "Reçu"
        PENDING = "pending", "En cours d'envoi"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Non distribué"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    sender = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.PROTECT, related_name="sent_messages"
    )
    # The citizen account that wrote (a legal representative writes for a child).
    author_citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    body_html = models.TextField(blank=True)  # sanitised (mes.messaging.content)
    body_text = models.TextField(blank=True)
    # Unique per patient, not globally: one mail to two patients is one message each.
    message_id = models.CharField(max_length=255, db_index=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    mss_codecda = models.CharField(max_length=255, blank=True)
    mss_ins = models.CharField(max_length=1, blank=True)
    mss_nil = models.CharField(max_length=255, blank=True)
    reply_mode = models.CharField(max_length=10, choices=ReplyMode.choices, default=ReplyMode.REPLY)
    at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    delivery_error = models.CharField(max_length=300, blank=True)
    # A minor's secret care (L1111-5, R1111-50: TRE_A07 INVISIBLE_REPRESENTANTS_LEGAUX): set by
    # the professional who writes, or inherited from the conversation; the legal representatives
    # never see it (mes.messaging.policies).
    hidden_from_representatives = models.BooleanField(default=False)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["conversation", "at"])]

    def __str__(self) -> str:
        return self.subject


class Attachment(models.Model):
    """A file of a message. Its bytes are the vault blob of the same id (encrypted under the
    patient's key), unless it is a Documents entry attached by reference (`document`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    document = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cda_type_code = models.CharField(max_length=32, blank=True)  # from an XDM archive
    saved_document = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.filename

    @property
    def stored_in_vault(self) -> bool:
        return self.document_id is None


class Draft(models.Model):
    """One server-side draft per conversation (wave2.md §1.1 « Reprendre mon brouillon »)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="draft"
    )
    body = models.TextField(blank=True)
    author_citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()
