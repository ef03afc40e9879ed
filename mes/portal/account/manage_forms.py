"""Forms of the account pages (portal.md §5.7)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from mes.identity.models import OneTimeCode
from mes.web.forms import BootstrapFormMixin, MesForm

CHANNELS = [
    (OneTimeCode.Channel.EMAIL.value, "Par e-mail"),
    (OneTimeCode.Channel.SMS.value, "Par SMS"),
]


def _password(label: str, autocomplete: str = "new-password") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        error_messages={"required": f"Saisissez le champ « {label} »."},
    )


class PasswordChangeForm(BootstrapFormMixin, MesForm):
    current = _password("Mot de passe actuel", "current-password")
    new = _password("Nouveau mot de passe")
    confirm = _password("Confirmer le nouveau mot de passe")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new") and data.get("confirm") and data["new"] != data["confirm"]:
            self.add_error("confirm", "Les deux mots de passe ne sont pas identiques.")
        return data


class ForgottenStartForm(BootstrapFormMixin, MesForm):
    username = forms.CharField(
        label="Identifiant",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
        error_messages={"required": "Saisissez votre identifiant."},
    )
    channel = forms.ChoiceField(
        label="Recevoir un code", choices=CHANNELS, initial="email", widget=forms.RadioSelect
    )


class ForgottenFinishForm(PasswordChangeForm):
    current = None  # type: ignore[assignment]
    code = forms.CharField(
        label="Code reçu (6 chiffres)",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"required": "Saisissez le code reçu."},
    )
    field_order = ["code", "new", "confirm"]


class ContactForm(BootstrapFormMixin, MesForm):
    channel = forms.ChoiceField(
        label="Que voulez-vous modifier ?",
        choices=[("email", "Mon adresse e-mail"), ("sms", "Mon numéro de mobile")],
        initial="email",
        widget=forms.RadioSelect,
    )
    value = forms.CharField(
        label="Nouvelle adresse e-mail ou nouveau numéro de mobile",
        max_length=254,
        error_messages={"required": "Saisissez la nouvelle valeur."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        value = (data.get("value") or "").strip()
        if data.get("channel") == "email":
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
                self.add_error("value", "Saisissez une adresse e-mail valide (nom@exemple.fr).")
        elif value:
            value = re.sub(r"[\s.]", "", value)
            if not re.fullmatch(r"(?:\+33|0)[67]\d{8}", value):
                self.add_error("value", "Saisissez un numéro de mobile français (06 ou 07).")
        data["value"] = value
        return data


class CodeForm(BootstrapFormMixin, MesForm):
    code = ForgottenFinishForm.base_fields["code"]

    def clean_code(self) -> str:
        code = re.sub(r"\s", "", self.cleaned_data["code"])
        if not code.isdigit():
            raise ValidationError("Le code ne contient que des chiffres.")
        return code
