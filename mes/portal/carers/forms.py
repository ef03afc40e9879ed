"""« Je recherche mon proche aidant » (portal.md §5.8): the aidant's identity, then the check
screen with the declaration."""

from __future__ import annotations

from typing import Any

from django import forms

from ..forms import PersonTraitsForm


class CarerSearchForm(PersonTraitsForm):
    """The aidant's identity traits."""

    whose = " de votre proche"


class CarerConfirmForm(CarerSearchForm):
    """The same traits (carried as hidden fields) and the declaration."""

    declaration = forms.BooleanField(
        label=(
            "Je déclare que la personne désignée est mon proche aidant et je lui donne accès à "
            "mon profil Mon espace santé."
        ),
        error_messages={"required": "Cochez la déclaration pour envoyer votre demande."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.TRAITS:
            self.fields[name].widget = forms.HiddenInput()
