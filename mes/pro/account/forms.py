"""Forms of the professionals' login: RPPS and password, and the « code d'abord » road."""

from __future__ import annotations

from django import forms

from mes.web.forms import BootstrapFormMixin, OneTimeCodeForm, login_identifier, login_password


class ProLoginForm(BootstrapFormMixin):
    identifier = login_identifier(
        "Identifiant (numéro RPPS)",
        "Saisissez votre identifiant (numéro RPPS).",
        inputmode="numeric",
    )
    password = login_password()
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class ProCodeFirstStartForm(BootstrapFormMixin):
    """« Recevoir un code d'abord »: the RPPS only (the code goes by e-mail)."""

    identifier = ProLoginForm.base_fields["identifier"]


class ProCodeFirstForm(OneTimeCodeForm):
    """The code received, then the password."""

    password = ProLoginForm.base_fields["password"]
