"""Forms of the login steps and of the first-login onboarding (portal.md §1.5, mes-spec §3.3).

Django links each input to its help text and errors (aria-describedby, aria-invalid); the mixin
below only adds the Bootstrap classes so that the error is also seen.
"""

from __future__ import annotations

from django import forms

from mes.identity.models import OneTimeCode
from mes.web.forms import (
    CHANNEL_CHOICES,
    BootstrapFormMixin,
    OneTimeCodeForm,
    login_identifier,
    login_password,
)


class LoginForm(BootstrapFormMixin):
    identifier = login_identifier("Identifiant", "Saisissez votre identifiant.")
    password = login_password()
    channel = forms.ChoiceField(
        label="Recevoir mon code de connexion",
        choices=CHANNEL_CHOICES,
        initial=OneTimeCode.Channel.EMAIL.value,
        widget=forms.RadioSelect,
        help_text="Le SMS est envoyé au numéro de mobile enregistré sur votre compte ; "
        "sans numéro enregistré, le code part par e-mail.",
        error_messages={"required": "Choisissez comment recevoir votre code."},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class OnboardingForm(BootstrapFormMixin):
    """The two first-login choices (portal.md §1.5) mapped on PrivacySettings."""

    VISIBLE = "visible"
    MASKED = "masque"

    confidentiality = forms.ChoiceField(
        label="Par défaut, je choisis de :",
        choices=[
            (VISIBLE, "Rendre visibles mes informations aux professionnels de santé habilités"),
            (MASKED, "Masquer mes informations aux professionnels de santé"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez la confidentialité de vos informations."},
    )
    samu = forms.BooleanField(
        required=False,
        label="SAMU",
        help_text="Le médecin régulateur du SAMU – Centre 15 peut consulter ces rubriques "
        "quand il traite un appel d'urgence qui vous concerne.",
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )
    break_glass = forms.BooleanField(
        required=False,
        label="Autres professionnels de santé (bris de glace)",
        help_text="Un professionnel qui vous prend en charge en urgence, sans autorisation "
        "préalable, peut ouvrir ces rubriques en justifiant l'urgence.",
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )
    reveals_masked = forms.BooleanField(
        required=False,
        label="Documents masqués en cas d'urgence",
        help_text="Les documents que vous avez masqués restent cachés en cas d'urgence, sauf "
        "si vous activez ce choix.",
        widget=forms.CheckboxInput(attrs={"role": "switch"}),
    )


class CodeFirstStartForm(BootstrapFormMixin):
    """« Recevoir un code d'abord »: the identifiant, and where to send the code."""

    identifier = LoginForm.base_fields["identifier"]
    channel = forms.ChoiceField(
        label="Recevoir mon code",
        choices=CHANNEL_CHOICES,
        initial=OneTimeCode.Channel.EMAIL.value,
        widget=forms.RadioSelect,
        help_text="Sans numéro de mobile enregistré sur le compte, le code part par e-mail.",
        error_messages={"required": "Choisissez comment recevoir votre code."},
    )


class CodeFirstForm(OneTimeCodeForm):
    """The code received, then the password."""

    password = LoginForm.base_fields["password"]
