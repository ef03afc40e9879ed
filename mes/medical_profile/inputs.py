"""What the citizen enters in each rubric, and the rules it must follow (portal.md §1.7, §2).

Each input is a typed, frozen value; `fields(patient, today)` checks it and returns the model
columns, or raises InvalidInput (French message, the form field at fault) and changes nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.lib.text import check_text
from mes.records.actions import check_name

from . import dates
from .dates import DateParts, PartialDate
from .models import (
    ADDRESS_MAX,
    CITY_MAX,
    COMMENT_MAX,
    DOSAGE_MAX,
    NAME_MAX,
    REACTION_MAX,
    Allergy,
    Contact,
    Disability,
    Hospitalisation,
    Relative,
    Treatment,
)
from .rubrics import Rubric

# portal.md §2.5: « Durée du séjour » is an integer of at most 3 digits.
STAY_MAX = 999
# French numbers: 10 digits from 0; international ones: + and 8 to 15 digits (E.164).
PHONE_FR = re.compile(r"^0[1-9]\d{8}$")
PHONE_INTL = re.compile(r"^\+\d{8,15}$")
POSTAL_FR = re.compile(r"^\d{5}$")
POSTAL_OTHER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
FRANCE = {"", "france"}


class EntryInput(Protocol):
    rubric: ClassVar[Rubric]

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]: ...


# --- shared checks ----------------------------------------------------------------------------


def name(value: str, *, label: str, field: str, max_length: int = NAME_MAX) -> str:
    """A required name: trimmed, not too long, none of the refused characters (§1.7)."""
    try:
        return check_name(value, label=label, max_length=max_length)
    except InvalidInput as exc:
        raise InvalidInput(str(exc), field=field) from exc


def text(value: str, *, label: str, field: str, max_length: int = COMMENT_MAX) -> str:
    """An optional free text (« Informations complémentaires », posologie)."""
    value = check_text((value or "").strip(), label=label, field=field, multiline=True)
    if len(value) > max_length:
        raise InvalidInput(
            f"Le champ « {label} » ne doit pas dépasser {max_length} caractères.", field=field
        )
    return value


def required_text(value: str, *, label: str, field: str, max_length: int) -> str:
    value = text(value, label=label, field=field, max_length=max_length)
    if not value:
        raise InvalidInput(f"Le champ « {label} » est obligatoire.", field=field)
    return value


def choice(value: str, choices: Any, *, message: str, field: str, required: bool) -> str:
    if not value:
        if required:
            raise InvalidInput(message, field=field)
        return ""
    if value not in choices.values:
        raise InvalidInput(message, field=field)
    return value


def _date(
    parts: DateParts, patient: Citizen, today: date, *, label: str, prefix: str, required: bool
) -> PartialDate | None:
    return dates.resolve(
        parts,
        label=label,
        prefix=prefix,
        birth_date=patient.birth_date,
        today=today,
        required=required,
    )


def _period(
    patient: Citizen, today: date, *, start: DateParts, end: DateParts, ongoing: bool, what: str
) -> dict[str, Any]:
    """Start (year required) and end (only when not ongoing) of a disease or a treatment."""
    begin = _date(start, patient, today, label="Date de début", prefix="start", required=True)
    finish = _date(end, patient, today, label="Date de fin", prefix="end", required=False)
    if ongoing and finish is not None:
        raise InvalidInput(f"{what} en cours n'a pas de date de fin.", field="end_year")
    dates.check_period(begin, finish, end_label="Date de fin", prefix="end")
    return {**dates.columns("start", begin), **dates.columns("end", finish)}


def _treatments(patient: Citizen, ids: tuple[uuid.UUID, ...]) -> list[Treatment]:
    """Treatments to link: they must be this patient's."""
    found = list(Treatment.objects.filter(patient=patient, pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidInput("Ce traitement n'existe pas.", field="treatments")
    return found


# --- the rubrics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiseaseInput:
    """Maladies et sujets de santé (portal.md §2.3)."""

    rubric: ClassVar[Rubric] = Rubric.DISEASES
    name: str
    start: DateParts
    ongoing: bool = False
    end: DateParts = field(default_factory=DateParts)
    comment: str = ""
    treatment_ids: tuple[uuid.UUID, ...] = ()

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]:
        return {
            "name": name(self.name, label="Nom de la maladie ou du sujet de santé", field="name"),
            "ongoing": self.ongoing,
            **_period(
                patient,
                today,
                start=self.start,
                end=self.end,
                ongoing=self.ongoing,
                what="Une maladie ou un sujet de santé",
            ),
            "comment": text(self.comment, label="Informations complémentaires", field="comment"),
            "treatments": _treatments(patient, self.treatment_ids),
        }


@dataclass(frozen=True)
class TreatmentInput:
    """Traitements (portal.md §2.4)."""

    rubric: ClassVar[Rubric] = Rubric.TREATMENTS
    name: str
    start: DateParts
    ongoing: bool = False
    end: DateParts = field(default_factory=DateParts)
    dosage: str = ""
    comment: str = ""

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]:
        return {
            "name": name(self.name, label="Nom du traitement", field="name"),
            "ongoing": self.ongoing,
            **_period(
                patient,
                today,
                start=self.start,
                end=self.end,
                ongoing=self.ongoing,
                what="Un traitement",
            ),
            "dosage": text(self.dosage, label="Posologie", field="dosage", max_length=DOSAGE_MAX),
            "comment": text(self.comment, label="Informations complémentaires", field="comment"),
        }


