"""The catalogue of referenced services and their pairings with espaces (mes-spec §8, wave2.md
§1.4, portal.md §5.5).

A `Service` is referenced by the State; if referenced « avec échange de données » it has an OAuth
client (`application`) and declares its `Purpose`s (finalités), each listing what it reads or
writes (`PurposeExchange`: a data category and an action). A citizen pairs a service with an espace
(their own or a child's): a `Pairing`, holding the purposes they consented to (`Consent`), one by
one. The tokens the service then holds are bound to that pairing (`PairingToken`): a token names
one espace and nothing else.

What a paired service may do is decided in one place, `mes.catalogue.policies`, and reached through
`mes.access.decision` like every other access.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from mes.identity.models import Citizen


class Category(models.TextChoices):
    """The catalogue's themes (wave2.md §1.4 `thematics`)."""

    PREVENTION = "prevention", "Prévention"
    CHRONIC = "maladie_chronique", "Suivi de maladie chronique"
    APPOINTMENTS = "rendez_vous", "Prise de rendez-vous"
    TELECONSULTATION = "teleconsultation", "Téléconsultation"
    WELLBEING = "bien_etre", "Bien-être"
    INFORMATION = "information", "Information en santé"
    ADMINISTRATIVE = "administratif", "Démarches administratives"


class DataCategory(models.TextChoices):
    """The data a purpose exchanges (the four API families of mes-spec §8.2)."""

    MEASURES = "mesures", "Mesures de santé"
    DOCUMENTS = "documents", "Documents"
    AGENDA = "agenda", "Agenda"
    PROFILE = "profil", "Profil médical"


class ExchangeAction(models.TextChoices):
    READ = "lecture", "Lecture"
    WRITE = "ecriture", "Écriture"


class Service(models.Model):
    """A referenced service (wave2.md §1.4 `Service`)."""

    class Status(models.TextChoices):
        ONLINE = "EN_LIGNE", "En ligne"
        OFFLINE = "HORS_LIGNE", "Hors ligne"
        PRESERIES = "PRESERIE", "Pré-série"
        SUSPENDED = "SUSPENDUE", "Suspendu"
        DEREFERENCED = "DEREFERENCEE", "Déréférencé"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The editor's root OID (mes-spec §8.2): devices and `meta.source` must sit under it.
    oid = models.CharField("OID de l'éditeur", max_length=64, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField("nom", max_length=100)
    editor_name = models.CharField("éditeur", max_length=150)
    category = models.CharField("thématique", max_length=20, choices=Category.choices)
    summary = models.CharField("description courte", max_length=300)
    description = models.TextField("description", max_length=5000)
    logo = models.FileField("logo", upload_to="catalogue/logos/", blank=True)
    web_url = models.URLField("site web", blank=True)
    ios_url = models.URLField("App Store", blank=True)
    android_url = models.URLField("Google Play", blank=True)
    cgu_url = models.URLField("conditions générales d'utilisation", blank=True)
    # Where the citizen starts the pairing (`urlSynchronisation`): the service's own page.
    pairing_url = models.URLField("adresse de synchronisation", blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ONLINE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Referenced « avec échange de données »: an OAuth client, purposes. Without it the service
    # is only listed (mes-spec §8.1).
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalogue_service",
    )
    # Raised each time the service asks for new rights: pairings approved under an older
    # version must be approved again before their deadline (wave2.md §1.4 « Re-approval »).
    rights_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = "service référencé"
        verbose_name_plural = "services référencés"

    def __str__(self) -> str:
        return self.name

    @property
    def exchanges_data(self) -> bool:
        return self.application_id is not None


class Purpose(models.Model):
    """A finalité the citizen consents to, or not, on its own (wave2.md §1.4 `FinalityModel`)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="purposes")
    code = models.CharField("code de la finalité", max_length=20)
    label = models.CharField("libellé", max_length=150)  # « Ajouter mon glucose sanguin »
    description = models.TextField("description", max_length=2000)
    # The rights version that introduced this purpose or last widened it.
    since_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["service", "code"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="one_purpose_code_per_service")
        ]

    def __str__(self) -> str:
        return f"{self.service.name} — {self.label}"


class PurposeExchange(models.Model):
    """One data category a purpose reads or writes, with its details in plain French
    (« glucose interstitiel, HbA1c, index de gestion de glycémie »)."""

    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="exchanges")
    category = models.CharField(max_length=10, choices=DataCategory.choices)
    action = models.CharField(max_length=10, choices=ExchangeAction.choices)
    details = models.CharField("précisions", max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "category", "action"], name="one_exchange_per_purpose"
            )
        ]


class Pairing(models.Model):
    """A service paired with one espace (« Services synchronisés »)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Synchronisé"
        UNPAIRED = "unpaired", "Désynchronisé"  # by the citizen
        LAPSED = "lapsed", "Arrêté faute de mise à jour des autorisations"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="pairings")
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="pairings")
    # The account that consented: the holder, or a legal representative for a child's espace.
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    approved_version = models.PositiveIntegerField(default=1)
    # Set when the service asked for new rights; the pairing stops if not approved by then.
    reapproval_deadline = models.DateTimeField(null=True, blank=True)
    purposes = models.ManyToManyField(Purpose, through="Consent", related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "patient"],
                condition=Q(status="active"),
                name="one_active_pairing_per_service_and_espace",
            )
        ]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"{self.service.name} ↔ {self.patient_id}"


class Consent(models.Model):
    """The citizen's consent to one purpose of a pairing. Withdrawing it deletes the row (the
    trace keeps the history)."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="consents")
    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="consents")
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pairing", "purpose"], name="one_consent_per_purpose")
        ]


class PairingToken(models.Model):
    """Binds what django-oauth-toolkit issues for a pairing (the authorization code, then the
    access and refresh tokens, and each rotation's) to that pairing. Written by the OAuth
    validator (mes.catalogue.oauth); a token without this row is not an app's token."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="tokens")
    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pairing_link",
    )
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pairing_link",
    )
    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pairing_link",
    )


class ServiceReport(models.Model):
    """« Signaler ce service »: a citizen reports a service that does not meet the referencing
    requirements; the operators read the reports in the back office."""

    class Reason(models.TextChoices):
        DATA = "donnees", "Utilisation de mes données"
        CONTENT = "contenu", "Contenu inexact ou trompeur"
        SECURITY = "securite", "Problème de sécurité"
        ACCESSIBILITY = "accessibilite", "Accessibilité"
        OTHER = "autre", "Autre"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=15, choices=Reason.choices)
    comment = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)


class ServiceDevice(models.Model):
    """A device (PhdDevice) a service declared while sending measures (mes-spec §9.2): created
    once per identifier by the Bundle's conditional create (`ifNoneExist`), then found again, so
    that the transaction answers 201 the first time and 200 after. The identifier's OID sits
    under the service's root OID."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="devices")
    system = models.CharField(max_length=80)  # urn:oid:<OID>
    value = models.CharField(max_length=100)
    display = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "system", "value"], name="one_device_per_identifier"
            )
        ]

    @property
    def identifier(self) -> str:
        return f"{self.system}|{self.value}"


class ProfileShare(models.Model):
    """The synthèse du profil médical a citizen sent to a paired service (mes-spec §8.1: « the
    holder can send the profil médical to the app »): a snapshot, its PDF sealed in the vault
    under this row's id, read by the service through the apps' API while the pairing stands
    and its profil purpose is consented."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="profile_shares")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sections = models.CharField(max_length=300)  # the rubriques, as listed in the PDF
    size = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
