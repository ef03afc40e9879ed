"""Forms of the Web PS mailbox; the rules stay in mes.messaging.actions."""

from __future__ import annotations

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


class ProReplyForm(MesForm):
    body = forms.CharField(
        label="Réponse",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 5}),
    )
    attachments = _files()
    end = _end()
