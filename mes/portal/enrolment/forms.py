"""Forms of activation, opposition, a new provisional code and closure (mes-spec §3, wave2
§1.6). The domain checks the data; these forms only shape it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from mes.identity.models import OneTimeCode, User
from mes.lib.iban import is_iban
from mes.lib.ins import InvalidIns, parse_ins
from mes.web.forms import BootstrapFormMixin, MesForm

DATE_WIDGET = forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d")
CHANNELS = [
    (OneTimeCode.Channel.EMAIL.value, "Par e-mail"),
    (OneTimeCode.Channel.SMS.value, "Par SMS"),
]


def _looks_like_nir(bare: str) -> bool:
    """A NIR or NIA with its key, or any run of 13 digits or more (a NIR without its key)."""
    if bare.isdigit() and len(bare) >= 13:
        return True
    try:
        parse_ins(bare)
    except InvalidIns:
        return False
    return True


class CardForm(BootstrapFormMixin, MesForm):
    """NIR, carte Vitale serial number and birth date: what the card holder types."""

    nir = forms.CharField(
        label="Numéro de sécurité sociale",
        help_text="15 chiffres, clé comprise. Pour une personne mineure : le numéro du "
        "destinataire de l'e-mail ou du courrier.",
        max_length=21,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le numéro de sécurité sociale."},
    )
    vitale_serial = forms.CharField(
        label="Numéro de série de la carte Vitale",
        help_text="Carte avec photo : au dos, en haut à gauche (8 à 13 chiffres). Carte sans "
        "photo : au recto, en haut à droite (les 11 derniers chiffres).",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le numéro de série de la carte Vitale."},
    )
    birth_date = forms.DateField(
        label="Date de naissance de la personne",
        widget=DATE_WIDGET,
        error_messages={
            "required": "Saisissez la date de naissance.",
            "invalid": "Saisissez une date de naissance valide (jj/mm/aaaa).",
        },
    )


class CodeForm(CardForm):
    """Step 1 of activation or opposition: the provisional code with the card data."""

    code = forms.CharField(
        label="Code provisoire",
        help_text="Le code reçu par e-mail ou par courrier (10 caractères, par exemple "
        "ABCDE-12345).",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        error_messages={"required": "Saisissez votre code provisoire."},
    )
    field_order = ["code", "nir", "vitale_serial", "birth_date"]


class RegenerateForm(CardForm):
    first_name = forms.CharField(
        label="Prénom de la personne",
        required=False,
        max_length=100,
        help_text="Utile seulement si plusieurs personnes rattachées à la carte Vitale ont la "
        "même date de naissance (jumeaux).",
    )
    channel = forms.ChoiceField(
        label="Recevoir le nouveau code",
        choices=CHANNELS,
        initial=OneTimeCode.Channel.EMAIL.value,
        widget=forms.RadioSelect,
    )


class CredentialsForm(BootstrapFormMixin, MesForm):
    """Step 2 of activation: identifiant, password, and the contact to confirm."""

    username = forms.CharField(
        label="Identifiant",
        help_text="De 6 à 50 caractères : lettres, chiffres, point, tiret. Ni adresse e-mail, "
        "ni numéro de sécurité sociale, ni IBAN.",
        min_length=6,
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
        error_messages={
            "required": "Choisissez un identifiant.",
            "min_length": "L'identifiant doit compter au moins 6 caractères.",
        },
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        max_length=4096,
        help_text="Au moins 9 caractères, avec une minuscule, une majuscule, un chiffre et un "
        "caractère spécial.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Choisissez un mot de passe."},
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Saisissez de nouveau le mot de passe."},
    )
    email = forms.EmailField(
        label="Adresse e-mail",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "Saisissez une adresse e-mail valide (nom@exemple.fr)."},
    )
    phone = forms.CharField(
        label="Téléphone mobile",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    channel = forms.ChoiceField(
        label="Confirmer par un code reçu",
        choices=CHANNELS,
        initial=OneTimeCode.Channel.EMAIL.value,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, personal: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal = [p.casefold() for p in personal or [] if len(p) >= 3]

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"].strip()
        bare = re.sub(r"[\s.\-]", "", name).upper()
        if "@" in name:
            raise ValidationError("L'identifiant ne peut pas être une adresse e-mail.")
        if _looks_like_nir(bare):
            raise ValidationError("L'identifiant ne peut pas être un numéro de sécurité sociale.")
        if is_iban(bare):
            raise ValidationError("L'identifiant ne peut pas être un IBAN.")
        if not re.fullmatch(r"[A-Za-z0-9.\-_]+", name):
            raise ValidationError("Utilisez seulement des lettres sans accent, chiffres, . - _")
        if User.objects.filter(username__iexact=name).exists():
            raise ValidationError("Cet identifiant est déjà pris : choisissez-en un autre.")
        return name

    def clean_phone(self) -> str:
        phone = re.sub(r"[\s.]", "", self.cleaned_data["phone"])
        if phone and not re.fullmatch(r"(?:\+33|0)[67]\d{8}", phone):
            raise ValidationError("Saisissez un numéro de mobile français (06 ou 07).")
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            if data.get("password2") and password != data["password2"]:
                self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
            try:
                validate_password(password)
            except ValidationError as error:
                self.add_error("password", error)
            lowered = password.casefold()
            if any(p in lowered for p in self.personal):
                self.add_error(
                    "password",
                    "Le mot de passe ne doit pas contenir vos nom, prénom ou identifiant.",
                )
        channel = data.get("channel")
        if channel == OneTimeCode.Channel.SMS and not data.get("phone"):
            self.add_error("phone", "Saisissez un numéro de mobile pour recevoir le code par SMS.")
        if channel == OneTimeCode.Channel.EMAIL and not data.get("email"):
            self.add_error("email", "Saisissez une adresse e-mail pour recevoir le code.")
        return data


class ConfirmForm(BootstrapFormMixin, MesForm):
    """A confirmation box for a step that cannot be undone lightly."""

    confirm = forms.BooleanField(
        label="Je confirme",
        error_messages={"required": "Cochez la case pour confirmer."},
    )


def archive_years() -> int:
    """MES_ENROLMENT_ARCHIVE_DURATION in whole years, as the pages say it (« 10 ans »)."""
    return round(settings.MES_ENROLMENT_ARCHIVE_DURATION.days / 365.25)


class ClosureChoiceForm(ConfirmForm):
    """The confirmation of a closure and the choice of express deletion (R1111-36), the same
    whether the holder is signed in or proves who they are with the provisional code."""

    express_deletion = forms.BooleanField(label="", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # From the settings the closure applies (lifecycle.espace_close): one rule, one text.
        years = archive_years()
        days = settings.MES_ENROLMENT_DELETION_GRACE.days
        field = self.fields["express_deletion"]
        field.label = f"Supprimer aussi mes données sans attendre {years} ans"
        field.help_text = (
            f"Sans cette case, vos données sont archivées {years} ans : vous pouvez rouvrir "
            "votre profil pendant ce temps. Avec elle, elles sont supprimées définitivement "
            f"sous {days} jours."
        )


class ClosureForm(ClosureChoiceForm):
    password = forms.CharField(
        label="Votre mot de passe",
        help_text="Par sécurité, saisissez de nouveau votre mot de passe (portal.md §5.6).",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Saisissez votre mot de passe."},
    )
    field_order = ["confirm", "password", "express_deletion"]


class ChildCodeForm(BootstrapFormMixin, MesForm):
    code = CodeForm.base_fields["code"]
