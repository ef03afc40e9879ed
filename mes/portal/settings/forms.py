"""Forms of the settings pages: history filters, professionals, privacy toggles, notifications."""

from __future__ import annotations

from typing import Any

from django import forms

from mes.lib import codes

DATE_WIDGET = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
SEARCH_MIN_LENGTH = 2


class HistoryFilterForm(forms.Form):
    debut = forms.DateField(label="Date de début", required=False, widget=DATE_WIDGET)
    fin = forms.DateField(label="Date de fin", required=False, widget=DATE_WIDGET)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("debut"), data.get("fin")
        if start and end and start > end:
            raise forms.ValidationError("La date de début doit précéder la date de fin.")
        return data


class ProfessionalSearchForm(forms.Form):
    q = forms.CharField(
        label="Nom ou numéro RPPS du professionnel",
        min_length=SEARCH_MIN_LENGTH,
        max_length=100,
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"min_length": "Saisissez au moins 2 caractères."},
    )


class ProfessionChoiceForm(forms.Form):
    profession = forms.ChoiceField(
        label="Sélectionner une profession",
        # A callable: the codes are read from their data file when the form is built.
        choices=lambda: [("", "Choisir une profession"), *codes.professions().items()],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class ProfessionalActionForm(forms.Form):
    """One decision about one professional, from the « Accès des professionnels » page."""

    BLOCK = "bloquer"
    UNBLOCK = "debloquer"
    SET_ADMIN = "nommer-administrateur"
    UNSET_ADMIN = "retirer-administrateur"

    op = forms.ChoiceField(
        choices=[
            (BLOCK, BLOCK),
            (UNBLOCK, UNBLOCK),
            (SET_ADMIN, SET_ADMIN),
            (UNSET_ADMIN, UNSET_ADMIN),
        ]
    )
    professional = forms.UUIDField()


def _switch(described_by: str) -> forms.CheckboxInput:
    return forms.CheckboxInput(
        attrs={"class": "form-check-input", "role": "switch", "aria-describedby": described_by}
    )


class EmergencyForm(forms.Form):
    samu = forms.BooleanField(
        required=False,
        widget=_switch("id_samu-aide"),
        label="J'autorise les professionnels du SAMU – Centre 15 à accéder à mes informations "
        "en cas d'urgence.",
    )
    break_glass = forms.BooleanField(
        required=False,
        widget=_switch("id_break_glass-aide"),
        label="J'autorise les autres professionnels de santé à accéder à mes informations en "
        "cas d'urgence (bris de glace).",
    )
    reveals_masked = forms.BooleanField(
        required=False,
        widget=_switch("id_reveals_masked-aide"),
        label="J'autorise les professionnels de santé à consulter mes documents masqués en cas "
        "d'urgence.",
    )
    mask_everything = forms.BooleanField(
        required=False,
        widget=_switch("masquer-tout-avertissement"),
        label="Masquer tous mes documents, y compris en cas d'urgence",
    )


class ConfidentialityForm(forms.Form):
    mask_new_documents = forms.BooleanField(
        required=False,
        widget=_switch("id_mask_new_documents-aide"),
        label="Masquer par défaut aux professionnels de santé les nouveaux documents",
    )
    # « Import des données depuis les documents » (portal.md §5.4, TRAITEMENT_AUTO_DOCS).
    import_from_documents = forms.BooleanField(
        required=False,
        widget=_switch("id_import_from_documents-aide"),
        label="J'accepte que les données contenues dans un document que j'ai reçu soient "
        "automatiquement ajoutées dans mon Profil médical.",
    )


class NotificationActionForm(forms.Form):
    READ = "lu"
    UNREAD = "non-lu"
    DELETE = "supprimer"
    ALL_READ = "tout-lu"

    op = forms.ChoiceField(
        choices=[(READ, READ), (UNREAD, UNREAD), (DELETE, DELETE), (ALL_READ, ALL_READ)]
    )
    notification = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("op") not in (None, self.ALL_READ) and not data.get("notification"):
            raise forms.ValidationError("Notification absente.")
        return data
