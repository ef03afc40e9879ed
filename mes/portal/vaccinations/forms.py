"""Forms of the carnet de vaccination (portal.md §2.11). They check the shape of the input; the
rules (vaccine from the list, date after birth and not in the future, lengths) stay in
mes.vaccinations.actions, which checks them again and names the field at fault."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from mes.identity.models import Professional
from mes.vaccinations import referential
from mes.vaccinations.models import COMMENT_MAX, LOT_MAX, VACCINATOR_MAX, Vaccination
from mes.web import widgets
from mes.web.forms import MesForm

LEVELS = (
    ("", "Toutes les vaccinations"),
    ("obligatoires", "Vaccinations obligatoires"),
    ("recommandees", "Vaccinations recommandées"),
)


def vaccine_choices() -> list[tuple[str, Any]]:
    """The vaccine list as option groups: vaccines by audience, then diseases alone."""
    groups: list[tuple[str, Any]] = [("", "Choisir un vaccin ou une maladie")]
    for category, items in referential.categories():
        groups.append((category, [(v.code, v.display) for v in items]))
    return groups


class VaccinationForm(MesForm):
    vaccine = forms.ChoiceField(
        label="Nom de la maladie ou du vaccin",
        help_text="Ex. : VAXIGRIPTETRA ou Grippe. Si vous ne connaissez pas le nom du vaccin, "
        "choisissez la maladie en fin de liste.",
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "required": "Choisissez un vaccin ou une maladie dans la liste proposée.",
            "invalid_choice": "Choisissez un vaccin ou une maladie dans la liste proposée.",
        },
    )
    date = forms.DateField(
        label="Date de vaccination",
        widget=widgets.date_input(),
        error_messages={
            "required": "La date de vaccination est obligatoire.",
            "invalid": "Saisissez une date valide (jj/mm/aaaa).",
        },
    )
    kind = forms.ChoiceField(
        label="Type de vaccination",
        choices=Vaccination.Kind.choices,
        initial=Vaccination.Kind.UNKNOWN,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "Choisissez le type de vaccination."},
    )
    lot = forms.CharField(
        label="Lot du vaccin (facultatif)",
        required=False,
        max_length=LOT_MAX,
        help_text="Inscrit sur la vignette du vaccin ou dans le carnet de santé.",
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    vaccinator = forms.ChoiceField(
        label="Vaccinateur parmi les professionnels de santé autorisés (facultatif)",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    vaccinator_name = forms.CharField(
        label="Nom du vaccinateur (facultatif)",
        required=False,
        max_length=VACCINATOR_MAX,
        help_text="Si le professionnel n'est pas dans la liste ci-dessus.",
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    comment = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        max_length=COMMENT_MAX,
        help_text="Ex. : Contexte, effets secondaires observés…",
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )

    def __init__(self, *args: Any, professionals: list[Professional], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("vaccine").choices = vaccine_choices()
        if professionals:
            self.choice_field("vaccinator").choices = [
                ("", "Aucun de ces professionnels"),
                *((str(p.pk), f"{p.display_name} – {p.profession_label}") for p in professionals),
            ]
        else:
            del self.fields["vaccinator"]
            self.fields["vaccinator_name"].help_text = ""

    @classmethod
    def initial_for(cls, v: Vaccination) -> dict[str, Any]:
        return {
            "vaccine": v.vaccine_code,
            "date": v.date,
            "kind": v.kind,
            "lot": v.lot,
            "vaccinator": str(v.vaccinator_id) if v.vaccinator_id else "",
            "vaccinator_name": v.vaccinator_name,
            "comment": v.comment,
        }

    def action_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        chosen = data.get("vaccinator") or ""
        return {
            "vaccine_code": data["vaccine"],
            "vaccination_date": data["date"],
            "kind": data["kind"],
            "lot": data["lot"],
            "vaccinator_id": uuid.UUID(chosen) if chosen else None,
            "vaccinator_name": "" if chosen else data["vaccinator_name"],
            "comment": data["comment"],
        }
