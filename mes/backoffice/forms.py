"""Forms of the support desk."""

from __future__ import annotations

from django import forms

from mes.web.forms import BootstrapFormMixin, MesForm


class DeskLoginForm(BootstrapFormMixin, MesForm):
    identifier = forms.CharField(label="Identifiant", max_length=150)
    password = forms.CharField(
        label="Mot de passe", strip=False, widget=forms.PasswordInput, max_length=4096
    )


class NirForm(BootstrapFormMixin, MesForm):
    nir = forms.CharField(
        label="Numéro de sécurité sociale de la personne",
        max_length=21,
        error_messages={"required": "Saisissez le numéro de sécurité sociale."},
    )


class ResendForm(BootstrapFormMixin, MesForm):
    channel = forms.ChoiceField(
        label="Envoyer un nouveau code provisoire",
        choices=[("email", "Par e-mail"), ("sms", "Par SMS"), ("letter", "Par courrier")],
        widget=forms.RadioSelect,
    )


class CloseForm(BootstrapFormMixin, MesForm):
    express_deletion = forms.BooleanField(
        label="La personne demande aussi la suppression de ses données", required=False
    )


class ReasonForm(BootstrapFormMixin, MesForm):
    """The reason of a suspension, or of its lifting (kept in the history of states)."""

    reason = forms.CharField(
        label="Motif",
        max_length=300,
        error_messages={"required": "Indiquez le motif."},
    )
