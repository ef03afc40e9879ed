"""Data leaving the espace at the citizen's request.

- `DataExport`: « Télécharger mes données » (portal.md §5.4, wave2.md §0 row 11): built in the
  background, three parts with their sizes, a download link that expires.
- `ShareLink`: a SMART Health Link to one document or a chosen set: an encrypted payload behind
  an unguessable link, an optional passcode, an expiry, revocable; every opening recorded.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mes.identity.models import Citizen


class DataExport(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "En préparation"
        READY = "READY", "Disponible"
        FAILED = "FAILED", "Échec"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="exports")
    # The profiles included: the requester's own and those they represent (ids, as text).
    profile_ids = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # wave2.md §0 row 11: dossierMedicalFragment, messagerieFragment, ensFragment {poids}.
    medical_size = models.PositiveBigIntegerField(default=0)
    messaging_size = models.PositiveBigIntegerField(default=0)
    account_size = models.PositiveBigIntegerField(default=0)
    zip_size = models.PositiveBigIntegerField(default=0)
    downloads = models.PositiveIntegerField(default=0)

    def is_available(self) -> bool:
        return (
            self.status == self.Status.READY
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


class ShareLink(models.Model):
    """A SMART Health Link: `token` is the link's secret part (never the key); the payload is
    encrypted with `key` (AES-256-GCM, JWE « dir »), kept only while the link lives."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    # The SHL key (32 bytes, base64url): it goes in the link itself, for the recipient's app.
    # Kept while the link lives so that the manifest can encrypt the files; wiped on revocation.
    key = models.CharField(max_length=64)
    label = models.CharField(max_length=80)
    document_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    passcode_hash = models.CharField(max_length=200, blank=True)  # argon2, empty: no passcode
    failed_passcodes = models.PositiveSmallIntegerField(default=0)
    opened_count = models.PositiveIntegerField(default=0)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ShareLinkOpening(models.Model):
    """« Ouvert le … »: each time the link's content was handed out."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="openings")
    at = models.DateTimeField(default=timezone.now)
