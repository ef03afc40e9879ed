"""The operators' forms: a service's card, its status, its logo, a purpose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from mes.catalogue.models import Category, DataCategory, ExchangeAction, Service
from mes.web.forms import BootstrapFormMixin, MesForm

OID = RegexValidator(r"^[0-2](\.(0|[1-9][0-9]*))+$", "Saisissez un OID, par exemple 1.2.250.1.999.")


class ServiceForm(BootstrapFormMixin, MesForm):
    name = forms.CharField(label="Nom", max_length=100)
    editor_name = forms.CharField(label="Éditeur", max_length=150)
    category = forms.ChoiceField(
        label="Thématique",
        choices=Category.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    summary = forms.CharField(label="Description courte", max_length=300)
    description = forms.CharField(
        label="Description", max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )
    web_url = forms.URLField(label="Site web", required=False, assume_scheme="https")
    ios_url = forms.URLField(label="App Store", required=False, assume_scheme="https")
    android_url = forms.URLField(label="Google Play", required=False, assume_scheme="https")
    cgu_url = forms.URLField(
        label="Conditions générales d'utilisation", required=False, assume_scheme="https"
    )
    pairing_url = forms.URLField(
        label="Adresse de synchronisation (page du service qui lance la synchronisation)",
        required=False,
        assume_scheme="https",
    )


class NewServiceForm(ServiceForm):
    oid = forms.CharField(label="OID racine de l'éditeur", max_length=64, validators=[OID])
    slug = forms.SlugField(label="Identifiant court (dans l'adresse)", max_length=80)
    redirect_uris = forms.CharField(
        label="Adresses de retour OAuth (une par ligne ; vide : sans échange de données)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_redirect_uris(self) -> str:
        lines = [u.strip() for u in self.cleaned_data["redirect_uris"].splitlines() if u.strip()]
        validator = forms.URLField(assume_scheme="https")
        for uri in lines:
            validator.clean(uri)
            if not uri.startswith("https://") and not uri.startswith("http://127.0.0.1"):
                raise forms.ValidationError("Une adresse de retour doit être en https.")
        return " ".join(lines)


class StatusForm(BootstrapFormMixin, MesForm):
    status = forms.ChoiceField(
        label="Nouveau statut",
        choices=Service.Status.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class LogoForm(BootstrapFormMixin, MesForm):
    logo = forms.FileField(label="Logo (PNG, JPEG ou WebP, 512 Ko au plus)")


EXCHANGE_KEYS = [(c, a) for c in DataCategory.values for a in ExchangeAction.values]


class PurposeForm(BootstrapFormMixin, MesForm):
    code = forms.CharField(label="Code de la finalité", max_length=20)
    label = forms.CharField(label="Libellé (« Ajouter mon glucose sanguin »)", max_length=150)
    description = forms.CharField(
        label="Description", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for category, action in EXCHANGE_KEYS:
            cat_label = DataCategory(category).label
            act_label = ExchangeAction(action).label
            self.fields[f"x_{category}_{action}"] = forms.BooleanField(
                label=f"{cat_label} — {act_label}",
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )
            self.fields[f"d_{category}_{action}"] = forms.CharField(
                label=f"Précisions ({cat_label.lower()}, {act_label.lower()})",
                required=False,
                max_length=300,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )

    def exchange_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"x_{c}_{a}"], self[f"d_{c}_{a}"]) for c, a in EXCHANGE_KEYS]
