"""« Je recherche mon proche aidant » (portal.md §5.8): the aidant's identity, then the check
screen with the declaration."""

from __future__ import annotations

from django import forms

from mes.web.forms import MesForm


class CarerSearchForm(MesForm):
    birth_name = forms.CharField(
        label="Nom de naissance",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le nom de naissance de votre proche."},
    )
    first_name = forms.CharField(
        label="Prénom",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le prénom de votre proche."},
    )
    birth_date = forms.DateField(
        label="Date de naissance",
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Saisissez la date de naissance de votre proche.",
            "invalid": "Saisissez une date valide, par exemple 14/05/1985.",
        },
    )
    ins = forms.CharField(
        label="Numéro de sécurité sociale",
        help_text="15 caractères, clé comprise, tel qu'il figure sur sa carte Vitale.",
        max_length=25,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "off", "inputmode": "numeric"}
        ),
        error_messages={"required": "Saisissez le numéro de sécurité sociale de votre proche."},
    )


class CarerConfirmForm(CarerSearchForm):
    """The same traits (carried as hidden fields) and the declaration."""

    declaration = forms.BooleanField(
        label=(
            "Je déclare que la personne désignée est mon proche aidant et je lui donne accès à "
            "mon profil Mon espace santé."
        ),
        error_messages={"required": "Cochez la déclaration pour envoyer votre demande."},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in ("birth_name", "first_name", "birth_date", "ins"):
            self.fields[name].widget = forms.HiddenInput()
