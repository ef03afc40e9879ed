"""Health measures (portal.md §2.10, mes-spec §9): one row per value, shaped like one FHIR
Observation of the ANS « Mesures de santé » profiles (see fhir.py for the mapping)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from mes.identity.models import Citizen

from . import profiles
from .profiles import MeasureCode

TYPE_CHOICES = [(t.code.value, t.label) for t in profiles.TYPES if not t.computed]
TILE_CHOICES = [(t.code.value, t.label) for t in profiles.TYPES]
MOMENT_CHOICES = [(m.code, m.label) for m in profiles.GLUCOSE_MOMENTS]
COMMENT_MAX = 150  # « Commentaire (facultatif) », portal.md §2.10


class MeasurementQuerySet(models.QuerySet["Measurement"]):
    def of(self, patient: Citizen, code: str) -> MeasurementQuerySet:
        return self.filter(patient=patient, type_code=code)

    def chronological(self) -> MeasurementQuerySet:
        return self.order_by("effective_at", "created_at")

    def newest_first(self) -> MeasurementQuerySet:
        return self.order_by("-effective_at", "-created_at")


class Measurement(models.Model):
    """One value of one measure (the BMI is never stored: it is computed, bmi.py).

    `value` is in the type's canonical UCUM unit (profiles.py); a blood pressure keeps its
    systolic in `value` and its diastolic in `diastolic` (the two FHIR components).
    """

    class Source(models.TextChoices):
        PATIENT = "patient", "Ajoutée par l'usager"
        PROFESSIONAL = "professional", "Ajoutée par un professionnel de santé"
        APP = "app", "Ajoutée par un service connecté"
        DOCUMENT = "document", "Extraite d'un document"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="measurements")
    type_code = models.CharField(max_length=32, choices=TYPE_CHOICES)
    value = models.DecimalField(max_digits=9, decimal_places=2)
    diastolic = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=16)  # UCUM, the canonical unit of the type
    effective_at = models.DateTimeField()  # Observation.effectiveDateTime
    # Glucose: JDV_J157-MomentGlucose-ENS (extension MesMomentOfMeasurement).
    moment = models.CharField(max_length=16, choices=MOMENT_CHOICES, blank=True)
    comment = models.CharField(max_length=COMMENT_MAX, blank=True)  # Observation.note
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PATIENT)
    author_label = models.CharField(max_length=200)  # « Par Prénom Nom »
    # Who entered it, on the citizen side (the holder or a legal representative).
    author_citizen_id = models.UUIDField(null=True, blank=True)
    author_professional_id = models.UUIDField(null=True, blank=True)
    # The app or device that sent it (PhdDevice identifier "urn:oid:<OID>|<id>"), if any.
    device_identifier = models.CharField(max_length=200, blank=True)
    # The document the value was read from (« Voir le document lié »), if any.
    source_document_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        verbose_name = "mesure"
        indexes = [models.Index(fields=["patient", "type_code", "-effective_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(type_code=MeasureCode.BLOOD_PRESSURE.value, diastolic__isnull=False)
                    | (~Q(type_code=MeasureCode.BLOOD_PRESSURE.value) & Q(diastolic__isnull=True))
                ),
                name="measurement_diastolic_only_for_bp",
            ),
            models.CheckConstraint(
                condition=~Q(type_code=MeasureCode.BODY_MASS_INDEX.value),
                name="measurement_bmi_never_stored",
            ),
            models.CheckConstraint(
                condition=Q(type_code=MeasureCode.GLUCOSE.value, moment__gt="")
                | ~Q(type_code=MeasureCode.GLUCOSE.value),
                name="measurement_glucose_has_moment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type_code} {self.value} {self.unit}"

    @property
    def measure_type(self) -> profiles.MeasureType:
        return profiles.get(self.type_code)

    @property
    def editable_by_citizen(self) -> bool:
        """Values from a professional or an app are read only for the citizen (portal.md §1.7)."""
        return self.source == self.Source.PATIENT

    @property
    def moment_label(self) -> str:
        m = profiles.MOMENTS_BY_CODE.get(self.moment)
        return m.label if m else ""


class MeasureTilePreference(models.Model):
    """« Afficher les autres mesures »: whether one measure shows on the Mesures page
    (`MeasureTileInput{type, visible}`). No row: the default set (profiles.DEFAULT_TILES)."""

    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="measure_tiles")
    type_code = models.CharField(max_length=32, choices=TILE_CHOICES)
    visible = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "type_code"], name="measure_tile_unique")
        ]


class DocumentReading(models.Model):
    """One structured document read for measures (portal.md §5.4): at most one per document, so
    the same document never adds its values twice, whatever route or retry brought it."""

    class Outcome(models.TextChoices):
        IMPORTED = "imported", "Valeurs importées"
        NOTHING = "nothing", "Aucune valeur suivie"
        MALFORMED = "malformed", "Document structuré illisible"
        REFUSED = "refused", "Import refusé par l'usager"
        PROTECTED = "protected", "Document caché ou masqué : non lu"

    document = models.OneToOneField(
        "records.Document", on_delete=models.CASCADE, related_name="measure_reading"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    imported = models.PositiveSmallIntegerField(default=0)
    skipped = models.PositiveSmallIntegerField(default=0)  # tracked but out of range or invalid
    read_at = models.DateTimeField()
