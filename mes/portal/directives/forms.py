"""Forms of the directives anticipées and synthèse screens (portal.md §4, §2.17).

They check the shape of the input; the rules (who may write, witnesses, limits) stay in
mes.medical_profile.directives and .synthesis, which check them again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms.boundfield import BoundField

from mes.medical_profile import directives as da
from mes.medical_profile.directives import Choice, DirectivesInput, DirectivesModel
from mes.medical_profile.synthesis import ALL_SECTIONS, SECTION_LABELS, Section
from mes.web import widgets
from mes.web.forms import MesForm, upload_within_limit

ACCEPT = ".pdf,.jpg,.jpeg,.png,.tif,.tiff"


def _choices(labels: dict[Choice, str]) -> list[tuple[str, str]]:
    return [(c.value, labels[c]) for c in (Choice.YES, Choice.NO, Choice.UNSPECIFIED)]


def _char(label: str, max_length: int, help_text: str = "", **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=help_text,
        widget=widgets.text(**attrs),
    )


def _long(label: str, help_text: str = "", rows: int = 3) -> forms.CharField:
    limit = f"{da.TEXT_MAX} caractères au maximum."
    return forms.CharField(
        label=label,
        required=False,
        max_length=da.TEXT_MAX,
        help_text=f"{help_text} {limit}".strip(),
        widget=widgets.textarea(rows),
    )


def _choice(label: str, labels: dict[Choice, str]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        initial=Choice.UNSPECIFIED.value,
        choices=_choices(labels),
        widget=widgets.radios(),
    )


class DirectivesUploadForm(MesForm):
    """« Déposer mes directives signées »: a scan or PDF of the signed document."""

    file = forms.FileField(
        label="Document signé",
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ACCEPT}),
        error_messages={
            "required": "Choisissez le fichier de vos directives signées.",
            "empty": "Le fichier est vide.",
        },
    )
    service_date = forms.DateField(
        label="Date de signature",
        required=False,
        help_text="Laissez vide pour utiliser la date du jour.",
        widget=widgets.date_input(),
        error_messages={"invalid": "Saisissez une date valide, par exemple 14/05/2024."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        max_mb = settings.MES_UPLOAD_MAX_BYTES // (1024 * 1024)
        self.fields[
            "file"
        ].help_text = f"Formats acceptés : PDF, JPEG, PNG, TIFF. Taille maximale : {max_mb} Mo"

    def clean_file(self) -> UploadedFile:
        return upload_within_limit(self.cleaned_data["file"])


class DirectivesWriteForm(MesForm):
    """The official model A or B, part by part (portal.md §4.2, §4.3)."""

    # Part 1: identity (name and date of birth come from the INS, shown as text).
    birth_place = _char("Lieu de naissance", da.NAME_MAX, autocomplete="off")
    address = _char("Domicilié(e) à", da.ADDRESS_MAX, "Votre adresse, ou au moins votre commune.")
    # Part 2: tutelle.
    guardianship = forms.BooleanField(
        label="Je bénéficie d'une mesure de tutelle", required=False, widget=widgets.checkbox()
    )
    guardianship_judge = forms.BooleanField(
        label="J'ai l'autorisation du juge des tutelles", required=False, widget=widgets.checkbox()
    )
    guardianship_council = forms.BooleanField(
        label="J'ai l'autorisation du conseil de famille", required=False, widget=widgets.checkbox()
    )
    # Part 3: what I want known, outside the directives.
    personal_information = _long(
        "Ma situation personnelle, ma famille, mes proches",
        "Ce que vous souhaitez faire connaître aux médecins qui vous soigneront.",
    )
    fears_and_convictions = _long(
        "Mes craintes, mes attentes, mes convictions",
        "Ex. : la douleur, la solitude en fin de vie, des convictions religieuses…",
    )
    end_of_life_place = _long(
        "Le lieu où je souhaite finir mes jours", "Ex. : à mon domicile, à l'hôpital…", rows=2
    )
    # Part 4: the directives.
    situations = _long(
        "Les situations dans lesquelles je pourrais me trouver",
        "Ex. : un coma en phase terminale d'une maladie, un coma prolongé jugé irréversible…",
    )
    life_support = _choice("Le maintien artificiel de ma vie", da.LIFE_SUPPORT_LABELS)
    life_support_details = _long("Précisions sur le maintien artificiel de ma vie (facultatif)")
    other_act_name = _char(
        "Nom de l'autre acte ou traitement", da.NAME_MAX, "Ex. : transfusion sanguine"
    )
    sedation = _choice(
        "La sédation profonde et continue, en cas d'arrêt des traitements qui me maintiennent "
        "en vie",
        da.SEDATION_LABELS,
    )
    sedation_details = _long("Précisions sur la sédation (facultatif)")
    comments = _long("Autres volontés et commentaires")
    # Part 5: personne de confiance and signature.
    trusted_person = _char(
        "Nom et prénom de ma personne de confiance",
        da.NAME_MAX,
        "Laissez vide si vous n'en avez pas désigné.",
        autocomplete="off",
    )
    place = forms.CharField(
        label="Fait à",
        max_length=da.NAME_MAX,
        help_text="La commune où vous rédigez vos directives. La date est celle du jour.",
        widget=widgets.text(),
        error_messages={"required": "Le champ « Fait à » est obligatoire."},
    )
    # Part 6: witnesses, when the author can express her will but cannot write or sign.
    cannot_write = forms.BooleanField(
        label=(
            "Je suis en état d'exprimer ma volonté, mais je ne peux pas écrire ni signer moi-même"
        ),
        required=False,
        widget=widgets.checkbox(),
    )

    def __init__(self, *args: Any, model: DirectivesModel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        starts = da.START_LABELS[model]
        for key, label in da.ACTS:
            self.fields[f"{key}_start"] = _choice(
                "Qu'on l'entreprenne"
                if model is DirectivesModel.A
                else "Qu'on le mette en œuvre ou le poursuive",
                starts,
            )
            if model is DirectivesModel.A:
                self.fields[f"{key}_stop"] = _choice(
                    "Qu'on l'arrête s'il a déjà été entrepris", da.STOP_LABELS
                )
            self.fields[f"{key}_details"] = _long(f"Précisions : {label.lower()} (facultatif)")
        for n in range(1, da.WITNESSES + 1):
            self.fields[f"witness{n}_last_name"] = _char(f"Nom du témoin {n}", da.NAME_MAX)
            self.fields[f"witness{n}_first_names"] = _char(f"Prénom(s) du témoin {n}", da.NAME_MAX)
            self.fields[f"witness{n}_quality"] = _char(
                f"Qualité du témoin {n}", da.NAME_MAX, "Ex. : fille, ami, voisin, médecin…"
            )
            self.fields[f"witness{n}_trusted"] = forms.BooleanField(
                label=f"Le témoin {n} est ma personne de confiance",
                required=False,
                widget=widgets.checkbox(),
            )

    # The template lays the parts out; these group the fields it shows.
    def part(self, *names: str) -> list[BoundField]:
        return [self[name] for name in names]

    @property
    def acts(self) -> list[tuple[str, str, list[BoundField], BoundField]]:
        """Per act: its key, its label, its choices (start, and stop in model A), its details."""
        out = []
        for key, label in da.ACTS:
            names = [f"{key}_start", f"{key}_stop"]
            choices = [self[n] for n in names if n in self.fields]
            out.append((key, label, choices, self[f"{key}_details"]))
        return out

    @property
    def witnesses(self) -> list[tuple[int, list[BoundField]]]:
        return [
            (
                n,
                self.part(
                    f"witness{n}_last_name",
                    f"witness{n}_first_names",
                    f"witness{n}_quality",
                    f"witness{n}_trusted",
                ),
            )
            for n in range(1, da.WITNESSES + 1)
        ]

    @property
    def witnesses_open(self) -> bool:
        """Show the witnesses' part unfolded: ticked, or something to correct in it."""
        if not self.is_bound:
            return False
        if self.data.get("cannot_write"):
            return True
        return any(name.startswith("witness") for name in self.errors)

    def to_input(self) -> DirectivesInput:
        data = self.cleaned_data
        treatments = tuple(
            da.TreatmentWish(
                act=key,
                start=Choice(data.get(f"{key}_start") or ""),
                stop=Choice(data.get(f"{key}_stop") or ""),
                details=data.get(f"{key}_details") or "",
            )
            for key, _ in da.ACTS
        )
        witnesses: tuple[da.Witness, ...] = ()
        if data["cannot_write"]:
            witnesses = tuple(
                da.Witness(
                    last_name=data[f"witness{n}_last_name"],
                    first_names=data[f"witness{n}_first_names"],
                    quality=data[f"witness{n}_quality"],
                    is_trusted_person=data[f"witness{n}_trusted"],
                )
                for n in range(1, da.WITNESSES + 1)
            )
        return DirectivesInput(
            model=self.model,
            place=data["place"],
            birth_place=data["birth_place"],
            address=data["address"],
            guardianship=data["guardianship"],
            guardianship_judge=data["guardianship_judge"],
            guardianship_council=data["guardianship_council"],
            personal_information=data["personal_information"],
            fears_and_convictions=data["fears_and_convictions"],
            end_of_life_place=data["end_of_life_place"],
            situations=data["situations"],
            life_support=Choice(data["life_support"] or ""),
            life_support_details=data["life_support_details"],
            treatments=treatments,
            other_act_name=data["other_act_name"],
            sedation=Choice(data["sedation"] or ""),
            sedation_details=data["sedation_details"],
            comments=data["comments"],
            trusted_person=data["trusted_person"],
            cannot_write=data["cannot_write"],
            witnesses=witnesses,
        )


SAVE, SAVE_VISIBLE, DOWNLOAD = "save", "save_visible", "download"


class SynthesisForm(MesForm):
    """The sections of the synthèse (all ticked by default), and what to do with it."""

    sections = forms.MultipleChoiceField(
        label="Rubriques à inclure dans la synthèse",
        choices=[(s.value, SECTION_LABELS[s]) for s in ALL_SECTIONS],
        initial=[s.value for s in ALL_SECTIONS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={
            "required": "Choisissez au moins une rubrique à inclure dans la synthèse.",
            "invalid_choice": "Rubrique inconnue.",
        },
    )
    action = forms.ChoiceField(
        choices=[(SAVE, SAVE), (SAVE_VISIBLE, SAVE_VISIBLE), (DOWNLOAD, DOWNLOAD)],
        widget=forms.HiddenInput,
        error_messages={"required": "Choisissez de télécharger ou d'enregistrer la synthèse."},
    )

    @property
    def chosen(self) -> list[Section]:
        return [Section(s) for s in self.cleaned_data["sections"]]
