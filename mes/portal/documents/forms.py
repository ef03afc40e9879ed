"""Forms of the Documents screens (portal.md §3). They check the shape of the input; the rules
(names, categories, content, dates) stay in mes.records.actions, which checks them again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, QuerySet
from django.db.models.functions import Lower

from mes.lib import codes
from mes.lib.errors import InvalidInput
from mes.records.actions import CITIZEN_TITLE_MAX, FOLDER_NAME_MAX, REPORT_MAX, check_name
from mes.records.models import Document, Folder
from mes.web import widgets
from mes.web.forms import DocumentPeriodFilterForm, MesForm, upload_within_limit

ACCEPT = ".pdf,.txt,.rtf,.jpg,.jpeg,.png,.tif,.tiff"
NO_FOLDER = ""
VISIBLE, MASKED = "visible", "masked"


def category_choices() -> list[tuple[str, str]]:
    """The categories a citizen may choose (portal.md §3.1)."""
    return [(c.code, c.label) for c in codes.categories().values() if c.choosable]


def all_category_choices() -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in codes.categories().values()]


def folder_choices(folders: list[Folder], empty: str) -> list[tuple[str, str]]:
    return [(NO_FOLDER, empty), *((str(f.pk), f.name) for f in folders)]


def visibility_choices(own: bool) -> list[tuple[str, str]]:
    whose = "vos" if own else "ses"
    return [
        (
            VISIBLE,
            "Ce document est visible par les professionnels de santé autorisés à accéder à "
            f"{whose} documents.",
        ),
        (
            MASKED,
            "Ce document est masqué aux professionnels de santé. Il reste visible par la "
            "personne qui l'a déposé et par vous-même.",
        ),
    ]


def _clean_name(value: str, label: str, max_length: int) -> str:
    try:
        return check_name(value, label=label, max_length=max_length)
    except InvalidInput as exc:
        raise forms.ValidationError(str(exc)) from exc


def folder_id_of(value: str) -> int | None:
    return int(value) if value else None


class _DocumentFieldsForm(MesForm):
    """Name, date, category and folder: shared by the add and edit forms."""

    title = forms.CharField(
        label="Nom du document",
        max_length=CITIZEN_TITLE_MAX,
        help_text=f"{CITIZEN_TITLE_MAX} caractères au plus. Ex. : Ordonnance de soins n°4",
        widget=widgets.text(autocomplete="off"),
        error_messages={"required": "Le champ « Nom du document » est obligatoire."},
    )
    service_date = forms.DateField(
        label="Date du document",
        widget=widgets.date_input(),
        error_messages={"invalid": "Saisissez une date valide, par exemple 14/05/2024."},
    )
    category = forms.ChoiceField(
        label="Catégorie du document",
        widget=widgets.select(),
        error_messages={"required": "Choisissez une catégorie de document."},
    )
    folder = forms.ChoiceField(label="Dossier", required=False, widget=widgets.select())

    def __init__(self, *args: Any, folders: list[Folder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("category").choices = [
            ("", "- Sélectionner une catégorie -"),
            *category_choices(),
        ]
        self.choice_field("folder").choices = folder_choices(folders, "Aucun dossier")

    def clean_title(self) -> str:
        return _clean_name(self.cleaned_data["title"], "Nom du document", CITIZEN_TITLE_MAX)


class DocumentAddForm(_DocumentFieldsForm):
    """« Ajouter un document » (portal.md §3.2)."""

    confidentiality = forms.ChoiceField(
        label="Qui a accès à mes documents ?", widget=widgets.radios()
    )
    file = forms.FileField(
        label="Fichier",
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ACCEPT}),
        error_messages={
            "required": "Choisissez le fichier à ajouter.",
            "empty": "Le fichier est vide.",
        },
    )

    field_order = ["title", "service_date", "category", "folder", "confidentiality", "file"]

    def __init__(self, *args: Any, own: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The hint follows the setting, so it never promises a limit the server does not apply.
        max_mb = settings.MES_UPLOAD_MAX_BYTES // (1024 * 1024)
        self.fields[
            "file"
        ].help_text = (
            f"Formats acceptés : PDF, JPEG, PNG, TIFF, RTF, texte. Taille maximale : {max_mb} Mo"
        )
        self.fields["service_date"].required = False
        self.fields["service_date"].help_text = "Laissez vide pour utiliser la date du jour."
        self.choice_field("confidentiality").choices = visibility_choices(own)
        if not own:
            self.fields["confidentiality"].label = "Qui a accès à ses documents ?"

    def clean_file(self) -> UploadedFile:
        return upload_within_limit(self.cleaned_data["file"])

    @property
    def masked(self) -> bool:
        return self.cleaned_data["confidentiality"] == MASKED


class DocumentEditForm(_DocumentFieldsForm):
    """« Modifier » a document the citizen side deposited."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_date"].error_messages["required"] = (
            "Le champ « Date du document » est obligatoire."
        )


