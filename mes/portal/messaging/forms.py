"""Forms of the Messagerie (portal.md §9, wave2.md §1.1). They check the shape of the input; the
rules (who may write, closed exchange, formats, budget) stay in mes.messaging.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from mes.messaging.actions import BODY_MAX, SUBJECT_MAX
from mes.records.models import Document
from mes.web.forms import MesForm

from ..documents.forms import category_choices

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"class": "form-control", "accept": ACCEPT})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(d, initial) for d in items]


def budget_hint() -> str:
    return (
        "PDF, JPEG ou PNG. "
        f"{filesizeformat(settings.MES_MESSAGE_ATTACHMENTS_MAX_BYTES)} au total pour un message."
    )


class ComposeForm(MesForm):
    """The body and attachments of a message (reply, or a new message to a pharmacy)."""

    body = forms.CharField(
        label="Message",
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 6}),
    )
    attachments = MultipleFileField(label="Joindre des fichiers", required=False)
    documents = forms.MultipleChoiceField(
        label="Joindre des documents de Mon espace santé",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    synthesis = forms.BooleanField(
        label="Ajouter le profil médical (synthèse en PDF)",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, documents: list[Document], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = budget_hint()
        self.choice_field("documents").choices = [
            (str(d.pk), f"{d.title} ({d.service_date:%d/%m/%Y})") for d in documents
        ]


class ReplyForm(ComposeForm):
    reply_all = forms.BooleanField(
        label="Répondre à tous",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class NewMessageForm(ComposeForm):
    """« Envoyer mon ordonnance » / a new message to a pharmacy."""

    mailbox = forms.ChoiceField(
        label="Pharmacie", widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    subject = forms.CharField(
        label="Objet",
        max_length=SUBJECT_MAX,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args: Any, pharmacies: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("mailbox").choices = pharmacies
        self.order_fields(["mailbox", "subject", "body", "attachments", "documents", "synthesis"])


class SaveAttachmentForm(MesForm):
    title = forms.CharField(
        label="Nom du document",
        max_length=255,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    category = forms.ChoiceField(
        label="Catégorie", widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("category").choices = [("", "Choisir une catégorie"), *category_choices()]
