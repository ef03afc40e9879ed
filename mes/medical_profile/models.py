"""The profil médical rubrics the citizen fills in (portal.md §2.3–2.15, mes-spec §10).

Every entry belongs to one patient, says who added it (`source`, `added_by`) and when. Only
entries whose source is the patient can be changed by the citizen; the others show « Ajouté
par … » and are read only. Length limits and the other rules are checked in actions.py.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mes.identity.models import Citizen, Organisation, Professional

from .dates import PartialDate

# portal.md §1.7: names 50 characters, free texts 3000, posologie 1000; contact address 100,
# city and country 50 (§2.14).
NAME_MAX = 50
COMMENT_MAX = 3000
DOSAGE_MAX = 1000
ADDRESS_MAX = 100
CITY_MAX = 50
PHONE_MAX = 20
POSTAL_CODE_MAX = 10
REACTION_MAX = 100


class Source(models.TextChoices):
    PATIENT = "patient", "Usager"
    PROFESSIONAL = "professional", "Professionnel de santé"
    APP = "app", "Service connecté"
    INSURER = "assurance_maladie", "Assurance Maladie"


class ProfileEntry(models.Model):
    """What every profil médical entry carries: its patient, its author, its dates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.PATIENT)
    added_by = models.CharField("ajouté par", max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def read_only(self) -> bool:
        """Entries a professional, an app or the Assurance Maladie added stay as they are."""
        return self.source != Source.PATIENT


def _partial(year: int | None, month: int | None, day: int | None) -> PartialDate | None:
    return PartialDate(year, month, day) if year is not None else None


class Treatment(ProfileEntry):
    """Traitements (portal.md §2.4)."""

    name = models.CharField("nom du traitement", max_length=NAME_MAX)
    ongoing = models.BooleanField("traitement en cours", default=False)
    start_year = models.PositiveSmallIntegerField(null=True)
    start_month = models.PositiveSmallIntegerField(null=True, blank=True)
    start_day = models.PositiveSmallIntegerField(null=True, blank=True)
    end_year = models.PositiveSmallIntegerField(null=True, blank=True)
    end_month = models.PositiveSmallIntegerField(null=True, blank=True)
    end_day = models.PositiveSmallIntegerField(null=True, blank=True)
    dosage = models.TextField("posologie", blank=True)
    comment = models.TextField("informations complémentaires", blank=True)

    class Meta:
        ordering = ["-ongoing", "-start_year", "-start_month", "-start_day", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def start(self) -> PartialDate | None:
        return _partial(self.start_year, self.start_month, self.start_day)

    @property
    def end(self) -> PartialDate | None:
        return _partial(self.end_year, self.end_month, self.end_day)


class Disease(ProfileEntry):
    """Maladies et sujets de santé (portal.md §2.3)."""

    name = models.CharField("nom de la maladie ou du sujet de santé", max_length=NAME_MAX)
    ongoing = models.BooleanField("en cours", default=False)
    start_year = models.PositiveSmallIntegerField(null=True)
    start_month = models.PositiveSmallIntegerField(null=True, blank=True)
    start_day = models.PositiveSmallIntegerField(null=True, blank=True)
    end_year = models.PositiveSmallIntegerField(null=True, blank=True)
    end_month = models.PositiveSmallIntegerField(null=True, blank=True)
    end_day = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField("informations complémentaires", blank=True)
    # Deleting a disease keeps its treatments (portal.md §2.3).
    treatments = models.ManyToManyField(Treatment, blank=True, related_name="diseases")

    class Meta:
        ordering = ["-ongoing", "-start_year", "-start_month", "-start_day", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def start(self) -> PartialDate | None:
        return _partial(self.start_year, self.start_month, self.start_day)

    @property
    def end(self) -> PartialDate | None:
        return _partial(self.end_year, self.end_month, self.end_day)


class Hospitalisation(ProfileEntry):
    """Hospitalisations et chirurgies (portal.md §2.5)."""

    class DurationUnit(models.TextChoices):
        DAY = "DAY", "Jour(s)"
        WEEK = "WEEK", "Semaine(s)"
        MONTH = "MONTH", "Mois"
        YEAR = "YEAR", "Année(s)"

    reason = models.CharField("motif", max_length=NAME_MAX)
    admission_year = models.PositiveSmallIntegerField(null=True)
    admission_month = models.PositiveSmallIntegerField(null=True, blank=True)
    admission_day = models.PositiveSmallIntegerField(null=True, blank=True)
    stay_length = models.PositiveSmallIntegerField("durée du séjour", null=True, blank=True)
    stay_unit = models.CharField(max_length=8, choices=DurationUnit.choices, blank=True)
    comment = models.TextField("informations complémentaires", blank=True)

    class Meta:
        ordering = ["-admission_year", "-admission_month", "-admission_day", "reason"]

    def __str__(self) -> str:
        return self.reason

    @property
    def admission(self) -> PartialDate | None:
        return _partial(self.admission_year, self.admission_month, self.admission_day)

    @property
    def stay_display(self) -> str:
        if self.stay_length is None or not self.stay_unit:
            return ""
        return f"{self.stay_length} {self.get_stay_unit_display()}"


class Disability(ProfileEntry):
    """Handicaps (portal.md §2.6)."""

    class Kind(models.TextChoices):
        SENSORY = "SENSORY", "Sensoriel"
        NEURO_DEVELOPMENTAL_DISORDER = (
            "NEURO_DEVELOPMENTAL_DISORDER",
            "Troubles du neuro-développement (TND)",
        )
        PSYCHIC = "PSYCHIC", "Psychique"
        ENGINE = "ENGINE", "Moteur"
        POLY_DISABILITY = "POLY_DISABILITY", "Polyhandicap"
        DISABLING_DISEASES = "DISABLING_DISEASES", "Maladies invalidantes"
        OTHERS = "OTHERS", "Autres"

    class Rate(models.TextChoices):
        UNDER_50 = "UNDER_50", "Inférieur à 50%"
        FROM_50_TO_79 = "FROM_50_TO_79", "Compris entre 50% et 79%"
        FROM_80 = "FROM_80", "Supérieur ou égal à 80%"
        UNKNOWN = "UNKNOWN", "Je ne connais pas mon taux d'incapacité"

    class HumanAid(models.TextChoices):
        YES = "YES", "Oui, je bénéficie d'une aide humaine"
        NO = "NO", "Non, je ne bénéficie d'aucune aide humaine"

    name = models.CharField("nom du handicap", max_length=NAME_MAX)
    kinds = models.JSONField("types de handicap", default=list)
    incapacity_rate = models.CharField(max_length=16, choices=Rate.choices, blank=True)
    technical_aid = models.CharField("aide technique", max_length=NAME_MAX, blank=True)
    human_aid = models.CharField(max_length=4, choices=HumanAid.choices, blank=True)
    comment = models.TextField("commentaire", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_labels(self) -> list[str]:
        labels = dict(self.Kind.choices)
        return [str(labels.get(k, k)) for k in self.kinds]


class Allergy(ProfileEntry):
    """Allergies (portal.md §2.8), with the optional structured fields the real service lacks."""

    class Severity(models.TextChoices):
        MILD = "MILD", "Légère"
        MODERATE = "MODERATE", "Modérée"
        SEVERE = "SEVERE", "Sévère"
        ANAPHYLAXIS = "ANAPHYLAXIS", "Anaphylaxie"

    name = models.CharField("nom de l'allergène", max_length=NAME_MAX)
    reaction = models.CharField("réaction", max_length=REACTION_MAX, blank=True)
    severity = models.CharField(max_length=12, choices=Severity.choices, blank=True)
    start_year = models.PositiveSmallIntegerField(null=True, blank=True)
    start_month = models.PositiveSmallIntegerField(null=True, blank=True)
    start_day = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField("informations complémentaires", blank=True)
    treatments = models.ManyToManyField(Treatment, blank=True, related_name="allergies")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def start(self) -> PartialDate | None:
        return _partial(self.start_year, self.start_month, self.start_day)


class Relative(models.TextChoices):
    MOTHER = "MOTHER", "Mère"
    FATHER = "FATHER", "Père"
    GRANDMOTHER = "GRANDMOTHER", "Grand-mère"
    GRANDFATHER = "GRANDFATHER", "Grand-père"
    SISTER = "SISTER", "Soeur"
    BROTHER = "BROTHER", "Frère"
    GREAT_GRANDMOTHER = "GREAT_GRANDMOTHER", "Arrière-grand-mère"
    GREAT_GRANDFATHER = "GREAT_GRANDFATHER", "Arrière-grand-père"
    AUNT = "AUNT", "Tante"
    UNCLE = "UNCLE", "Oncle"
    OTHER = "OTHER", "Autre"


class FamilyHistory(ProfileEntry):
    """Antécédents familiaux (portal.md §2.9)."""

    name = models.CharField("nom de la maladie", max_length=NAME_MAX)
    relative = models.CharField("lien familial", max_length=20, choices=Relative.choices)
    comment = models.TextField("informations complémentaires", blank=True)

    class Meta:
        ordering = ["name", "relative"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relative_display()})"


class BloodGroup(ProfileEntry):
    """Groupe sanguin: one value per patient (portal.md §2.7)."""

    class Value(models.TextChoices):
        APOS = "APOS", "A+"
        ANEG = "ANEG", "A−"
        BPOS = "BPOS", "B+"
        BNEG = "BNEG", "B−"
        ABPOS = "ABPOS", "AB+"
        ABNEG = "ABNEG", "AB−"
        OPOS = "OPOS", "O+"
        ONEG = "ONEG", "O−"

    value = models.CharField(max_length=5, choices=Value.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient"], name="one_blood_group")]

    def __str__(self) -> str:
        return self.get_value_display()


class NotConcerned(ProfileEntry):
    """« Je n'ai pas de … à ajouter », with its date; removed when an entry is added (§1.7)."""

    class Section(models.TextChoices):
        DISEASES = "DISEASES", "Maladies et sujets de santé"
        TREATMENTS = "TREATMENTS", "Traitements"
        HOSPITALIZATIONS = "HOSPITALIZATIONS", "Hospitalisations"
        DISABILITIES = "DISABILITIES", "Handicaps"
        ALLERGIES = "ALLERGIES", "Allergies"
        FAMILY_HISTORIES = "FAMILY_HISTORIES", "Antécédents familiaux"

    section = models.CharField(max_length=20, choices=Section.choices)
    declared_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "section"], name="one_not_concerned")
        ]


class ProfileProfessional(ProfileEntry):
    """« Mes professionnels de santé »: a professional or a structure from the directory.

    Being in this list gives no access to the dossier (portal.md §2.13). The médecin traitant is
    not stored here: it comes from the Assurance Maladie (ProfessionalAccess).
    """

    class Role(models.TextChoices):
        MIDWIFE = "MIDWIFE", "Sage-femme référente"
        PHARMACIST = "PHARMACIST", "Pharmacien correspondant"

    professional = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=12, choices=Role.choices, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(professional__isnull=True, organisation__isnull=False)
                | Q(professional__isnull=False, organisation__isnull=True),
                name="profile_pro_or_structure",
            ),
            models.UniqueConstraint(
                fields=["patient", "professional"],
                condition=Q(professional__isnull=False),
                name="profile_pro_once",
            ),
            models.UniqueConstraint(
                fields=["patient", "organisation"],
                condition=Q(organisation__isnull=False),
                name="profile_structure_once",
            ),
            models.UniqueConstraint(
                fields=["patient", "role"], condition=~Q(role=""), name="profile_role_once"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.professional is not None:
            return self.professional.display_name
        return self.organisation.name if self.organisation else ""


class Contact(ProfileEntry):
    """Entourage (portal.md §2.14): one person, several roles; one personne de confiance."""

    class Link(models.TextChoices):
        MOTHER = "MOTHER", "Mère"
        FATHER = "FATHER", "Père"
        CHILD = "CHILD", "Enfant"
        PARTNER = "PARTNER", "Conjoint(e)/Partenaire"
        GUARDIAN = "GUARDIAN", "Tuteur Légal"
        OTHER = "OTHER", "Autre"

    last_name = models.CharField("nom", max_length=NAME_MAX)
    first_name = models.CharField("prénom", max_length=NAME_MAX)
    link = models.CharField("lien avec ce contact", max_length=10, choices=Link.choices)
    phone1 = models.CharField("téléphone 1", max_length=PHONE_MAX)
    phone2 = models.CharField("téléphone 2", max_length=PHONE_MAX, blank=True)
    email = models.EmailField("adresse e-mail", blank=True)
    address = models.CharField("adresse postale", max_length=ADDRESS_MAX)
    postal_code = models.CharField("code postal", max_length=POSTAL_CODE_MAX)
    city = models.CharField("ville", max_length=CITY_MAX)
    country = models.CharField("pays", max_length=CITY_MAX, blank=True)
    is_emergency = models.BooleanField("contact d'urgence", default=False)
    is_trusted = models.BooleanField("personne de confiance", default=False)
    is_caregiver = models.BooleanField("proche aidant", default=False)
    is_helped = models.BooleanField("proche aidé", default=False)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(is_trusted=True), name="one_trusted_contact"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def role_labels(self) -> list[str]:
        roles = [
            (self.is_emergency, "Contact d'urgence"),
            (self.is_trusted, "Personne de confiance"),
            (self.is_caregiver, "Proche aidant"),
            (self.is_helped, "Proche aidé"),
        ]
        return [label for on, label in roles if on]


class OrganDonationAcknowledgement(ProfileEntry):
    """Don d'organes: « J'ai pris connaissance des dispositions… », with its date (§2.15).

    Mon espace santé records no refusal: that is the Registre national des refus.
    """

    acknowledged_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient"], name="one_organ_donation_ack")]


class LifestyleAnswer(ProfileEntry):
    """One answer to one question of the habitudes de vie catalogue (data/lifestyle.json).

    Answers are kept with their history: a new answer is a new row, the newest is the current
    one; the catalogue version it answered is kept with it.
    """

    class Origin(models.TextChoices):
        PATIENT = "PATIENT", "Saisie de l'usager"
        QUIZ = "QUIZ", "Questionnaire de santé"
        MIGRATION = "MIGRATION", "Reprise de données"

    section = models.CharField(max_length=30)
    question = models.CharField(max_length=60)
    value = models.CharField(max_length=40)
    answered_at = models.DateTimeField(default=timezone.now)
    catalogue_version = models.CharField(max_length=20)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.PATIENT)

    class Meta:
        ordering = ["-answered_at"]
        indexes = [models.Index(fields=["patient", "question", "-answered_at"])]
