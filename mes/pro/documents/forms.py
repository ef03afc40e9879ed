"""Forms of the Web PS's documents: the list's filters and the deposit. They check the shape of
the input; the rules (which type a professional may deposit) are the domain's, which checks them
again."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, QuerySet
from django.utils import timezone

from mes.lib import codes, filetypes
from mes.lib.errors import InvalidInput
from mes.records.actions import TITLE_MAX, check_name
from mes.records.models import Document
from mes.web import widgets
from mes.web.forms import DocumentPeriodFilterForm, MesForm, upload_within_limit

# The classes as a professional's timeline names its groups, in the order they are shown.
CLASS_GROUPS = {
    "11": "Synthèses",
    "10": "Comptes rendus",
    "31": "Imagerie médicale",
    "42": "Prescriptions",
    "43": "Dispensations",
    "44": "Plans de soins et protocoles",
    "45": "Traitements administrés",
    "52": "Certificats et déclarations",
    "90": "Documents déposés par le patient",
    "95": "Documents de gestion",
    "60": "Données de remboursement",
}


def class_group_label(class_code: str) -> str:
    return CLASS_GROUPS.get(class_code) or codes.class_codes().get(class_code, class_code)


def professional_type_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The type codes a professional may deposit, grouped by class (mes-spec §4.4, §6.1 [INF]:
    neither the patient's own types nor the Assurance Maladie's reimbursement data)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for t in codes.type_codes().values():
        if not t.current or t.class_code in ("60", "90", "99") or t.code.startswith("DOCPAT"):
            continue
        groups.setdefault(t.class_code, []).append((t.code, t.display))
    return [
        (class_group_label(c), sorted(groups[c], key=lambda item: item[1].casefold()))
        for c in CLASS_GROUPS
        if c in groups
    ]


def readable_type_choices(type_codes: set[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The types present in a list, grouped by class (the filter offers only what exists)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    known = codes.type_codes()
    for code in type_codes:
        t = known.get(code)
        if t is not None:
            groups.setdefault(t.class_code, []).append((t.code, t.display))
    ordered = [c for c in CLASS_GROUPS if c in groups] + sorted(set(groups) - set(CLASS_GROUPS))
    return [
        (class_group_label(c), sorted(groups[c], key=lambda item: item[1].casefold()))
        for c in ordered
    ]


STATUS_CHOICES = [
    (Document.Status.CURRENT.value, "Actifs"),
    (Document.Status.SUPERSEDED.value, "Remplacés par une nouvelle version"),
    (Document.Status.ARCHIVED.value, "Archivés"),
]
SORTS = {
    "recents": ("Plus récents", (F("service_date").desc(), F("deposited_at").desc())),
    "anciens": ("Plus anciens", (F("service_date").asc(), F("deposited_at").asc())),
}
DEFAULT_SORT = "recents"
VIEWS = [("classes", "Frise par classe"), ("liste", "Liste chronologique")]


class DocumentFilterForm(DocumentPeriodFilterForm):
    """Filters of the professional's list (TD3.1 findDocuments): class, type, dates, author,
    status; a GET form that works without JavaScript."""

    classe = forms.ChoiceField(label="Classe de documents", required=False, widget=widgets.select())
    type = forms.ChoiceField(label="Type de document", required=False, widget=widgets.select())
    auteur = forms.CharField(label="Auteur", required=False, max_length=100, widget=widgets.text())
    du = forms.DateField(
        label="Du",
        required=False,
        widget=widgets.date_input(),
        error_messages={"invalid": "Saisissez une date valide."},
    )
    au = forms.DateField(
        label="Au",
        required=False,
        widget=widgets.date_input(),
        error_messages={"invalid": "Saisissez une date valide."},
    )
    statut = forms.MultipleChoiceField(
        label="Statut",
        required=False,
        choices=STATUS_CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="Sans choix, seuls les documents actifs sont affichés.",
    )
    tri = forms.ChoiceField(
        label="Ordre",
        required=False,
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        widget=widgets.select(),
    )
    vue = forms.ChoiceField(
        label="Affichage", required=False, choices=VIEWS, widget=widgets.select()
    )

    def __init__(self, *args: Any, present_types: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        present_classes = {
            codes.type_codes()[c].class_code for c in present_types if c in codes.type_codes()
        }
        self.fields["classe"].choices = [  # type: ignore[attr-defined]
            ("", "Toutes les classes"),
            *(
                (c, class_group_label(c))
                for c in [*CLASS_GROUPS, *sorted(present_classes - set(CLASS_GROUPS))]
                if c in present_classes
            ),
        ]
        self.fields["type"].choices = [  # type: ignore[attr-defined]
            ("", "Tous les types"),
            *readable_type_choices(present_types),
        ]

    @property
    def data_or_empty(self) -> dict[str, Any]:
        return self.cleaned_data if self.is_bound and self.is_valid() else {}

    @property
    def is_filtering(self) -> bool:
        data = self.data_or_empty
        return any(data.get(k) for k in ("classe", "type", "auteur", "du", "au", "statut"))

    @property
    def grouped(self) -> bool:
        return (self.data_or_empty.get("vue") or "classes") == "classes"

    def apply(self, qs: QuerySet[Document]) -> QuerySet[Document]:
        data = self.data_or_empty
        qs = qs.filter(status__in=data.get("statut") or [Document.Status.CURRENT.value])
        if data.get("classe"):
            qs = qs.filter(class_code=data["classe"])
        if data.get("type"):
            qs = qs.filter(type_code=data["type"])
        qs = self.by_author_and_period(qs, data)
        _, order = SORTS[data.get("tri") or DEFAULT_SORT]
        return qs.order_by(*order)


class DepositForm(MesForm):
    """Deposit a PDF document (TD2.1 sendDocument) with its type, date and visibility."""

    file = forms.FileField(
        label="Fichier PDF",
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".pdf,application/pdf"}
        ),
        error_messages={
            "required": "Choisissez le fichier PDF à déposer.",
            "empty": "Le fichier est vide.",
        },
    )
    type_code = forms.ChoiceField(
        label="Type de document",
        widget=widgets.select(),
        error_messages={
            "required": "Choisissez le type de document.",
            "invalid_choice": "Choisissez un type de document de la liste.",
        },
    )
    title = forms.CharField(
        label="Titre du document",
        max_length=TITLE_MAX,
        help_text="Ex. : Compte rendu de consultation de cardiologie",
        widget=widgets.text(autocomplete="off"),
        error_messages={"required": "Le champ « Titre du document » est obligatoire."},
    )
    service_date = forms.DateField(
        label="Date de l'acte",
        widget=widgets.date_input(),
        error_messages={
            "required": "Saisissez la date de l'acte.",
            "invalid": "Saisissez une date valide, par exemple 14/05/2026.",
        },
    )
    masked = forms.BooleanField(
        label="Masquer aux autres professionnels de santé (vous-même et le médecin traitant "
        "le verrez toujours)",
        required=False,
        widget=widgets.checkbox(),
    )
    hidden_from_patient = forms.BooleanField(
        label="Non visible par le patient en attendant une consultation d'annonce",
        help_text="Le patient le verra quand vous le lui rendrez visible, ou au plus tard un "
        "mois après le dépôt ; il est prévenu au bout de deux semaines qu'un document l'attend.",
        required=False,
        widget=widgets.checkbox(),
    )
    hidden_from_representatives = forms.BooleanField(
        label="Non visible par les représentants légaux, à la demande du patient mineur",
        help_text="Soins couverts par le secret demandé par le mineur (contraception, IVG, "
        "dépistage…).",
        required=False,
        widget=widgets.checkbox(),
    )
    replaces = forms.ChoiceField(
        label="Nouvelle version d'un de vos documents",
        required=False,
        widget=widgets.select(),
        help_text="Le document choisi sera remplacé par celui-ci.",
        error_messages={"invalid_choice": "Choisissez un de vos documents dans la liste."},
    )

    def __init__(
        self,
        *args: Any,
        minor: bool,
        replaceable: list[Document],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        max_mb = settings.MES_UPLOAD_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text = f"Format PDF uniquement, {max_mb} Mo au maximum."
        self.fields["type_code"].choices = [  # type: ignore[attr-defined]
            ("", "- Sélectionner un type -"),
            *professional_type_choices(),
        ]
        self.fields["service_date"].initial = timezone.localdate()
        if not minor:
            del self.fields["hidden_from_representatives"]
        if replaceable:
            self.fields["replaces"].choices = [  # type: ignore[attr-defined]
                ("", "Aucun : c'est un nouveau document"),
                *((str(d.pk), f"{d.title} ({d.service_date:%d/%m/%Y})") for d in replaceable),
            ]
        else:
            del self.fields["replaces"]

    def clean_title(self) -> str:
        try:
            return check_name(
                self.cleaned_data["title"], label="Titre du document", max_length=TITLE_MAX
            )
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_service_date(self) -> date:
        value: date = self.cleaned_data["service_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("La date de l'acte ne peut pas être dans le futur.")
        return value

    def clean_file(self) -> UploadedFile:
        upload = upload_within_limit(self.cleaned_data["file"])
        head = upload.read(16)
        upload.seek(0)
        # Judged by its content, never by its name or declared type (DESIGN.md §5).
        if filetypes.sniff(head) != "application/pdf":
            raise forms.ValidationError(
                "Format de fichier non accepté : seul le format PDF est accepté ici."
            )
        return upload