class ConfidentialityForm(MesForm):
    """« Gérer la confidentialité » (portal.md §3.4)."""

    confidentiality = forms.ChoiceField(
        label="Qui peut consulter ce document ?",
        widget=widgets.radios(),
        error_messages={"required": "Choisissez qui peut consulter ce document."},
    )

    def __init__(self, *args: Any, own: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("confidentiality").choices = visibility_choices(own)

    @property
    def masked(self) -> bool:
        return self.cleaned_data["confidentiality"] == MASKED


class MoveForm(MesForm):
    """« Déplacer » a document into a folder, or « Retirer » it (empty choice)."""

    op = forms.CharField(widget=forms.HiddenInput, initial="move")
    document = forms.UUIDField(widget=forms.HiddenInput)
    folder = forms.ChoiceField(label="Dossier", required=False, widget=widgets.select())

    def __init__(self, *args: Any, folders: list[Folder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("folder").choices = folder_choices(
            folders, "Aucun dossier (hors dossier)"
        )


class ReportForm(MesForm):
    """« Signaler un problème sur ce document » (portal.md §3.5)."""

    description = forms.CharField(
        label="Description du problème",
        max_length=REPORT_MAX,
        help_text=f"{REPORT_MAX} caractères au maximum.",
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 6}),
        error_messages={"required": "Décrivez le problème constaté."},
    )


class FolderForm(MesForm):
    """Create (no folder) or rename (folder set) a folder; `op` says which."""

    op = forms.CharField(widget=forms.HiddenInput)
    folder = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(
        label="Nom du dossier",
        max_length=FOLDER_NAME_MAX,
        help_text=f"{FOLDER_NAME_MAX} caractères au maximum.",
        widget=widgets.text(autocomplete="off"),
        error_messages={"required": "Le champ « Nom du dossier » est obligatoire."},
    )

    def clean_name(self) -> str:
        return _clean_name(self.cleaned_data["name"], "Nom du dossier", FOLDER_NAME_MAX)


SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "recents": ("Plus récents", (F("service_date").desc(), F("deposited_at").desc())),
    "anciens": ("Plus anciens", (F("service_date").asc(), F("deposited_at").asc())),
    "nom": ("Nom : A à Z", (Lower("title").asc(), F("deposited_at").desc())),
    "nom_desc": ("Nom : Z à A", (Lower("title").desc(), F("deposited_at").desc())),
    "auteur": ("Ajouté par : A à Z", (Lower("author_label").asc(), F("deposited_at").desc())),
    "auteur_desc": (
        "Ajouté par : Z à A",
        (Lower("author_label").desc(), F("deposited_at").desc()),
    ),
}
DEFAULT_SORT = "recents"


class DocumentFilterForm(DocumentPeriodFilterForm):
    """« Filtrer mes documents » and « Trier les documents »: a GET form, works without JS."""

    q = forms.CharField(
        label="Rechercher dans le nom", required=False, widget=widgets.text(type="search")
    )
    categorie = forms.MultipleChoiceField(
        label="Catégories",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    auteur = forms.CharField(label="Ajouté par", required=False, widget=widgets.text())
    du = forms.DateField(label="Du", required=False, widget=widgets.date_input())
    au = forms.DateField(label="Au", required=False, widget=widgets.date_input())
    dossier = forms.ChoiceField(label="Dossier", required=False, widget=widgets.select())
    epingles = forms.BooleanField(
        label="Seulement les documents épinglés",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    tri = forms.ChoiceField(
        label="Trier les documents",
        required=False,
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        widget=widgets.select(),
    )

    def __init__(self, *args: Any, folders: list[Folder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("categorie").choices = all_category_choices()
        self.choice_field("dossier").choices = folder_choices(folders, "Tous les dossiers")

    @property
    def is_filtering(self) -> bool:
        if not self.is_bound or not self.is_valid():
            return False
        return any(v for k, v in self.cleaned_data.items() if k != "tri")

    def apply(self, qs: QuerySet[Document]) -> QuerySet[Document]:
        """The documents matching the valid criteria, in the chosen order."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("q"):
            qs = qs.filter(title__icontains=data["q"].strip())
        if data.get("categorie"):
            qs = qs.filter(category__in=data["categorie"])
        qs = self.by_author_and_period(qs, data)
        if data.get("dossier"):
            qs = qs.filter(folder_id=int(data["dossier"]))
        if data.get("epingles"):
            qs = qs.filter(pinned_at__isnull=False)
        _, order = SORTS[data.get("tri") or DEFAULT_SORT]
        return qs.order_by(*order)
