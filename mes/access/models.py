"""The citizen's decisions about professionals, and the patient's privacy settings."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mes.identity.models import Citizen, Professional


class PrivacySettings(models.Model):
    """The patient's global choices (portal.md §1.5, §5.2; mes-spec §4.6 global settings).

    Defaults follow the law: emergency access is allowed unless the patient opposes it.
    """

    patient = models.OneToOneField(Citizen, on_delete=models.CASCADE, related_name="privacy")
    # New documents masked from professionals by default (portal.md §3.4).
    mask_new_documents = models.BooleanField(default=False)
    # L1111-17 I: the patient may oppose bris de glace; and the SAMU régulation separately.
    oppose_break_glass = models.BooleanField(default=False)
    oppose_centre_15 = models.BooleanField(default=False)
    # Third toggle of « Accès en cas d'urgence »: masked documents shown in an emergency.
    emergency_reveals_masked = models.BooleanField(default=False)
    # « Masquer tous vos documents, y compris en cas d'urgence »: only the holder and the
    # administrator professional see the dossier.
    mask_everything = models.BooleanField(default=False)
    # « Import des données depuis les documents » (portal.md §5.4, finality TRAITEMENT_AUTO_DOCS):
    # on unless the patient turns it off.
    import_from_documents = models.BooleanField(default=True)
    onboarded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class ProfessionalAccessQuerySet(models.QuerySet["ProfessionalAccess"]):
    def authorised(self) -> ProfessionalAccessQuerySet:
        now = timezone.now()
        return self.filter(status=ProfessionalAccess.Status.AUTHORISED).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )

    def blocked(self) -> ProfessionalAccessQuerySet:
        return self.filter(status=ProfessionalAccess.Status.BLOCKED)


class TreatingSource(models.TextChoices):
    PROFESSIONAL = "professional", "Déclaré par le médecin lui-même"
    INSURER = "insurer", "Déclaré à l'Assurance Maladie"


class ProfessionalAccess(models.Model):
    """One professional's standing on one patient's dossier (mes-spec §5.2 implementation model).

    At most one row per (patient, professional): authorised, blocked or revoked, since a date.
    """

    class Status(models.TextChoices):
        AUTHORISED = "authorised", "Autorisé"
        BLOCKED = "blocked", "Bloqué"
        REVOKED = "revoked", "Retiré"

    class Source(models.TextChoices):
        PATIENT = "patient", "Accordé par l'usager"
        DECLARED_BY_PROFESSIONAL = "declared", "Consentement recueilli par le professionnel"
        CARE_TEAM = "care_team", "Équipe de soins"

    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="pro_accesses")
    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="patient_accesses"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PATIENT)
    since = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The médecin traitant (L1111-16): sees everything.
    is_treating_physician = models.BooleanField(default=False)
    # Where the médecin traitant comes from and since when (TD0.3, issue 8 item 9): the portal
    # says « déclaré à l'Assurance Maladie » only when it came from there. Empty: not recorded
    # (rows made before this was kept).
    treating_source = models.CharField(
        max_length=16, choices=TreatingSource.choices, blank=True, default=""
    )
    treating_since = models.DateTimeField(null=True, blank=True)
    # The « administrateur » chosen by the holder (portal.md §5.2.1): sees masked documents.
    is_administrator = models.BooleanField(default=False)

    objects = ProfessionalAccessQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "professional"], name="one_access_row"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(is_treating_physician=True),
                name="one_treating_physician",
            ),
        ]


class BreakGlassSession(models.Model):
    """An emergency access opened by a professional: bounded in time, never a lasting grant."""

    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=16)
    justification = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["patient", "professional", "mode", "expires_at"])]
