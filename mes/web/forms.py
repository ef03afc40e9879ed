"""Form bases shared by the citizen portal and the Web PS: Bootstrap's classes and invalid state
beside Django's aria-invalid / aria-describedby, domain refusals shown on their field, and the
one-time code step of the logins (mes/web/login_code.py)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.forms.boundfield import BoundField
from django.template.defaultfilters import filesizeformat

from mes.identity.models import OneTimeCode
from mes.lib.errors import InvalidInput
from mes.lib.text import text_problem
from mes.records.models import Document

# How a one-time code may be sent (mes-spec §3.3); the SMS only to a number on the account.
CHANNEL_CHOICES = [
    (OneTimeCode.Channel.EMAIL.value, "Par e-mail"),
    (OneTimeCode.Channel.SMS.value, "Par SMS"),
]


def login_identifier(label: str, required: str, **attrs: str) -> forms.CharField:
    """The identifier of a login's first step: offered by the password manager, never
    capitalised or corrected by the phone's keyboard; `attrs` add to the input (inputmode)."""
    return forms.CharField(
        label=label,
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                **attrs,
            }
        ),
        error_messages={"required": required},
    )


def login_password() -> forms.CharField:
    """The password of a login, as typed (never stripped)."""
    return forms.CharField(
        label="Mot de passe",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Saisissez votre mot de passe."},
    )


class SafeTextMixin(forms.Form):
    """Every text a form receives is checked once, here (mes.lib.text): no control character
    (a NUL included), and no bidirectional override on one line (names, titles). The refusal
    is shown on its field, in French, and the form is invalid, so nothing reaches an action."""

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        for name, field in self.fields.items():
            if field.disabled:
                continue
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            values = raw if isinstance(raw, list | tuple) else [raw]
            multiline = isinstance(field.widget, forms.Textarea)
            label = str(field.label or name)
            for value in values:
                problem = (
                    text_problem(value, multiline=multiline) if isinstance(value, str) else None
                )
                if problem:
                    self.add_error(name, f"Le champ « {label} » {problem}.")
                    break


class BootstrapFormMixin(SafeTextMixin):
    """Bootstrap classes on every widget, and `is-invalid` on the fields in error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.HiddenInput):
                continue
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class MesBoundField(BoundField):
    """Bootstrap's invalid state on the widget, next to Django's aria-invalid/aria-describedby."""

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            # These attrs override the widget's own: keep its classes (form-control ...).
            base = (widget or self.field.widget).attrs.get("class", "")
            attrs["class"] = f"{attrs.get('class', base)} is-invalid".strip()
        return attrs


class MesForm(SafeTextMixin):
    bound_field_class = MesBoundField

    def choice_field(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def add_input_error(self, exc: InvalidInput | ValueError) -> None:
        """Show a domain refusal (InvalidInput, UnknownCode) on its field, else at the top."""
        field = getattr(exc, "field", None)
        field = field if field in self.fields else None
        self.add_error(field, str(exc))


def upload_within_limit(upload: UploadedFile) -> UploadedFile:
    """The upload, refused on its declared size (settings.MES_UPLOAD_MAX_BYTES) before its
    bytes are read into memory."""
    limit = settings.MES_UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise forms.ValidationError(
            f"Le fichier dépasse la taille maximale de {filesizeformat(limit)}."
        )
    return upload


class DocumentPeriodFilterForm(MesForm):
    """What the document lists of both portals filter alike: the author (`auteur`) and the
    period of the act (`du`, `au`), fields the subclass declares; the end never before the
    start."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("du")
        end: date | None = data.get("au")
        if start and end and start > end:
            self.add_error("au", "La date de fin doit être postérieure à la date de début.")
        return data

    @staticmethod
    def by_author_and_period(qs: QuerySet[Document], data: dict[str, Any]) -> QuerySet[Document]:
        """`qs` narrowed to the author and the period chosen (valid criteria only)."""
        if data.get("auteur"):
            qs = qs.filter(author_label__icontains=data["auteur"].strip())
        if data.get("du"):
            qs = qs.filter(service_date__gte=data["du"])
        if data.get("au"):
            qs = qs.filter(service_date__lte=data["au"])
        return qs


class OneTimeCodeForm(BootstrapFormMixin):
    code = forms.CharField(
        label=f"Code de connexion à {settings.MES_OTP_DIGITS} chiffres",
        help_text="Saisissez le code reçu, sans espace.",
        max_length=20,  # room for the spaces some people type; removed in clean_code
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": r"[0-9 ]*",
                "size": str(settings.MES_OTP_DIGITS + 2),
                "spellcheck": "false",
            }
        ),
        error_messages={"required": "Saisissez le code reçu."},
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        RegexValidator(
            rf"^[0-9]{{{settings.MES_OTP_DIGITS}}}$",
            message=f"Le code comporte {settings.MES_OTP_DIGITS} chiffres.",
        )(code)
        return code


class ResendCodeForm(BootstrapFormMixin):
    """« Renvoyer un code »: the SMS is offered only when the account has a mobile number."""

    channel = forms.ChoiceField(
        label="Recevoir le nouveau code",
        choices=CHANNEL_CHOICES,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, has_phone: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not has_phone:
            field = self.fields["channel"]
            field.choices = CHANNEL_CHOICES[:1]  # type: ignore[attr-defined]
            field.widget = forms.HiddenInput()
            field.initial = OneTimeCode.Channel.EMAIL.value
