"""The catalogue's filters, « Signaler ce service », and the purposes of a synchronised
service."""

from __future__ import annotations

from django import forms

from mes.catalogue.actions.citizen import NO_EXCHANGE
from mes.catalogue.models import Category, DataCategory, ServiceReport
from mes.web.forms import BootstrapFormMixin, MesForm


class CatalogueFilterForm(BootstrapFormMixin, MesForm):
    q = forms.CharField(
        label="Rechercher un service",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Nom, éditeur, mot-clé"}),
    )
    thematique = forms.ChoiceField(
        label="Thématique",
        required=False,
        choices=[("", "Toutes les thématiques"), *Category.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    donnees = forms.ChoiceField(
        label="Données échangées",
        required=False,
        choices=[
            ("", "Tous les services"),
            *[(c, f"Échange : {label.lower()}") for c, label in DataCategory.choices],
            (NO_EXCHANGE, "Sans échange de données"),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class ReportForm(BootstrapFormMixin, MesForm):
    reason = forms.ChoiceField(
        label="Motif du signalement",
        choices=ServiceReport.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le motif du signalement."},
    )
    comment = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "Le commentaire dépasse 2000 caractères."},
    )
