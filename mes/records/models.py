"""DMP documents: XDS-style metadata (mes-spec §4.2), versions, and the three visibility flags."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models

from mes.identity.models import Citizen, Organisation, Professional
from mes.lib import codes

from . import packed


class Folder(models.Model):
    """A citizen's folder; a document sits in at most one (portal.md §3.1)."""

    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField("nom du dossier", max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "name"], name="unique_folder_name")
        ]

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    class Status(models.TextChoices):
        CURRENT = "current", "Actif"  # XDS Approved
        SUPERSEDED = "superseded", "Remplacé"  # XDS Deprecated (RPLC)
        ARCHIVED = "archived", "Archivé"
        DELETED = "deleted", "Supprimé"

    class AuthorKind(models.TextChoices):
        PROFESSIONAL = "professional", "Professionnel de santé"
        STRUCTURE = "structure", "Établissement"
        PATIENT = "patient", "Usager"
        INSURER = "insurer", "Assurance Maladie"
        APP = "app", "Service connecté"
        SYSTEM = "system", "Mon espace santé"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="documents")
    unique_id = models.CharField("identifiant unique (OID)", max_length=128, unique=True)
    type_code = models.CharField(max_length=32)
    class_code = models.CharField(max_length=2)  # derived from type_code, stored for filtering
    format_code = models.CharField(max_length=128)
    category = models.CharField(max_length=16)  # citizen category (portal.md §3.1)
    title = models.CharField("nom du document", max_length=255)
    description = models.TextField(blank=True)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    sha1 = models.CharField(max_length=40, blank=True)  # MHD attachment.hash (XDS hash)
    service_date = models.DateField("date du document")
    created_at = models.DateTimeField("date de création")  # creationTime
    deposited_at = models.DateTimeField("date de dépôt")

    author_kind = models.CharField(max_length=16, choices=AuthorKind.choices)
    author_professional = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The citizen who deposited it: the holder, or a legal representative acting for them.
    author_citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200)  # as shown: « par Prénom Nom »

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CURRENT)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    # XDS eventCodeList and referenceIdList (MHD context.event, context.related), packed as
    # « |system^code|…| » and « |value|…| » so they can be searched with LIKE: mes.records.packed.
    event_codes = models.TextField(blank=True, default="")
    reference_ids = models.TextField(blank=True, default="")

    # Visibility flags (TRE_A07, mes-spec §4.6).
    masked_from_professionals = models.BooleanField(default=False)  # MASQUE_PS
    hidden_from_patient = models.BooleanField(default=False)  # INVISIBLE_PATIENT
    hidden_from_patient_released_at = models.DateTimeField(null=True, blank=True)
    hidden_from_patient_alerted_at = models.DateTimeField(null=True, blank=True)
    hidden_from_representatives = models.BooleanField(default=False)  # INVISIBLE_REP_LEGAUX

    # Citizen-side organisation.
    folder = models.ForeignKey(
        Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    pinned_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "status", "-service_date"]),
            # ITI-67's default order (bench/README.md: the sort was not indexed).
            models.Index(fields=["patient", "status", "-deposited_at"]),
            models.Index(fields=["patient", "type_code"]),
            # The INVISIBLE_PATIENT sweep reads only the documents still waiting (R1111-53).
            models.Index(
                fields=["deposited_at"],
                condition=models.Q(
                    status="current",
                    hidden_from_patient=True,
                    hidden_from_patient_released_at__isnull=True,
                ),
                name="records_doc_hidden_waiting",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def type_display(self) -> str:
        found = codes.type_codes().get(self.type_code)
        return found.display if found else self.type_code

    @property
    def class_display(self) -> str:
        return codes.class_codes().get(self.class_code, self.class_code)

    @property
    def category_info(self) -> codes.Category:
        return codes.categories()[self.category]

    @property
    def event_code_list(self) -> list[tuple[str, str]]:
        """[(system, code)] of eventCodeList; the system may be ""."""
        return packed.unpack_codes(self.event_codes)

    @property
    def reference_id_list(self) -> list[str]:
        return packed.unpack(self.reference_ids)

    @property
    def deposited_by_citizen(self) -> bool:
        return self.author_kind == self.AuthorKind.PATIENT

    def released_to_patient(self, now: datetime) -> bool:
        """R1111-53: an INVISIBLE_PATIENT document is shown after a consultation d'annonce,
        or automatically one month after its deposit."""
        if not self.hidden_from_patient or self.hidden_from_patient_released_at:
            return True
        return now >= self.deposited_at + settings.MES_HIDDEN_FROM_PATIENT_RELEASE_AFTER

    @property
    def confidentiality_codes(self) -> list[str]:
        flags = ["N"]
        if self.masked_from_professionals:
            flags.append("MASQUE_PS")
        if self.hidden_from_patient and not self.hidden_from_patient_released_at:
            flags.append("INVISIBLE_PATIENT")
        if self.hidden_from_representatives:
            flags.append("INVISIBLE_REPRESENTANTS_LEGAUX")
        return flags
