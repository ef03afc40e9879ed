"""Forms of the profil médical screens (portal.md §2). They check the shape of the input (numbers
are numbers, choices are known); the rules (required fields, limits, refused characters, dates
after the birth date) stay in mes.medical_profile, which reports them on the right field."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from django import forms
from django.forms.boundfield import BoundField
from django.utils import timezone

from mes.identity.models import Organisation
from mes.lib import codes
from mes.lib.errors import InvalidInput
from mes.medical_profile import dates, inputs
from mes.medical_profile.dates import DateParts
from mes.medical_profile.lifestyle import INTEGER, Section
from mes.medical_profile.models import (
    ADDRESS_MAX,
    CITY_MAX,
    COMMENT_MAX,
    DOSAGE_MAX,
    NAME_MAX,
    PHONE_MAX,
    POSTAL_CODE_MAX,
    REACTION_MAX,
    Allergy,
    BloodGroup,
    Contact,
    Disability,
    Hospitalisation,
    ProfileEntry,
    Relative,
    Treatment,
)
from mes.web import widgets
from mes.web.forms import MesForm


def _text(max_length: int, **attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", "maxlength": max_length, **attrs})


def _area(max_length: int = COMMENT_MAX, rows: int = 4, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(
        attrs={"class": "form-control", "rows": rows, "maxlength": max_length, **attrs}
    )


def _number(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric", **attrs})


def _comment(
    label: str = "Informations complémentaires (facultatif)", hint: str = ""
) -> forms.CharField:
    help_text = f"{hint} {COMMENT_MAX} caractères au maximum.".strip()
    return forms.CharField(label=label, required=False, help_text=help_text, widget=_area())


def _required(label: str) -> dict[str, str]:
    return {"required": f"Le champ « {label} » est obligatoire."}


def _name_field(label: str, hint: str = "", max_length: int = NAME_MAX) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=f"{hint} {max_length} caractères au maximum.".strip(),
        widget=_text(max_length, autocomplete="off"),
        error_messages=_required(label),
    )


def _date_part(label: str, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        widget=_number(min=low, max=high),
        error_messages={"invalid": f"Le champ « {label} » doit être un nombre."},
    )


class UUIDChoices(forms.MultipleChoiceField):
    """Checkboxes of the patient's entries: the form checks the shape only; the domain checks
    that each one is this patient's (the choices are set for display once the policy passed)."""

    def valid_value(self, value: Any) -> bool:
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class DateGroup:
    """Day / month / year of a partial date, shown as one group of three fields."""

    legend: str
    day: BoundField
    month: BoundField
    year: BoundField
    hint: str = ""

    @property
    def errors(self) -> list[str]:
        return [*self.day.errors, *self.month.errors, *self.year.errors]


def _date_parts(*prefixes: str) -> list[str]:
    """The day, month and year fields of each partial date, in a form's field_order."""
    return [f"{prefix}_{part}" for prefix in prefixes for part in ("day", "month", "year")]


