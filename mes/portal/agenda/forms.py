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
from mes.web.forms import MesForm

OTHER = "autre"


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
    date = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "La date du rendez-vous est obligatoire.",
            "invalid": "Saisissez une date valide (jj/mm/aaaa).",
        },
    )
    time = forms.TimeField(
        label="Heure",
        widget=forms.TimeInput(attrs={"class": "form-control", "type": "time"}, format="%H:%M"),
        error_messages={
            "required": "L'heure du rendez-vous est obligatoire.",
            "invalid": "Saisissez une heure valide (hh:mm).",
        },
    )
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
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date valide (jj/mm/aaaa)."},
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
    date = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "La date du rappel est obligatoire.",
            "invalid": "Saisissez une date valide (jj/mm/aaaa).",
        },
    )
    time = forms.TimeField(
        label="Heure",
        widget=forms.TimeInput(attrs={"class": "form-control", "type": "time"}, format="%H:%M"),
        error_messages={
            "required": "L'heure du rappel est obligatoire.",
            "invalid": "Saisissez une heure valide (hh:mm).",
        },
    )
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
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date valide (jj/mm/aaaa)."},
    )

    def __init__(self, *args: Any, choices: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["situations"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(choices.items())
