"""Mon histoire de santé (portal.md §2.2): the care history fed by the Assurance Maladie from
reimbursements. One `Episode` per reimbursed line (a consultation, a dispensation, a stay...),
loaded by `ImportBatch`es; read only for the citizen, who chooses whether authorised
professionals see it (`CareHistorySettings`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mes.identity.models import Citizen


class Category(models.TextChoices):
    """`EpisodeCategory` of the real service (portal.md §2.2), as they appear in the filter."""

    BIOLOGY = "BIOLOGIE", "Biologie"
    CARE = "SOINS", "Soins médicaux et dentaires"
    DRUG = "MEDICAMENT", "Délivrance de médicaments"
    VACCINE = "VACCIN", "Délivrance de vaccins"
    HOSPITAL = "HOSPITALISATION", "Hospitalisation"
    RADIOLOGY = "RADIOLOGIE", "Radiologie"
    DEVICE = "DISPOSITIF", "Prescription de dispositifs médicaux"


class ImportBatch(models.Model):
    """One run of `mes reimbursements import FILE`: what it loaded, skipped and rejected."""

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)
    loaded = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)  # already loaded by an earlier batch
    withheld = models.PositiveIntegerField(default=0)  # a minor's secret care (R1111-33)
    rejected = models.PositiveIntegerField(default=0)
    # « ligne N : raison » for each rejected line; never the line's content (health data).
    report = models.TextField(blank=True)


class Episode(models.Model):
    """One reimbursed line of the care history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="episodes")
    # The Assurance Maladie's identifier of the line: a second import of it is a duplicate.
    line_id = models.CharField(max_length=64, unique=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="episodes")
    date = models.DateField()  # consultation, dispensation, prescription, or discharge date
    category = models.CharField(max_length=16, choices=Category.choices)
    professional = models.CharField("professionnel de santé", max_length=200)
    professional_id = models.CharField(max_length=20, blank=True)  # RPPS or FINESS
    label = models.CharField("acte, médicament, vaccin ou dispositif", max_length=255, blank=True)
    code = models.CharField(max_length=20, blank=True)  # CIP13, CCAM, NGAP, LPP ...
    quantity = models.PositiveIntegerField(null=True, blank=True)
    therapeutic_group = models.CharField(max_length=200, blank=True)
    valence = models.CharField("valence vaccinale", max_length=200, blank=True)
    prescriber = models.CharField(max_length=200, blank=True)
    prescriber_specialty = models.CharField(max_length=200, blank=True)
    stay = models.CharField("nature du séjour", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # « Déjà ajouté à la rubrique »: what the citizen copied into the profil médical.
    treatment_entry_id = models.UUIDField(null=True, blank=True)
    vaccination_id = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-date"])]
        ordering = ["-date", "category"]


class CareHistorySettings(models.Model):
    """The citizen's confidentiality choice for the whole history (MASQUE_PS or N), and the date
    of the first feed (the PRIMO_ALIM_MHS notification is sent once)."""

    patient = models.OneToOneField(
        Citizen, on_delete=models.CASCADE, related_name="care_history_settings"
    )
    masked_from_professionals = models.BooleanField(default=False)
    first_fed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
