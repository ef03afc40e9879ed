"""The « Partage du profil » form (portal.md §6): the second legal representative's identity."""

from __future__ import annotations

from django import forms

from mes.enrolment.models import LegalRepresentation
from mes.web.forms import MesForm


class ShareProfileForm(MesForm):
    birth_name = forms.CharField(
        label="Nom de naissance",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le nom de naissance."},
    )
    first_name = forms.CharField(
        label="Prénom",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le prénom."},
    )
    birth_date = forms.DateField(
        label="Date de naissance",
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Saisissez la date de naissance.",
            "invalid": "Saisissez une date valide, par exemple 14/05/1985.",
        },
    )
    ins = forms.CharField(
        label="Numéro de sécurité sociale",
        help_text="15 caractères, clé comprise, tel qu'il figure sur sa carte Vitale.",
        max_length=25,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "off", "inputmode": "numeric"}
        ),
        error_messages={"required": "Saisissez le numéro de sécurité sociale."},
    )
    role = forms.ChoiceField(
        label="Cette personne est",
        choices=LegalRepresentation.Role.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez le lien avec l'enfant."},
    )
    declaration = forms.BooleanField(
        label="Je déclare que cette personne est représentant légal de mon enfant.",
        error_messages={"required": "Cochez la déclaration pour partager l'accès."},
    )