class ProfileForm(MesForm):
    """A rubric's form: fields named like the model columns, so editing starts from them."""

    # Partial dates: (prefix, legend, required).
    dates: ClassVar[tuple[tuple[str, str, bool], ...]] = ()
    # Required names checked here too, so that every error shows at once: (field, label).
    names: ClassVar[tuple[tuple[str, str], ...]] = ()
    has_treatments: ClassVar[bool] = False

    def __init__(
        self,
        *args: Any,
        treatments: list[Treatment] | None = None,
        birth_date: date | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.birth_date = birth_date
        for prefix, legend, _ in self.dates:
            self.fields[f"{prefix}_day"] = _date_part("Jour", 1, 31)
            self.fields[f"{prefix}_month"] = _date_part("Mois", 1, 12)
            self.fields[f"{prefix}_year"] = _date_part("Année", 1900, 2100)
            self.fields[f"{prefix}_year"].label = f"Année ({legend})"
        if self.has_treatments and treatments:
            field = UUIDChoices(
                label="Traitements liés (facultatif)",
                required=False,
                widget=widgets.checkboxes(),
                help_text="Associer un traitement déjà renseigné.",
            )
            field.choices = [(str(t.pk), t.name) for t in treatments or []]
            self.fields["treatments"] = field
        # The date and treatment fields exist only now: put them in their place.
        self.order_fields(self.field_order)

    def clean(self) -> dict[str, Any]:
        """The domain's own checks of names and dates, all at once (it checks them again)."""
        data = super().clean() or {}
        for name, label in self.names:
            if self.has_error(name):
                continue
            try:
                inputs.name(data.get(name, ""), label=label, field=name)
            except InvalidInput as exc:
                self.add_error(name, str(exc))
        if self.birth_date is None:
            return data
        for prefix, legend, required in self.dates:
            if any(self.has_error(f"{prefix}_{part}") for part in ("day", "month", "year")):
                continue
            try:
                dates.resolve(
                    self.date_parts(prefix),
                    label=legend,
                    prefix=prefix,
                    birth_date=self.birth_date,
                    today=timezone.localdate(),
                    required=required,
                )
            except InvalidInput as exc:
                self.add_error(exc.field, str(exc))
        return data

    @classmethod
    def initial_from(cls, entry: ProfileEntry) -> dict[str, Any]:
        """The form's values from an entry (the field names are the model's)."""
        initial: dict[str, Any] = {}
        for name in cls.base_fields:
            initial[name] = getattr(entry, name)
        for prefix, _, _ in cls.dates:
            for part in ("day", "month", "year"):
                initial[f"{prefix}_{part}"] = getattr(entry, f"{prefix}_{part}")
        if cls.has_treatments:
            initial["treatments"] = [str(t.pk) for t in entry.treatments.all()]  # type: ignore[attr-defined]
        return initial

    def date_parts(self, prefix: str) -> DateParts:
        data = self.cleaned_data
        return DateParts(
            year=data.get(f"{prefix}_year"),
            month=data.get(f"{prefix}_month"),
            day=data.get(f"{prefix}_day"),
        )

    def treatment_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(uuid.UUID(v) for v in self.cleaned_data.get("treatments") or [])

    def date_groups(self) -> dict[str, DateGroup]:
        groups = {}
        for prefix, legend, required in self.dates:
            suffix = "(année obligatoire)" if required else "(facultatif)"
            groups[prefix] = DateGroup(
                legend=f"{legend} {suffix}",
                day=self[f"{prefix}_day"],
                month=self[f"{prefix}_month"],
                year=self[f"{prefix}_year"],
            )
        return groups

    def layout(self) -> list[BoundField | DateGroup]:
        """The fields in order, the three parts of each date as one group."""
        groups = self.date_groups()
        date_fields = {f"{p}_{part}" for p in groups for part in ("day", "month", "year")}
        out: list[BoundField | DateGroup] = []
        for name in self.fields:
            if name in date_fields:
                prefix = name.rsplit("_", 1)[0]
                if name.endswith("_day"):
                    out.append(groups[prefix])
                continue
            out.append(self[name])
        return out

    def to_input(self) -> inputs.EntryInput:
        """The domain's input for this rubric, from the cleaned data: each rubric's form says it
        (DiseaseForm, TreatmentForm, …); the base form is never used alone."""
        raise NotImplementedError(f"{type(self).__name__} must define to_input()")


class DiseaseForm(ProfileForm):
    dates = (("start", "Date de début", True), ("end", "Date de fin", False))
    names = (("name", "Nom de la maladie ou du sujet de santé"),)
    has_treatments = True

    name = _name_field("Nom de la maladie ou du sujet de santé", "Ex. : Diabète de type 2.")
    ongoing = forms.BooleanField(
        label="Maladie ou sujet de santé en cours", required=False, widget=widgets.checkbox()
    )
    comment = _comment(hint="Ex. : sévérité, praticiens rencontrés, diagnostic, épisodes…")

    field_order = [
        "name",
        "ongoing",
        *_date_parts("start", "end"),
        "treatments",
        "comment",
    ]

    def to_input(self) -> inputs.DiseaseInput:
        d = self.cleaned_data
        return inputs.DiseaseInput(
            name=d["name"],
            ongoing=d["ongoing"],
            start=self.date_parts("start"),
            end=self.date_parts("end"),
            comment=d["comment"],
            treatment_ids=self.treatment_ids(),
        )


class TreatmentForm(ProfileForm):
    dates = (("start", "Date de début", True), ("end", "Date de fin", False))
    names = (("name", "Nom du traitement"),)

    name = _name_field("Nom du traitement", "Ex. : Metformine 1000 mg.")
    ongoing = forms.BooleanField(
        label="Traitement en cours", required=False, widget=widgets.checkbox()
    )
    dosage = forms.CharField(
        label="Posologie (facultatif)",
        required=False,
        help_text=f"Ex. : 1 comprimé matin et soir, pendant le repas. "
        f"{DOSAGE_MAX} caractères au maximum.",
        widget=_area(DOSAGE_MAX, rows=3),
    )
    comment = _comment(hint="Ex. : maladie associée, effets indésirables ressentis…")

    field_order = [
        "name",
        "ongoing",
        *_date_parts("start", "end"),
        "dosage",
        "comment",
    ]

    def to_input(self) -> inputs.TreatmentInput:
        d = self.cleaned_data
        return inputs.TreatmentInput(
            name=d["name"],
            ongoing=d["ongoing"],
            start=self.date_parts("start"),
            end=self.date_parts("end"),
            dosage=d["dosage"],
            comment=d["comment"],
        )


class HospitalisationForm(ProfileForm):
    dates = (("admission", "Date d'admission", True),)
    names = (("reason", "Motif"),)

    reason = _name_field("Motif", "Ex. : Appendicite.")
    stay_length = forms.IntegerField(
        label="Durée du séjour (facultatif)",
        required=False,
        help_text="Un nombre de 1 à 999, puis l'unité.",
        widget=_number(min=1, max=inputs.STAY_MAX),
        error_messages={"invalid": "Saisir une durée de séjour valide"},
    )
    stay_unit = forms.ChoiceField(
        label="Unité de la durée",
        required=False,
        choices=[("", "- Unité -"), *Hospitalisation.DurationUnit.choices],
        widget=widgets.select(),
    )
    comment = _comment()

    field_order = [
        "reason",
        *_date_parts("admission"),
        "stay_length",
        "stay_unit",
        "comment",
    ]

    def to_input(self) -> inputs.HospitalisationInput:
        d = self.cleaned_data
        return inputs.HospitalisationInput(
            reason=d["reason"],
            admission=self.date_parts("admission"),
            stay_length=d["stay_length"],
            stay_unit=d["stay_unit"],
            comment=d["comment"],
        )


class DisabilityForm(ProfileForm):
    names = (("name", "Nom du handicap"),)

    name = _name_field("Nom du handicap")
    kinds = forms.MultipleChoiceField(
        label="Type de handicap (facultatif)",
        required=False,
        choices=Disability.Kind.choices,
        widget=widgets.checkboxes(),
    )
    incapacity_rate = forms.ChoiceField(
        label="Taux d'incapacité (facultatif)",
        required=False,
        choices=Disability.Rate.choices,
        widget=widgets.radios(),
        help_text="La CDAPH fixe une fourchette de taux plutôt qu'un taux précis.",
    )
    technical_aid = forms.CharField(
        label="Aide technique (facultatif)",
        required=False,
        help_text=f"Ex. : appareil auditif, fauteuil roulant… {NAME_MAX} caractères au maximum.",
        widget=_text(NAME_MAX),
    )
    human_aid = forms.ChoiceField(
        label="Aide humaine (facultatif)",
        required=False,
        choices=Disability.HumanAid.choices,
        widget=widgets.radios(),
    )
    comment = _comment(
        "Commentaire (facultatif)",
        "Ce qui facilite ou complique les soins : fragilités, façon de communiquer, "
        "expression de la douleur…",
    )

    def to_input(self) -> inputs.DisabilityInput:
        d = self.cleaned_data
        return inputs.DisabilityInput(
            name=d["name"],
            kinds=tuple(d["kinds"]),
            incapacity_rate=d["incapacity_rate"],
            technical_aid=d["technical_aid"],
            human_aid=d["human_aid"],
            comment=d["comment"],
        )


class AllergyForm(ProfileForm):
    dates = (("start", "Date de début", False),)
    names = (("name", "Nom de l'allergène"),)
    has_treatments = True

    name = _name_field("Nom de l'allergène", "Ex. : Pénicilline, arachide, pollen.")
    reaction = forms.CharField(
        label="Réaction (facultatif)",
        required=False,
        help_text=f"Ex. : urticaire, gêne respiratoire. {REACTION_MAX} caractères au maximum.",
        widget=_text(REACTION_MAX),
    )
    severity = forms.ChoiceField(
        label="Sévérité (facultatif)",
        required=False,
        choices=[("", "- Non précisée -"), *Allergy.Severity.choices],
        widget=widgets.select(),
    )
    comment = _comment(hint="Ex. : épisodes allergiques, intolérances, conduite à tenir…")

    field_order = [
        "name",
        "reaction",
        "severity",
        *_date_parts("start"),
        "treatments",
        "comment",
    ]

    def to_input(self) -> inputs.AllergyInput:
        d = self.cleaned_data
        return inputs.AllergyInput(
            name=d["name"],
            reaction=d["reaction"],
            severity=d["severity"],
            start=self.date_parts("start"),
            comment=d["comment"],
            treatment_ids=self.treatment_ids(),
        )


class FamilyHistoryForm(ProfileForm):
    names = (("name", "Nom de la maladie"),)

    name = _name_field("Nom de la maladie", "Ex. : Diabète de type 1.")
    relative = forms.ChoiceField(
        label="Lien familial",
        error_messages={"required": "Sélectionnez le lien familial."},
        choices=[("", "- Sélectionnez le lien -"), *Relative.choices],
        widget=widgets.select(),
    )
    comment = _comment(hint="Ex. : âge au diagnostic, sévérité, traitements…")

    def to_input(self) -> inputs.FamilyHistoryInput:
        d = self.cleaned_data
        return inputs.FamilyHistoryInput(
            name=d["name"], relative=d["relative"], comment=d["comment"]
        )


ROLE_FIELDS = ("is_emergency", "is_trusted", "is_caregiver", "is_helped")


class ContactForm(ProfileForm):
    names = (("last_name", "Nom"), ("first_name", "Prénom"), ("city", "Ville"))

    is_emergency = forms.BooleanField(
        label="Contact d'urgence", required=False, widget=widgets.checkbox()
    )
    is_trusted = forms.BooleanField(
        label="Personne de confiance", required=False, widget=widgets.checkbox()
    )
    is_caregiver = forms.BooleanField(
        label="Proche aidant", required=False, widget=widgets.checkbox()
    )
    is_helped = forms.BooleanField(label="Proche aidé", required=False, widget=widgets.checkbox())
    last_name = _name_field("Nom", "Ex. : Dupont.")
    first_name = _name_field("Prénom", "Ex. : Pierre.")
    link = forms.ChoiceField(
        label="Lien avec ce contact",
        error_messages={"required": "Choisissez le lien avec ce contact."},
        choices=[("", "- Sélectionnez le lien -"), *Contact.Link.choices],
        widget=widgets.select(),
    )
    phone1 = forms.CharField(
        label="Téléphone 1",
        error_messages=_required("Téléphone 1"),
        help_text="De préférence un mobile. Ex. : 06 12 34 56 78.",
        widget=_text(PHONE_MAX, type="tel", autocomplete="off"),
    )
    phone2 = forms.CharField(
        label="Téléphone 2 (facultatif)",
        required=False,
        widget=_text(PHONE_MAX, type="tel", autocomplete="off"),
    )
    email = forms.CharField(
        label="Adresse e-mail (facultatif)",
        required=False,
        help_text="Ex. : mon-adresse@email.com",
        widget=_text(254, type="email", autocomplete="off"),
    )
    address = forms.CharField(
        label="Adresse postale",
        error_messages=_required("Adresse postale"),
        help_text=f"{ADDRESS_MAX} caractères au maximum.",
        widget=_text(ADDRESS_MAX, autocomplete="off"),
    )
    postal_code = forms.CharField(
        label="Code postal",
        widget=_text(POSTAL_CODE_MAX, autocomplete="off"),
        error_messages=_required("Code postal"),
    )
    city = forms.CharField(label="Ville", widget=_text(CITY_MAX), error_messages=_required("Ville"))
    country = forms.CharField(label="Pays (facultatif)", required=False, widget=_text(CITY_MAX))

    def roles(self) -> list[BoundField]:
        return [self[name] for name in ROLE_FIELDS]

    def layout(self) -> list[BoundField | DateGroup]:
        return [self[name] for name in self.fields if name not in ROLE_FIELDS]

    def to_input(self) -> inputs.ContactInput:
        d = self.cleaned_data
        return inputs.ContactInput(
            last_name=d["last_name"],
            first_name=d["first_name"],
            link=d["link"],
            phone1=d["phone1"],
            phone2=d["phone2"],
            email=d["email"],
            address=d["address"],
            postal_code=d["postal_code"],
            city=d["city"],
            country=d["country"],
            is_emergency=d["is_emergency"],
            is_trusted=d["is_trusted"],
            is_caregiver=d["is_caregiver"],
            is_helped=d["is_helped"],
        )


class BloodGroupForm(MesForm):
    value = forms.ChoiceField(
        label="Groupe sanguin",
        choices=BloodGroup.Value.choices,
        widget=widgets.radios(),
        error_messages={"required": "Choisissez un groupe sanguin."},
    )


class OrganDonationForm(MesForm):
    acknowledged = forms.BooleanField(
        label="Je déclare avoir pris connaissance des dispositions réglementaires relatives au "
        "don d'organes et de tissus.",
        required=False,
        widget=widgets.checkbox(),
    )


class ProfessionalSearchForm(MesForm):
    """« Rechercher un professionnel de santé »: name, commune, profession (GET)."""

    nom = forms.CharField(label="Nom ou prénom", required=False, widget=_text(100))
    commune = forms.CharField(label="Commune", required=False, widget=_text(100))
    profession = forms.ChoiceField(label="Profession", required=False, widget=widgets.select())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("profession").choices = [
            ("", "- Toutes les professions -"),
            *sorted(codes.professions().items(), key=lambda kv: kv[1]),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("nom", "").strip() or data.get("commune", "").strip()) and not data.get(
            "profession"
        ):
            raise forms.ValidationError("Saisissez au moins un champ.")
        return data


class StructureSearchForm(MesForm):
    """« Ajouter un établissement de santé »: name, commune, type (GET)."""

    etablissement = forms.CharField(label="Nom", required=False, widget=_text(100))
    ville = forms.CharField(label="Commune", required=False, widget=_text(100))
    type = forms.ChoiceField(
        label="Type d'établissement",
        required=False,
        choices=[
            ("", "- Tous les types -"),
            *[(k, v) for k, v in Organisation.Kind.choices if k != Organisation.Kind.INSURER],
        ],
        widget=widgets.select(),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("etablissement", "").strip() or data.get("ville", "").strip()) and (
            not data.get("type")
        ):
            raise forms.ValidationError("Saisissez au moins un champ.")
        return data


class LifestyleSectionForm(MesForm):
    """One section of the habitudes de vie, built from the catalogue (data, not code)."""

    def __init__(self, *args: Any, section: Section, first_name: str | None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.section = section
        for q in section.questions:
            label = q.label_for(first_name)
            if q.type == INTEGER:
                self.fields[q.name] = forms.CharField(
                    label=label,
                    required=False,
                    help_text=q.help,
                    widget=_text(q.max_length, inputmode="numeric", autocomplete="off"),
                )
            else:
                self.fields[q.name] = forms.ChoiceField(
                    label=label,
                    required=False,
                    help_text=q.help,
                    choices=[(o.value, o.label) for o in q.options],
                    widget=widgets.radios(),
                )
            if q.display_on_question:
                parent = section.questions[
                    [x.name for x in section.questions].index(q.display_on_question)
                ]
                shown_for = " ou ".join(
                    f"« {parent.option_label(v)} »" for v in q.display_on_values
                )
                note = f"À renseigner si vous avez répondu {shown_for} à la question précédente."
                self.fields[q.name].help_text = f"{note} {q.help}".strip()


FORMS: dict[str, type[ProfileForm]] = {
    "DISEASES": DiseaseForm,
    "TREATMENTS": TreatmentForm,
    "HOSPITALIZATIONS": HospitalisationForm,
    "DISABILITIES": DisabilityForm,
    "ALLERGIES": AllergyForm,
    "FAMILY_HISTORIES": FamilyHistoryForm,
    "CONTACTS": ContactForm,
}
