"""Forms of the Mesures screens (portal.md §2.10). They check the shape of the input (a number, a
date, a time); the rules (ranges, dates, moment) stay in mes.measures.actions, which checks them
and says what is wrong in French."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone

from mes.lib.errors import InvalidInput
from mes.measures import profiles
from mes.measures.models import COMMENT_MAX, Measurement
from mes.measures.profiles import MeasureCode, MeasureType
from mes.web import widgets
from mes.web.forms import MesForm

# The action's field names that have another name here.
FIELD_OF_INPUT = {"effective_at": "date", "type": None, "visible": "visible"}
VALUE_MAX_LENGTH = 7  # « ≤7 chars » (portal.md §2.10)


def _number_input(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "class": "form-control mes-input-number",
            "inputmode": "decimal",
            "autocomplete": "off",
            "maxlength": VALUE_MAX_LENGTH,
            **attrs,
        }
    )


class MeasurementForm(MesForm):
    """Add or modify one value: value(s), date and time, moment (glucose), comment."""

    value = forms.CharField(max_length=VALUE_MAX_LENGTH, widget=_number_input())
    diastolic = forms.CharField(
        label="Diastolique", max_length=VALUE_MAX_LENGTH, widget=_number_input(), required=False
    )
    unit = forms.ChoiceField(
        label="Unité", widget=forms.Select(attrs={"class": "form-select"}), required=False
    )
    date = forms.DateField(
        label="Date de la mesure",
        widget=widgets.date_input(),
        error_messages={
            "required": "Indiquez la date de la mesure.",
            "invalid": "Saisissez une date valide, par exemple 14/05/2024.",
        },
    )
    time = forms.TimeField(
        label="Heure de la mesure",
        widget=widgets.time_input(),
        error_messages={
            "required": "Indiquez l'heure de la mesure.",
            "invalid": "Saisissez une heure valide, par exemple 08:30.",
        },
    )
    moment = forms.ChoiceField(
        label="Moment de la mesure",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        required=False,
    )
    comment = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
        error_messages={
            "max_length": f"Le commentaire ne doit pas dépasser {COMMENT_MAX} caractères."
        },
    )

    def __init__(self, *args: Any, measure: MeasureType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.measure = measure
        value = self.fields["value"]
        if measure.components:
            value.label = f"{measure.components[0].label} ({measure.unit_label})"
            self.fields["diastolic"].label = f"{measure.components[1].label} ({measure.unit_label})"
            self.fields["diastolic"].required = True
            self.fields["diastolic"].error_messages["required"] = "Indiquez la tension diastolique."
            value.error_messages["required"] = "Indiquez la tension systolique."
        else:
            del self.fields["diastolic"]
            value.label = (
                measure.label
                if measure.unit_select
                else (f"{measure.label} ({measure.unit_label})")
            )
            value.error_messages["required"] = "Indiquez la valeur."
        value.help_text = measure.hint
        if measure.unit_select:
            self.choice_field("unit").choices = [
                (measure.ucum, measure.unit_label),
                *((u.code, u.label) for u in measure.input_units),
            ]
            self.fields["unit"].required = True
            self.fields["unit"].initial = measure.ucum
        else:
            del self.fields["unit"]
        if measure.needs_moment:
            self.choice_field("moment").choices = [
                (m.code, m.label) for m in profiles.GLUCOSE_MOMENTS
            ]
            self.fields["moment"].required = True
            self.fields["moment"].error_messages["required"] = "Indiquez le moment de la mesure."
        else:
            del self.fields["moment"]
        if measure.comment_placeholder:
            self.fields["comment"].widget.attrs["placeholder"] = measure.comment_placeholder
        self.fields["comment"].help_text = f"{COMMENT_MAX} caractères au maximum."

    def clean_value(self) -> str:
        return _number(self.cleaned_data["value"])

    def clean_diastolic(self) -> str:
        return _number(self.cleaned_data.get("diastolic", ""))

    @property
    def effective_at(self) -> datetime:
        d, t = self.cleaned_data["date"], self.cleaned_data["time"]
        return timezone.make_aware(datetime.combine(d, t))

    @property
    def typed_unit(self) -> str | None:
        """The unit the value was typed in; a height under 3 reads as metres (« 1,65 »)."""
        unit = self.cleaned_data.get("unit") or None
        if self.measure.code is MeasureCode.HEIGHT:
            try:
                if Decimal(self.cleaned_data["value"]) < 3:
                    return "m"
            except InvalidOperation:
                return None
        return unit

    def action_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "value": data["value"],
            "diastolic": data.get("diastolic") or None,
            "unit": self.typed_unit,
            "effective_at": self.effective_at,
            "moment": data.get("moment", ""),
            "comment": data.get("comment", ""),
        }

    def add_input_error(self, exc: InvalidInput | ValueError) -> None:
        field = getattr(exc, "field", None)
        field = FIELD_OF_INPUT.get(field, field) if field else None
        self.add_error(field if field in self.fields else None, str(exc))


def _number(raw: str) -> str:
    """« 72,5 » or « 72.5 » → "72.5"; what is not a number is refused here, in French."""
    text = (raw or "").strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not text:
        return ""
    try:
        d = Decimal(text)
    except InvalidOperation as exc:
        raise forms.ValidationError("Saisissez un nombre, par exemple 72,5.") from exc
    if not d.is_finite():
        raise forms.ValidationError("Saisissez un nombre, par exemple 72,5.")
    return text


def initial_for(m: Measurement) -> dict[str, Any]:
    """The edit form's initial values from a stored value."""
    local = timezone.localtime(m.effective_at)
    t = m.measure_type
    initial: dict[str, Any] = {
        "value": t.format(m.value).replace("\u202f", ""),
        "date": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "moment": m.moment,
        "comment": m.comment,
        "unit": t.ucum,
    }
    if m.diastolic is not None:
        initial["diastolic"] = t.format(m.diastolic)
    return initial


def initial_now() -> dict[str, Any]:
    now = timezone.localtime()
    return {"date": now.date(), "time": now.time().replace(second=0, microsecond=0)}


class TilesForm(MesForm):
    """« Afficher les autres mesures »: the measures shown as tiles."""

    visible = forms.MultipleChoiceField(
        label="Mesures affichées sur la page",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, types: list[MeasureType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visible"].choices = [(t.code.value, t.label) for t in types]  # type: ignore[attr-defined]
