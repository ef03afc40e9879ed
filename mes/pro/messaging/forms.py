"""Forms of the Web PS mailbox; the rules stay in mes.messaging.actions."""

from __future__ import annotations

from typing import Any

from django import forms

from mes.messaging.actions import BODY_MAX, SUBJECT_MAX
from mes.web.forms import MesForm


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: object, initial: object = None) -> list[object]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(d, initial) for d in items]


def _files() -> MultipleFileField:
    return MultipleFileField(
        label="Pièces jointes",
        required=False,
        help_text="PDF, JPEG ou PNG.",
        widget=MultipleFileInput(attrs={"class": "form-control", "accept": ".pdf,.jpg,.jpeg,.png"}),
    )


def _end() -> forms.BooleanField:
    return forms.BooleanField(
        label="Mettre fin aux échanges (le patient ne pourra pas répondre)",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


HIDDEN_FROM_REPS_LABEL = "Invisible aux représentants légaux (soins sous secret, art. L1111-5 CSP)"


def _hidden_from_representatives(help_text: str) -> forms.BooleanField:
    return forms.BooleanField(
        label=HIDDEN_FROM_REPS_LABEL,
        required=False,
        help_text=help_text,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class ProMessageForm(MesForm):
    ins = forms.CharField(
        label="Matricule INS du patient",
        max_length=21,
        help_text="15 chiffres ; le message part à <INS>@patient.mssante.fr.",
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    subject = forms.CharField(
        label="Objet",
        max_length=SUBJECT_MAX,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    body = forms.CharField(
        label="Message",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 6}),
    )
    attachments = _files()
    end = _end()
    # The patient is known once the INS is sent: the gateway refuses the label for an adult.
    hidden_from_representatives = _hidden_from_representatives(
        "Pour un patient mineur qui demande le secret (contraception, IVG, santé sexuelle…) : "
        "ses parents ne verront ni le message ni la conversation. Refusé pour un patient majeur."
    )


class ProReplyForm(MesForm):
    body = forms.CharField(
        label="Réponse",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 5}),
    )
    attachments = _files()
    end = _end()
    hidden_from_representatives = _hidden_from_representatives(
        "Ses parents ne verront pas ce message : il ouvre une conversation confidentielle."
    )

    def __init__(self, *args: Any, may_hide: bool = False, **kwargs: Any) -> None:
        """may_hide: the patient is a minor and the conversation is not already confidential
        (the field is then offered; otherwise it does not exist and nothing posted sets it)."""
        super().__init__(*args, **kwargs)
        if not may_hide:
            del self.fields["hidden_from_representatives"]
