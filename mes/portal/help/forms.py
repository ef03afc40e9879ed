from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from mes.backoffice.models import SupportRequest
from mes.identity.models import Citizen
from mes.web.forms import BootstrapFormMixin, MesForm


class ContactForm(BootstrapFormMixin, MesForm):
    """« Nous contacter » → « Nouvelle demande » (portal.md §10)."""

    profile = forms.TypedChoiceField(
        label="Profil concerné",
        help_text=(
            "Une demande par profil : le vôtre, ou celui d'une personne que vous représentez."
        ),
        error_messages={
            "required": "Choisissez le profil concerné.",
            "invalid_choice": "Choisissez un des profils proposés.",
        },
    )
    reason = forms.ChoiceField(
        label="Motif de la demande",
        choices=[("", "Choisissez un motif"), *SupportRequest.Reason.choices],
        error_messages={"required": "Choisissez le motif de votre demande."},
    )
    message = forms.CharField(
        label="Votre message",
        help_text=(
            f"{settings.MES_SUPPORT_MESSAGE_MAX_LENGTH} caractères au plus. N'y mettez que ce qui "
            "est utile pour vous répondre."
        ),
        max_length=settings.MES_SUPPORT_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Écrivez votre message.",
            "max_length": "Votre message dépasse %(limit_value)d caractères (%(show_value)d).",
        },
    )
    agents_may_access_profile = forms.BooleanField(
        label=(
            "J'autorise les agents habilités du support à consulter les données de ce profil et "
            "son historique d'activité pour traiter ma demande."
        ),
        help_text=(
            "Facultatif. Sans cette autorisation, le support répond à partir de votre message."
        ),
        required=False,
    )
    engagement = forms.BooleanField(
        label=(
            "Je m'engage à rester courtois et à ne tenir aucun propos injurieux, diffamatoire ou "
            "discriminatoire."
        ),
        error_messages={"required": "Cochez cet engagement pour envoyer votre demande."},
    )

    def __init__(self, *args: Any, profiles: list[Citizen], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["profile"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(str(p.pk), p.display_name) for p in profiles]
        for name in ("profile", "reason"):  # drop-down lists get Bootstrap's select look
            self.fields[name].widget.attrs["class"] = "form-select"