@dataclass(frozen=True)
class HospitalisationInput:
    """Hospitalisations et chirurgies (portal.md §2.5)."""

    rubric: ClassVar[Rubric] = Rubric.HOSPITALIZATIONS
    reason: str
    admission: DateParts
    stay_length: int | None = None
    stay_unit: str = ""
    comment: str = ""

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]:
        admission = _date(
            self.admission,
            patient,
            today,
            label="Date d'admission",
            prefix="admission",
            required=True,
        )
        length, unit = self.stay_length, self.stay_unit
        if length is not None or unit:
            if length is None or not 1 <= length <= STAY_MAX or not unit:
                raise InvalidInput("Saisir une durée de séjour valide", field="stay_length")
            choice(
                unit,
                Hospitalisation.DurationUnit,
                message="Saisir une durée de séjour valide",
                field="stay_unit",
                required=True,
            )
        return {
            "reason": name(self.reason, label="Motif", field="reason"),
            **dates.columns("admission", admission),
            "stay_length": length,
            "stay_unit": unit,
            "comment": text(self.comment, label="Informations complémentaires", field="comment"),
        }


@dataclass(frozen=True)
class DisabilityInput:
    """Handicaps (portal.md §2.6)."""

    rubric: ClassVar[Rubric] = Rubric.DISABILITIES
    name: str
    kinds: tuple[str, ...] = ()
    incapacity_rate: str = ""
    technical_aid: str = ""
    human_aid: str = ""
    comment: str = ""

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]:
        unknown = set(self.kinds) - set(Disability.Kind.values)
        if unknown:
            raise InvalidInput("Choisissez un type de handicap proposé.", field="kinds")
        return {
            "name": name(self.name, label="Nom du handicap", field="name"),
            "kinds": [k for k in Disability.Kind.values if k in self.kinds],
            "incapacity_rate": choice(
                self.incapacity_rate,
                Disability.Rate,
                message="Choisissez un taux d'incapacité proposé.",
                field="incapacity_rate",
                required=False,
            ),
            "technical_aid": text(
                self.technical_aid,
                label="Aide technique",
                field="technical_aid",
                max_length=NAME_MAX,
            ),
            "human_aid": choice(
                self.human_aid,
                Disability.HumanAid,
                message="Choisissez une réponse proposée.",
                field="human_aid",
                required=False,
            ),
            "comment": text(self.comment, label="Commentaire", field="comment"),
        }


@dataclass(frozen=True)
class AllergyInput:
    """Allergies (portal.md §2.8), with optional réaction, sévérité and date [INF]."""

    rubric: ClassVar[Rubric] = Rubric.ALLERGIES
    name: str
    reaction: str = ""
    severity: str = ""
    start: DateParts = field(default_factory=DateParts)
    comment: str = ""
    treatment_ids: tuple[uuid.UUID, ...] = ()

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]:
        start = _date(
            self.start, patient, today, label="Date de début", prefix="start", required=False
        )
        return {
            "name": name(self.name, label="Nom de l'allergène", field="name"),
            "reaction": text(
                self.reaction, label="Réaction", field="reaction", max_length=REACTION_MAX
            ),
            "severity": choice(
                self.severity,
                Allergy.Severity,
                message="Choisissez une sévérité proposée.",
                field="severity",
                required=False,
            ),
            **dates.columns("start", start),
            "comment": text(self.comment, label="Informations complémentaires", field="comment"),
            "treatments": _treatments(patient, self.treatment_ids),
        }


