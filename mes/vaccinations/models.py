"""The carnet de vaccination: the vaccinations a person received (portal.md §2.11)."""

from __future__ import annotations

import uuid

from django.db import models

from mes.identity.models import Citizen, Professional
from mes.prevention.calendar import DoneVaccination, default_calendar

# portal.md §1.7: vaccine lot 100 characters, comments 3000, names of persons 100.
LOT_MAX = 100
VACCINATOR_MAX = 100
COMMENT_MAX = 3000


class Vaccination(models.Model):
    class Kind(models.TextChoices):
        # The codes of the real service (HL7 v3 ActCode), portal.md §2.11.
        FIRST = "INITIMMUNIZ", "Première vaccination"
        BOOSTER = "BOOSTER", "Rappel de vaccination"
        UNKNOWN = "IMMUNIZ", "Je ne sais pas"

    class Source(models.TextChoices):
        PATIENT = "patient", "Usager"
        PROFESSIONAL = "professional", "Professionnel de santé"
        APP = "app", "Service connecté"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="vaccinations")
    vaccine_code = models.CharField("vaccin", max_length=40)
    # The referential may change: the name and valences are kept as they were recorded.
    vaccine_label = models.CharField("nom du vaccin", max_length=200)
    valences = models.JSONField(default=list)
    date = models.DateField("date de vaccination")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.UNKNOWN)
    dose_number = models.PositiveSmallIntegerField(null=True, blank=True)
    lot = models.CharField("lot du vaccin", max_length=LOT_MAX, blank=True)
    vaccinator_name = models.CharField("nom du vaccinateur", max_length=VACCINATOR_MAX, blank=True)
    vaccinator = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField("commentaire", blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    author_label = models.CharField(max_length=200)
    author_citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_professional = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by_label = models.CharField(max_length=200, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["patient", "-date"])]

    def __str__(self) -> str:
        return f"{self.vaccine_label} ({self.date:%d/%m/%Y})"

    @property
    def read_only(self) -> bool:
        """Added or confirmed by a professional (or an app): the citizen side cannot change it."""
        return self.source != self.Source.PATIENT or self.confirmed_at is not None

    @property
    def added_by(self) -> str:
        """« ajoutée par Dr Emma Rousseau », « ajoutée par Claire Lambert, confirmée par … »."""
        text = f"ajoutée par {self.author_label}"
        if self.confirmed_at is not None:
            text += f", confirmée par {self.confirmed_by_label}"
        return text

    @property
    def read_only_notice(self) -> str:
        if not self.read_only:
            return ""
        who = self.confirmed_by_label if self.confirmed_at else self.author_label
        return (
            f"Vaccination ajoutée ou confirmée par {who}. "
            "Elle ne peut pas être modifiée ou supprimée."
        )

    @property
    def diseases(self) -> list[str]:
        cal = default_calendar()
        return [cal.valence_label(v) for v in self.valences]

    @property
    def vaccinator_display(self) -> str:
        if self.vaccinator is not None:
            return self.vaccinator.display_name
        return self.vaccinator_name

    def as_done(self) -> DoneVaccination:
        """This dose as the calendar engine counts it."""
        return DoneVaccination(date=self.date, valences=frozenset(self.valences), ref=self.pk)
