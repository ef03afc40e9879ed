"""Forms shared by the portal's areas."""

from __future__ import annotations

from typing import Any

from django import forms

from mes.web import widgets
from mes.web.forms import MesForm


class PersonTraitsForm(MesForm):
    """Another person's identity traits, as on their carte Vitale: a proche aidant (carers/), the
    child's other legal representative (family/). What mes.identity finds a citizen by."""

    # Who the « Saisissez … » messages speak of, e.g. " de votre proche" (set by a subclass).
    whose = ""

    birth_name = forms.CharField(
        label="Nom de naissance",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le nom de naissance{whose}."},
    )
    first_name = forms.CharField(
        label="Prénom",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le prénom{whose}."},
    )
    birth_date = forms.DateField(
        label="Date de naissance",
        widget=widgets.date_input(),
        error_messages={
            "required": "Saisissez la date de naissance{whose}.",
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
        error_messages={"required": "Saisissez le numéro de sécurité sociale{whose}."},
    )
    TRAITS = ("birth_name", "first_name", "birth_date", "ins")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.TRAITS:
            messages = self.fields[name].error_messages  # this form's own copy
            messages["required"] = messages["required"].format(whose=self.whose)
