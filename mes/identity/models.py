"""People and organisations: users who log in, citizens (INS), professionals (RPPS), FINESS."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from mes.lib import codes, rpps
from mes.lib.ins import OID_INS_NIA, OID_INS_NIR


class User(AbstractUser):
    """A login. Citizens log in with an identifiant, professionals with their RPPS."""

    class Kind(models.TextChoices):
        CITIZEN = "citizen", "Usager"
        PROFESSIONAL = "professional", "Professionnel de santé"
        OPERATOR = "operator", "Opérateur"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CITIZEN)
    phone = models.CharField("téléphone mobile", max_length=20, blank=True)


class Citizen(models.Model):
    """A person who has (or could have) an espace: identified by the INS and its traits.

    A child has no login of their own: their legal representatives act for them.
    """

    class Sex(models.TextChoices):
        FEMALE = "F", "Féminin"
        MALE = "M", "Masculin"
        OTHER = "I", "Indéterminé"

    class InsKind(models.TextChoices):
        NIR = "NIR", "NIR"
        NIA = "NIA", "NIA"

    class IdentityStatus(models.TextChoices):
        PROV = "PROV", "Identité provisoire"
        RECUP = "RECUP", "Identité récupérée"
        VALI = "VALI", "Identité validée"
        QUAL = "QUAL", "Identité qualifiée"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="citizen"
    )
    # Unique by the constraint below, not by unique=True: on PostgreSQL that would add a second
    # index (varchar_pattern_ops, for LIKE 'prefix%') that no query reads and every new
    # citizen pays for (docs/decisions.md, « Import: indexes »).
    ins = models.CharField("matricule INS", max_length=15)
    ins_kind = models.CharField(max_length=3, choices=InsKind.choices, default=InsKind.NIR)
    identity_status = models.CharField(
        max_length=5, choices=IdentityStatus.choices, default=IdentityStatus.QUAL
    )
    birth_name = models.CharField("nom de naissance", max_length=100)
    used_name = models.CharField("nom utilisé", max_length=100, blank=True)
    first_names = models.CharField("prénom(s) de naissance", max_length=200)
    first_name = models.CharField("premier prénom de naissance", max_length=100)
    used_first_name = models.CharField("prénom utilisé", max_length=100, blank=True)
    birth_date = models.DateField("date de naissance")
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_place_insee = models.CharField("lieu de naissance (code INSEE)", max_length=5)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "usager"
        indexes = [
            # The « bientôt dû » reminders select the people born on each opening day
            # (mes.agenda.reminders.prevention_candidates_insert): without it, a full scan of
            # every citizen each day (mes/ops/tests/test_explain.py).
            models.Index(fields=["birth_date"], name="identity_citizen_birth_date"),
        ]
        constraints = [
            # The name PostgreSQL gave the former unique=True: the index is kept as it is.
            models.UniqueConstraint(fields=["ins"], name="identity_citizen_ins_key"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.used_first_name or self.first_name} {self.used_name or self.birth_name}"

    @property
    def ins_oid(self) -> str:
        return OID_INS_NIR if self.ins_kind == self.InsKind.NIR else OID_INS_NIA

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def is_minor(self, day: date | None = None) -> bool:
        """Under the age of majority (MES_MAJORITY_AGE) on `day`, France's today by default:
        the one test behind a minor's secret care, the parents' management, the majority."""
        return self.age_on(day or timezone.localdate()) < settings.MES_MAJORITY_AGE


class Organisation(models.Model):
    """A structure known by its FINESS (établissement, pharmacie, laboratoire, cabinet)."""

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", "Établissement de santé"
        PHARMACY = "pharmacy", "Pharmacie"
        LABORATORY = "laboratory", "Laboratoire de biologie"
        PRACTICE = "practice", "Cabinet"
        SAMU = "samu", "SAMU – Centre 15"
        INSURER = "insurer", "Assurance Maladie"
        SOCIAL = "social", "Structure sociale ou médico-sociale"

    finess = models.CharField("FINESS", max_length=9, unique=True)
    name = models.CharField("nom", max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    city = models.CharField("ville", max_length=100, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def national_id(self) -> str:
        return "1" + self.finess


class Professional(models.Model):
    """A health (or social) professional known by RPPS, with profession and specialty."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="professional"
    )
    rpps = models.CharField("RPPS", max_length=11, unique=True)
    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100)
    profession = models.CharField("profession (TRE_G15)", max_length=8)
    specialty = models.CharField("spécialité (TRE_R38)", max_length=8, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    email = models.EmailField(blank=True)

    class Meta:
        verbose_name = "professionnel"

    def __str__(self) -> str:
        return self.display_name

    @property
    def national_id(self) -> str:
        return rpps.national_id(self.rpps)

    @property
    def profession_label(self) -> str:
        return codes.professions().get(self.profession, self.profession)

    @property
    def specialty_label(self) -> str:
        return codes.specialties().get(self.specialty, self.specialty)

    @property
    def display_name(self) -> str:
        title = "Dr " if self.profession in {"10", "40"} else ""
        return f"{title}{self.first_name} {self.last_name}"


class OneTimeCode(models.Model):
    """A 6-digit login code; only its hash is stored. Single use, 15 minutes."""

    class Channel(models.TextChoices):
        EMAIL = "email", "e-mail"
        SMS = "sms", "SMS"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="one_time_codes")
    code_hash = models.CharField(max_length=128)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Wrong guesses against this code: past settings.MES_OTP_MAX_ATTEMPTS it stops working.
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]


class SignInFailure(models.Model):
    """One failed sign-in, counted to slow down guessing (docs/decisions.md, issue 13 item 5).

    `key` is an HMAC of the client address or of the identifier typed (known or not), so the
    table holds neither addresses nor identifiers, and an unknown identifier counts exactly like
    a known one. Rows older than the longest window are deleted as new ones come.
    """

    class Scope(models.TextChoices):
        ADDRESS = "address", "adresse du client"
        ACCOUNT = "account", "identifiant"
        TOKEN_ADDRESS = "token_address", "adresse du client (jetons OAuth)"
        TOKEN_CLIENT = "token_client", "client OAuth"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"])]


class Passkey(models.Model):
    """A WebAuthn credential (« appareil associé ») that signs its owner in without password
    and code (portal.md §11.3, issue 8 item 7). Only the public key is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField("nom de l'appareil", max_length=60)
    credential_id = models.BinaryField(max_length=1023, unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.CharField(max_length=100, blank=True)  # comma-separated hints
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "clé d'accès"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name
