from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from mes.web.forms import BootstrapFormMixin, MesForm

from .shortcuts import ShortcutLink


class ShortcutsForm(BootstrapFormMixin, MesForm):
    """« Gérer mes raccourcis »: up to MES_HOME_SHORTCUTS_MAX among those offered."""

    codes = forms.MultipleChoiceField(
        label="Mes raccourcis",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choisissez des raccourcis dans la liste proposée."},
    )

    def __init__(
        self, *args: Any, offered: list[ShortcutLink], own: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["codes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(lk.code, lk.label) for lk in offered]
        limit = settings.MES_HOME_SHORTCUTS_MAX
        field.label = "Mes raccourcis" if own else "Ses raccourcis"
        field.help_text = (
            f"Je peux ajouter jusqu'à {limit} raccourcis sur ma page d'accueil."
            if own
            else f"Vous pouvez ajouter jusqu'à {limit} raccourcis sur sa page d'accueil."
        )

    def clean_codes(self) -> list[str]:
        codes: list[str] = self.cleaned_data["codes"]
        limit = settings.MES_HOME_SHORTCUTS_MAX
        if len(codes) > limit:
            raise forms.ValidationError(f"Vous ne pouvez pas ajouter plus de {limit} raccourcis.")
        return codes
