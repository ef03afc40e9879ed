"""The « Partage du profil » form (portal.md §6): the second legal representative's identity."""

from __future__ import annotations

from django import forms

from mes.enrolment.models import LegalRepresentation

from ..forms import PersonTraitsForm


class ShareProfileForm(PersonTraitsForm):
    role = forms.ChoiceField(
        label="Cette personne est",
        choices=LegalRepresentation.Role.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez le lien avec l'enfant."},
    )
    declaration = forms.BooleanField(
        label="Je déclare que cette personne est représentant légal de mon enfant.",
        error_messages={"required": "Cochez la déclaration pour partager l'accès."},
    )
