"""The Bootstrap widgets the forms of both portals declare their fields with (the classes that
BootstrapFormMixin would otherwise add, for the forms built on MesForm alone)."""

from __future__ import annotations

from typing import Any

from django import forms


def text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", **attrs})


def textarea(rows: int = 3, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"class": "form-control", "rows": rows, **attrs})


def date_input() -> forms.DateInput:
    """A native date picker; the value in ISO, as the picker reads it."""
    return forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d")


def time_input() -> forms.TimeInput:
    """A native time picker; the value as HH:MM, as the picker reads it."""
    return forms.TimeInput(attrs={"class": "form-control", "type": "time"}, format="%H:%M")


def select() -> forms.Select:
    return forms.Select(attrs={"class": "form-select"})


def radios() -> forms.RadioSelect:
    return forms.RadioSelect(attrs={"class": "form-check-input"})


def checkbox() -> forms.CheckboxInput:
    return forms.CheckboxInput(attrs={"class": "form-check-input"})


def checkboxes() -> forms.CheckboxSelectMultiple:
    return forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
