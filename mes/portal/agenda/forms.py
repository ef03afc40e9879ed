"""Forms of the agenda santé (portal.md §8). They check the shape of the input; the rules
(lengths, forbidden characters, the professional from the directory) stay in
mes.agenda.actions, which checks them again and names the field at fault."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django import forms

from mes.agenda.models import NAME_MAX, NOTE_MAX, TITLE_MAX, Appointment
from mes.identity.models import Professional
from mes.web import widgets
from mes.web.forms import MesForm

OTHER = "autre"
INVALID_DATE = "Saisissez une date valide (jj/mm/aaaa)."


def _day(of_what: str) -> forms.DateField:
    """The required date of an appointment or a reminder (« du rendez-vous », « du rappel »)."""
    return forms.DateField(
        label="Date",
        widget=widgets.date_input(),
        error_messages={
            "required": f"La date {of_what} est obligatoire.",
            "invalid": INVALID_DATE,
        },
    )


def _hour(of_what: str) -> forms.TimeField:
    """The required time of an appointment or a reminder, in Europe/Paris."""
    return forms.TimeField(
        label="Heure",
        widget=widgets.time_input(),
        error_messages={
            "required": f"L'heure {of_what} est obligatoire.",
            "invalid": "Saisissez une heure valide (hh:mm).",
        },
    )


class AppointmentForm(MesForm):
    kind = forms.ChoiceField(
        label="Type de rendez-vous",
        choices=Appointment.Kind.choices,
        initial=Appointment.Kind.PRACTITIONER,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    professional = forms.ChoiceField(
        label="Professionnel de santé (facultatif)",
        required=False,
        help_text="Choisissez parmi vos professionnels de santé, ou saisissez le nom ci-dessous.",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    professional_name = forms.CharField(
        label="Nom du professionnel ou de l'établissement",
        required=False,
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    profession = forms.CharField(
        label="Type de professionnel / Profession (facultatif)",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    address = forms.CharField(
        label="Adresse (facultatif)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "street-address"}),
    )
    date = _day("du rendez-vous")
    time = _hour("du rendez-vous")
    title = forms.CharField(
        label="Titre du rendez-vous (facultatif)",
        help_text="Ex : Consultation kinésithérapeute",
        required=False,
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    note = forms.CharField(
        label="Note personnelle (facultatif)",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    reminder = forms.ChoiceField(
        label="Rappel",
        choices=Appointment.Reminder.choices,
        initial=Appointment.Reminder.DAY,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    prevention_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, professionals: list[Professional], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("professional").choices = [
            ("", "Saisir le nom moi-même"),
            *((str(p.pk), f"{p.display_name}") for p in professionals),
        ]

    def action_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        raw = d.get("professional") or ""
        return {
            "kind": d["kind"],
            "title": d["title"],
            "professional_id": uuid.UUID(raw) if raw else None,
            "professional_name": d["professional_name"],
            "profession": d["profession"],
            "address": d["address"],
            "starts_at": datetime.combine(d["date"], d["time"]),
            "note": d["note"],
            "reminder": d["reminder"],
            "prevention_key": d.get("prevention_key") or "",
        }


class ItemStatusForm(MesForm):
    status = forms.ChoiceField(
        label="L'examen a-t-il été réalisé ?",
        choices=[
            ("fait", "Oui, il a été réalisé"),
            ("ignoré", "Non, je l'ignore"),
            ("non concerné", "Je ne suis pas concerné(e)"),
            ("", "Je ne sais pas / à planifier"),
        ],
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    done_on = forms.DateField(
        label="Date de réalisation de l'examen (facultatif)",
        required=False,
        widget=widgets.date_input(),
        error_messages={"invalid": INVALID_DATE},
    )


class UserReminderForm(MesForm):
    """« Rappel » (portal.md §8)."""

    title = forms.CharField(
        label="Titre du rappel",
        help_text="Ex : Envoyer les analyses",
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        error_messages={
            "required": "Le titre du rappel est obligatoire.",
            "max_length": f"« Titre du rappel » ne doit pas dépasser {TITLE_MAX} caractères.",
        },
    )
    date = _day("du rappel")
    time = _hour("du rappel")
    note = forms.CharField(
        label="Note personnelle (facultatif)",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
        error_messages={
            "max_length": f"« Note personnelle » ne doit pas dépasser {NOTE_MAX} caractères.",
        },
    )

    def action_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "at": datetime.combine(d["date"], d["time"]),
            "note": d["note"],
        }


class SituationsForm(MesForm):
    """The situations the prevention rules need (the rules' own conditions), and a pregnancy
    in progress by its expected date of delivery."""

    situations = forms.MultipleChoiceField(
        label="Situations qui me concernent (facultatif)",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": "Choisissez les situations dans la liste."},
    )
    pregnancy_due_on = forms.DateField(
        label="Grossesse en cours : date prévue d'accouchement (facultatif)",
        required=False,
        widget=widgets.date_input(),
        error_messages={"invalid": INVALID_DATE},
    )

    def __init__(self, *args: Any, choices: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["situations"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(choices.items())
