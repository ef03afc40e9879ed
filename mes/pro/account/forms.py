"""Forms of the professionals' login: RPPS and password, and the « code d'abord » road."""

from __future__ import annotations

from django import forms

from mes.web.forms import BootstrapFormMixin, OneTimeCodeForm


class ProLoginForm(BootstrapFormMixin):
    identifier = forms.CharField(
        label="Identifiant (numéro RPPS)",
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "inputmode": "numeric",
            }
        ),
        error_messages={"required": "Saisissez votre identifiant (numéro RPPS)."},
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Saisissez votre mot de passe."},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class ProCodeFirstStartForm(BootstrapFormMixin):
    """« Recevoir un code d'abord »: the RPPS only (the code goes by e-mail)."""

    identifier = ProLoginForm.base_fields["identifier"]


class ProCodeFirstForm(OneTimeCodeForm):
    """The code received, then the password."""

    password = ProLoginForm.base_fields["password"]