@dataclass(frozen=True)
class FamilyHistoryInput:
    """Antécédents familiaux (portal.md §2.9)."""

    rubric: ClassVar[Rubric] = Rubric.FAMILY_HISTORIES
    name: str
    relative: str
    comment: str = ""

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]:
        return {
            "name": name(self.name, label="Nom de la maladie", field="name"),
            "relative": choice(
                self.relative,
                Relative,
                message="Sélectionnez le lien familial.",
                field="relative",
                required=True,
            ),
            "comment": text(self.comment, label="Informations complémentaires", field="comment"),
        }


def phone(value: str, *, label: str, field: str, required: bool) -> str:
    """A French (0X XX XX XX XX) or international (+…) number, stored without separators."""
    compact = re.sub(r"[\s.\-()]", "", value or "")
    if not compact:
        if required:
            raise InvalidInput(f"Le champ « {label} » est obligatoire.", field=field)
        return ""
    if compact.startswith("0033"):
        compact = "+" + compact[2:]
    if not (PHONE_FR.match(compact) or PHONE_INTL.match(compact)):
        raise InvalidInput(
            f"Saisissez un numéro de téléphone valide dans « {label} », "
            "par exemple 06 12 34 56 78.",
            field=field,
        )
    return compact


@dataclass(frozen=True)
class ContactInput:
    """A person of the entourage, with one or several roles (portal.md §2.14)."""

    rubric: ClassVar[Rubric] = Rubric.CONTACTS
    last_name: str
    first_name: str
    link: str
    phone1: str
    address: str
    postal_code: str
    city: str
    phone2: str = ""
    email: str = ""
    country: str = ""
    is_emergency: bool = False
    is_trusted: bool = False
    is_caregiver: bool = False
    is_helped: bool = False

    def fields(self, patient: Citizen, today: date) -> dict[str, Any]:
        if not (self.is_emergency or self.is_trusted or self.is_caregiver or self.is_helped):
            raise InvalidInput("Choisissez au moins un rôle pour ce contact.", field="roles")
        country = text(self.country, label="Pays", field="country", max_length=CITY_MAX)
        return {
            "last_name": name(self.last_name, label="Nom", field="last_name"),
            "first_name": name(self.first_name, label="Prénom", field="first_name"),
            "link": choice(
                self.link,
                Contact.Link,
                message="Choisissez le lien avec ce contact.",
                field="link",
                required=True,
            ),
            "phone1": phone(self.phone1, label="Téléphone 1", field="phone1", required=True),
            "phone2": phone(self.phone2, label="Téléphone 2", field="phone2", required=False),
            "email": _email(self.email),
            "address": required_text(
                self.address, label="Adresse postale", field="address", max_length=ADDRESS_MAX
            ),
            "postal_code": _postal_code(self.postal_code, country),
            "city": name(self.city, label="Ville", field="city", max_length=CITY_MAX),
            "country": country,
            "is_emergency": self.is_emergency,
            "is_trusted": self.is_trusted,
            "is_caregiver": self.is_caregiver,
            "is_helped": self.is_helped,
        }


def _email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError as exc:
        raise InvalidInput(
            "Saisissez une adresse e-mail valide, par exemple mon-adresse@email.com.",
            field="email",
        ) from exc
    return value


def _postal_code(value: str, country: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput("Le champ « Code postal » est obligatoire.", field="postal_code")
    pattern = POSTAL_FR if country.lower() in FRANCE else POSTAL_OTHER
    if not pattern.match(value):
        raise InvalidInput("Saisissez un code postal valide, par exemple 75015.", "postal_code")
    return value


INPUTS: dict[Rubric, type[EntryInput]] = {
    Rubric.DISEASES: DiseaseInput,
    Rubric.TREATMENTS: TreatmentInput,
    Rubric.HOSPITALIZATIONS: HospitalisationInput,
    Rubric.DISABILITIES: DisabilityInput,
    Rubric.ALLERGIES: AllergyInput,
    Rubric.FAMILY_HISTORIES: FamilyHistoryInput,
    Rubric.CONTACTS: ContactInput,
}
