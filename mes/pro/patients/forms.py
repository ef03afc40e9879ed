"""Forms of the Web PS's patient pages: finding a patient, the professional's authorisation and
the emergency access. They check the shape of the input; the rules (INS key, who may declare,
the emergency conditions) are the domain's, which checks them again."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from mes.identity.lookup import NAME_MIN
from mes.lib.ins import InvalidIns, parse_ins
from mes.web import widgets
from mes.web.forms import MesForm

# mes-spec §5.4 [INF]: the justification of an emergency access is mandatory free text.
JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 1000

BREAK_GLASS, CENTRE_15 = "bris_de_glace", "centre_15"


# --- finding a patient ------------------------------------------------------------------------


class InsSearchForm(MesForm):
    ins = forms.CharField(
        label="Matricule INS",
        max_length=30,
        help_text="15 caractères, clé comprise (NIR ou NIA), par exemple 2 81 03 75 115 042 17.",
        widget=widgets.text(autocomplete="off", spellcheck="false", autocapitalize="characters"),
        error_messages={"required": "Saisissez le matricule INS du patient."},
    )

    def clean_ins(self) -> str:
        try:
            return parse_ins(self.cleaned_data["ins"]).value
        except InvalidIns as exc:
            raise forms.ValidationError(str(exc)) from exc


class TraitsSearchForm(MesForm):
    last_name = forms.CharField(
        label="Nom",
        max_length=100,
        help_text=f"Nom de naissance ou nom utilisé, {NAME_MIN} caractères au moins (le début du "
        "nom suffit).",
        widget=widgets.text(autocomplete="off", spellcheck="false"),
        error_messages={"required": "Saisissez le nom du patient."},
    )
    first_name = forms.CharField(
        label="Prénom",
        max_length=100,
        required=False,
        widget=widgets.text(autocomplete="off", spellcheck="false"),
    )
    birth_date = forms.DateField(
        label="Date de naissance",
        widget=widgets.date_input(),
        error_messages={
            "required": "Saisissez la date de naissance du patient.",
            "invalid": "Saisissez une date valide, par exemple 12/03/1981.",
        },
    )

    def clean_last_name(self) -> str:
        value: str = self.cleaned_data["last_name"].strip()
        if len(value.replace(" ", "")) < NAME_MIN:
            raise forms.ValidationError(f"Le nom doit compter au moins {NAME_MIN} caractères.")
        return value

    def clean_birth_date(self) -> date:
        value: date = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("La date de naissance ne peut pas être dans le futur.")
        return value


# --- consent and emergency --------------------------------------------------------------------


class ConsentForm(MesForm):
    """« Le patient m'a donné son accord » (TD0.3 Add, R1111-46)."""

    attestation = forms.BooleanField(
        label="J'atteste avoir recueilli le consentement du patient à l'accès à son dossier.",
        widget=widgets.checkbox(),
        error_messages={"required": "Cochez l'attestation de recueil du consentement."},
    )
    treating_physician = forms.BooleanField(
        label="Je suis son médecin traitant (déclaré auprès de l'Assurance Maladie).",
        required=False,
        widget=widgets.checkbox(),
    )

    def __init__(self, *args: Any, may_be_treating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_be_treating:
            del self.fields["treating_physician"]


class EmergencyForm(MesForm):
    """The emergency access: bris de glace (L1111-17 I) or Centre 15 (médecin régulateur)."""

    mode = forms.ChoiceField(
        label="Type d'accès en urgence",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={
            "required": "Choisissez le type d'accès en urgence.",
            "invalid_choice": "Choisissez un type d'accès en urgence proposé.",
        },
    )
    justification = forms.CharField(
        label="Justification",
        min_length=JUSTIFICATION_MIN,
        max_length=JUSTIFICATION_MAX,
        help_text=f"Décrivez la situation qui justifie cet accès ({JUSTIFICATION_MIN} caractères "
        "au moins). Elle sera tracée et communiquée au patient et à son médecin traitant.",
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
        error_messages={
            "required": "La justification est obligatoire.",
            "min_length": f"La justification doit compter au moins {JUSTIFICATION_MIN} caractères.",
            "max_length": f"La justification ne doit pas dépasser {JUSTIFICATION_MAX} caractères.",
        },
    )
    attestation = forms.BooleanField(
        label="J'atteste que le patient est hors d'état d'exprimer sa volonté et que sa santé "
        "est exposée à un risque immédiat (bris de glace).",
        required=False,
        widget=widgets.checkbox(),
    )

    def __init__(self, *args: Any, centre_15: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (
                BREAK_GLASS,
                "Bris de glace : le patient ne peut pas exprimer sa volonté et sa santé est "
                "exposée à un risque immédiat",
            )
        ]
        if centre_15:
            choices.append(
                (
                    CENTRE_15,
                    "Centre 15 : je suis médecin régulateur et je reçois un appel concernant ce "
                    "patient",
                )
            )
        field = self.fields["mode"]
        field.choices = choices  # type: ignore[attr-defined]
        if not centre_15:
            field.initial = BREAK_GLASS

    def clean_justification(self) -> str:
        value: str = self.cleaned_data["justification"].strip()
        if len(value) < JUSTIFICATION_MIN:
            raise forms.ValidationError(
                f"La justification doit compter au moins {JUSTIFICATION_MIN} caractères."
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data.get("mode") == BREAK_GLASS and not data.get("attestation"):
            self.add_error(
                "attestation",
                "Cochez l'attestation : le bris de glace n'est permis que si le patient ne peut "
                "pas exprimer sa volonté face à un risque immédiat.",
            )
        return data
