"""Directives anticipées (portal.md §4): deposit a signed document, or fill the official model
online and keep the generated PDF. Either way the directives ARE a document of the dossier:
type EXPPAT_3 (class 90), citizen category DIR_ANT, deposited by the person herself through
mes.records.actions.document_deposit, so professionals reach them through the matrix and the
masking rules like any other document (DESIGN.md §4, « Entourage et volontés »).

One current version: each new deposit (online or signed scan) replaces the current one, which
stays in the dossier as a superseded version (portal.md §4.1, §4.3 step 6).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.utils import timezone

from mes.access.actors import Actor
from mes.access.decision import Action, decide
from mes.access.patients import patient_or_refused
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.lib.text import check_text
from mes.records.actions import FORBIDDEN_NAME_CHARS, document_deposit
from mes.records.models import Document
from mes.records.policies import documents_visible_to

from . import pdf

TYPE_CODE = "EXPPAT_3"
CATEGORY = "DIR_ANT"
TITLE_ONLINE = "Directives anticipées"
TITLE_SIGNED = "Directives anticipées signées"
# L1111-11 CSP: « Toute personne majeure peut rédiger des directives anticipées ».
MAJORITY_AGE = 18
# portal.md §1.7: free texts 3000 characters, names 50.
TEXT_MAX = 3000
NAME_MAX = 50
ADDRESS_MAX = 100
# R1111-17: two witnesses attest when the author cannot write or sign.
WITNESSES = 2

MINOR_REFUSAL = (
    "Les directives anticipées ne s'appliquent pas aux mineurs : seule une personne majeure "
    "peut rédiger les siennes (article L1111-11 du code de la santé publique)."
)
NOT_HOLDER_REFUSAL = (
    "Les directives anticipées sont personnelles : seule la personne concernée peut les "
    "rédiger ou les déposer depuis son propre compte."
)


class DirectivesModel(StrEnum):
    """The two official models (arrêté of 3 August 2016, HAS form of October 2016)."""

    A = "A"  # serious illness, end of life near
    B = "B"  # in good health


MODEL_LABELS = {
    DirectivesModel.A: (
        "Je suis atteint(e) d'une maladie grave ou je pense être proche de la fin de ma vie"
    ),
    DirectivesModel.B: (
        "Je pense être en bonne santé ou je ne suis pas atteint(e) d'une maladie grave"
    ),
}


class Choice(StrEnum):
    """A wish: yes, no, or no opinion expressed."""

    YES = "oui"
    NO = "non"
    UNSPECIFIED = ""


# The acts and treatments the official models name (portal.md §4.2, §4.3), in that order.
ACTS: tuple[tuple[str, str], ...] = (
    ("resuscitation", "Réanimation cardiaque et respiratoire"),
    ("ventilation", "Respiration artificielle (assistance respiratoire, tube pour respirer)"),
    ("dialysis", "Branchement sur un appareil de dialyse rénale"),
    ("surgery", "Intervention chirurgicale"),
    ("nutrition", "Alimentation et hydratation artificielles"),
    ("other", "Autre acte ou traitement"),
)
ACT_LABELS = dict(ACTS)

START_LABELS = {
    DirectivesModel.A: {
        Choice.YES: "J'accepte qu'il soit entrepris",
        Choice.NO: "Je refuse qu'il soit entrepris",
        Choice.UNSPECIFIED: "Je ne me prononce pas",
    },
    DirectivesModel.B: {
        Choice.YES: "J'accepte qu'il soit mis en œuvre ou poursuivi",
        Choice.NO: "Je refuse qu'il soit mis en œuvre ou poursuivi",
        Choice.UNSPECIFIED: "Je ne me prononce pas",
    },
}
STOP_LABELS = {
    Choice.YES: "J'accepte qu'il soit arrêté",
    Choice.NO: "Je refuse qu'il soit arrêté",
    Choice.UNSPECIFIED: "Je ne me prononce pas",
}
LIFE_SUPPORT_LABELS = {
    Choice.YES: "Je souhaite être maintenu(e) artificiellement en vie",
    Choice.NO: "Je ne souhaite pas être maintenu(e) artificiellement en vie",
    Choice.UNSPECIFIED: "Je ne me prononce pas",
}
SEDATION_LABELS = {
    Choice.YES: (
        "Je souhaite bénéficier d'une sédation profonde et continue associée à un traitement "
        "de la douleur"
    ),
    Choice.NO: (
        "Je ne souhaite pas bénéficier d'une sédation profonde et continue associée à un "
        "traitement de la douleur"
    ),
    Choice.UNSPECIFIED: "Je ne me prononce pas",
}


@dataclass(frozen=True)
class TreatmentWish:
    act: str  # a key of ACTS
    start: Choice = Choice.UNSPECIFIED  # model A: started; model B: started or continued
    stop: Choice = Choice.UNSPECIFIED  # model A only: stopped if already started
    details: str = ""


@dataclass(frozen=True)
class Witness:
    last_name: str
    first_names: str
    quality: str  # « qualité » : lien avec l'auteur, profession…
    is_trusted_person: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_names} {self.last_name}".strip()


@dataclass(frozen=True)
class DirectivesInput:
    """What the online form captures: the official model's parts (portal.md §4.2, §4.3)."""

    model: DirectivesModel
    place: str  # « Fait à »
    birth_place: str = ""
    address: str = ""  # « Domicilié(e) à »
    guardianship: bool = False
    guardianship_judge: bool = False  # authorisation of the juge des tutelles
    guardianship_council: bool = False  # authorisation of the conseil de famille
    personal_information: str = ""  # situation personnelle, famille, proches
    fears_and_convictions: str = ""  # craintes, attentes, convictions
    end_of_life_place: str = ""
    situations: str = ""  # « contexte »
    life_support: Choice = Choice.UNSPECIFIED  # « maintien artificiel »
    life_support_details: str = ""
    treatments: tuple[TreatmentWish, ...] = ()
    other_act_name: str = ""
    sedation: Choice = Choice.UNSPECIFIED
    sedation_details: str = ""
    comments: str = ""
    trusted_person: str = ""  # name of the personne de confiance, empty when none
    cannot_write: bool = False
    witnesses: tuple[Witness, ...] = field(default_factory=tuple)


# --- who may write them ---------------------------------------------------------------------


def managed_dossier(actor: Actor, patient_id: uuid.UUID, *, refused_as: TraceAction) -> Citizen:
    """The dossier the actor manages (holder or legal representative), or NotFound.

    Precondition: called inside a @traced_action, which writes the refusal (traced as
    `refused_as`) after the rollback. Writes nothing when allowed: the caller traces its act.
    """
    patient = patient_or_refused(actor, patient_id, refused_as=refused_as)
    decision = decide(actor, Action.MANAGE, patient)
    if not decision.allowed:
        raise Refused.because(
            actor,
            refused_as,
            patient.pk,
            decision.reason,
            matrix_version=decision.standing.matrix_version,
        )
    return patient


def refusal_reason(*, actor: Actor, patient: Citizen, today: date | None = None) -> str:
    """Why this actor may not write directives for this patient ("" when they may).

    Minors cannot (L1111-11); nor can anybody for someone else, a legal representative
    included: the directives express the person's own will (portal.md §4.1).
    """
    today = today or timezone.localdate()
    if patient.age_on(today) < MAJORITY_AGE:
        return MINOR_REFUSAL
    if actor.citizen_id != patient.pk:
        return NOT_HOLDER_REFUSAL
    return ""


def _check_may_write(actor: Actor, patient: Citizen) -> None:
    reason = refusal_reason(actor=actor, patient=patient)
    if reason:
        raise InvalidInput(reason)


# --- reading --------------------------------------------------------------------------------


@traced_action
def directives_current(*, actor: Actor, patient_id: uuid.UUID) -> Document | None:
    """The current directives of a dossier the actor manages, or None.

    A list read (like the Documents list, no trace when allowed); a refusal is a traced
    NotFound. Professionals reach the directives through the Documents policies instead.
    """
    patient = managed_dossier(actor, patient_id, refused_as=TraceAction.CONSULT_DOSSIER)
    return _current(actor, patient)


def _current(actor: Actor, patient: Citizen) -> Document | None:
    return (
        documents_visible_to(actor, patient)
        .filter(type_code=TYPE_CODE, status=Document.Status.CURRENT)
        .order_by("-deposited_at")
        .first()
    )


def _replaced_id(actor: Actor, patient: Citizen) -> uuid.UUID | None:
    current = _current(actor, patient)
    # Only what the citizen side deposited can be replaced by the citizen (records rule).
    return current.pk if current is not None and current.deposited_by_citizen else None


# --- writing --------------------------------------------------------------------------------


@traced_action
def directives_upload(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    content: bytes,
    service_date: date | None = None,
    masked: bool | None = None,
) -> Document:
    """« Déposer mes directives signées »: a PDF or image of the signed directives.

    Precondition: the holder, adult. The content passes the deposit checks (format by content,
    size). Side effects: an EXPPAT_3 document replacing the current directives (REMPLACEMENT_DOC
    trace) or a first one (DEPOT_DOC). `masked` None follows the default confidentiality.
    """
    patient = managed_dossier(actor, patient_id, refused_as=TraceAction.DEPOSIT_DOC)
    _check_may_write(actor, patient)
    return document_deposit(
        actor=actor,
        patient_id=patient.pk,
        content=content,
        title=TITLE_SIGNED,
        category=CATEGORY,
        service_date=service_date,
        masked=masked,
        replaces_id=_replaced_id(actor, patient),
        generated=True,
    )


@traced_action
def directives_write(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    data: DirectivesInput,
    masked: bool | None = None,
) -> Document:
    """« Rédiger mes directives en ligne »: the official model A or B as a French PDF.

    Precondition: the holder, adult; the input is complete (a place, at least one wish, the
    authorisation under tutelle, two witnesses when the author cannot write). Side effects: the
    PDF deposited as EXPPAT_3 by the citizen, replacing the current directives; traced by the
    deposit. Bad input raises InvalidInput and stores nothing.
    """
    patient = managed_dossier(actor, patient_id, refused_as=TraceAction.DEPOSIT_DOC)
    _check_may_write(actor, patient)
    data = validate(data)
    today = timezone.localdate()
    content = render_pdf(patient=patient, data=data, day=today)
    return document_deposit(
        actor=actor,
        patient_id=patient.pk,
        content=content,
        title=TITLE_ONLINE,
        category=CATEGORY,
        service_date=today,
        description=f"Modèle {data.model.value} – {MODEL_LABELS[data.model]}",
        masked=masked,
        replaces_id=_replaced_id(actor, patient),
        generated=True,
    )


# --- validation -----------------------------------------------------------------------------


def _text(value: str, *, label: str, field_name: str, max_length: int = TEXT_MAX) -> str:
    value = check_text((value or "").strip(), label=label, field=field_name, multiline=True)
    if len(value) > max_length:
        raise InvalidInput(
            f"Le champ « {label} » ne doit pas dépasser {max_length} caractères.", field=field_name
        )
    return value


def _name(value: str, *, label: str, field_name: str, required: bool) -> str:
    value = _text(value, label=label, field_name=field_name, max_length=NAME_MAX)
    if required and not value:
        raise InvalidInput(f"Le champ « {label} » est obligatoire.", field=field_name)
    check_text(value, label=label, field=field_name)  # one line: no bidirectional override
    refused = sorted(set(value) & FORBIDDEN_NAME_CHARS)
    if refused:
        raise InvalidInput(
            f"Caractères refusés dans « {label} » : {' '.join(refused)}", field=field_name
        )
    return value


def validate(data: DirectivesInput) -> DirectivesInput:
    """The input with its texts trimmed, or InvalidInput (French message, field name)."""
    place = _name(data.place, label="Fait à", field_name="place", required=True)
    texts = {
        name: _text(getattr(data, name), label=label, field_name=name, max_length=limit)
        for name, label, limit in (
            ("birth_place", "Lieu de naissance", NAME_MAX),
            ("address", "Domicilié(e) à", ADDRESS_MAX),
            ("personal_information", "Informations me concernant", TEXT_MAX),
            ("fears_and_convictions", "Mes craintes, mes attentes, mes convictions", TEXT_MAX),
            ("end_of_life_place", "Lieu où je souhaite finir mes jours", TEXT_MAX),
            ("situations", "Les situations dans lesquelles je pourrais me trouver", TEXT_MAX),
            ("life_support_details", "Précisions sur le maintien artificiel", TEXT_MAX),
            ("sedation_details", "Précisions sur la sédation", TEXT_MAX),
            ("comments", "Autres volontés et commentaires", TEXT_MAX),
        )
    }
    other_act_name = _name(
        data.other_act_name,
        label="Nom de l'autre acte",
        field_name="other_act_name",
        required=False,
    )
    trusted = _name(
        data.trusted_person,
        label="Nom de ma personne de confiance",
        field_name="trusted_person",
        required=False,
    )
    treatments = []
    for wish in data.treatments:
        if wish.act not in ACT_LABELS:
            raise InvalidInput("Acte ou traitement inconnu.", field="treatments")
        if data.model is DirectivesModel.B and wish.stop is not Choice.UNSPECIFIED:
            raise InvalidInput(
                "Le modèle B ne distingue pas l'arrêt d'un traitement.", field="treatments"
            )
        details = _text(
            wish.details,
            label=f"Précisions : {ACT_LABELS[wish.act]}",
            field_name=f"{wish.act}_details",
        )
        treatments.append(
            TreatmentWish(act=wish.act, start=wish.start, stop=wish.stop, details=details)
        )
    expressed = any(t.start or t.stop or t.details for t in treatments)
    if any(t.act == "other" and (t.start or t.stop or t.details) for t in treatments) and not (
        other_act_name
    ):
        raise InvalidInput("Indiquez le nom de l'autre acte ou traitement.", "other_act_name")
    if not (
        expressed
        or data.life_support
        or data.sedation
        or texts["situations"]
        or texts["life_support_details"]
        or texts["sedation_details"]
        or texts["comments"]
    ):
        raise InvalidInput(
            "Exprimez au moins une volonté : sur le maintien artificiel de la vie, les actes et "
            "traitements, la sédation ou dans vos commentaires.",
            field="situations",
        )
    if data.guardianship and not (data.guardianship_judge or data.guardianship_council):
        raise InvalidInput(
            "Sous tutelle, les directives anticipées ne peuvent être rédigées qu'avec "
            "l'autorisation du juge ou du conseil de famille (article L1111-11).",
            field="guardianship",
        )
    witnesses: tuple[Witness, ...] = ()
    if data.cannot_write:
        witnesses = _witnesses(data.witnesses, trusted)
    return DirectivesInput(
        model=data.model,
        place=place,
        guardianship=data.guardianship,
        guardianship_judge=data.guardianship and data.guardianship_judge,
        guardianship_council=data.guardianship and data.guardianship_council,
        life_support=data.life_support,
        treatments=tuple(treatments),
        other_act_name=other_act_name,
        sedation=data.sedation,
        trusted_person=trusted,
        cannot_write=data.cannot_write,
        witnesses=witnesses,
        **texts,
    )


def _witnesses(given: tuple[Witness, ...], trusted: str) -> tuple[Witness, ...]:
    if len(given) != WITNESSES:
        raise InvalidInput(
            "Quand vous ne pouvez pas écrire, deux témoins attestent vos directives.",
            field="witness1_last_name",
        )
    out = []
    for n, w in enumerate(given, start=1):
        out.append(
            Witness(
                last_name=_name(
                    w.last_name,
                    label=f"Nom du témoin {n}",
                    field_name=f"witness{n}_last_name",
                    required=True,
                ),
                first_names=_name(
                    w.first_names,
                    label=f"Prénom(s) du témoin {n}",
                    field_name=f"witness{n}_first_names",
                    required=True,
                ),
                quality=_name(
                    w.quality,
                    label=f"Qualité du témoin {n}",
                    field_name=f"witness{n}_quality",
                    required=True,
                ),
                is_trusted_person=w.is_trusted_person,
            )
        )
    flagged = [w for w in out if w.is_trusted_person]
    if len(flagged) > 1:
        raise InvalidInput(
            "Un seul témoin peut être votre personne de confiance.", field="witness2_trusted"
        )
    if flagged and not trusted:
        raise InvalidInput(
            "Indiquez le nom de votre personne de confiance, puisqu'elle est témoin.",
            field="trusted_person",
        )
    if trusted and not flagged:
        # R1111-17: « deux témoins, dont la personne de confiance lorsqu'elle est désignée ».
        raise InvalidInput(
            "Votre personne de confiance doit être l'un des deux témoins.",
            field="witness1_trusted",
        )
    return tuple(out)


# --- the PDF --------------------------------------------------------------------------------


def _yes_no(value: bool) -> str:
    return "Oui" if value else "Non"


def _treatment_rows(data: DirectivesInput) -> pdf.Rows:
    by_act = {t.act: t for t in data.treatments}
    if data.model is DirectivesModel.A:
        header: tuple[str, ...] = (
            "Acte ou traitement",
            "Qu'on l'entreprenne",
            "Qu'on l'arrête s'il a été entrepris",
            "Précisions",
        )
    else:
        header = ("Acte ou traitement", "Qu'on le mette en œuvre ou le poursuive", "Précisions")
    rows = [header]
    for key, label in ACTS:
        wish = by_act.get(key, TreatmentWish(act=key))
        if key == "other":
            if not (data.other_act_name or wish.start or wish.stop or wish.details):
                continue
            label = f"Autre : {data.other_act_name}"
        start = START_LABELS[data.model][wish.start]
        if data.model is DirectivesModel.A:
            rows.append((label, start, STOP_LABELS[wish.stop], wish.details))
        else:
            rows.append((label, start, wish.details))
    weights = (1.6, 1.3, 1.3, 2) if data.model is DirectivesModel.A else (1.6, 1.6, 2)
    return pdf.Rows(tuple(rows), weights)


def _or_blank(text: str) -> str:
    return text or "Je ne me suis pas exprimé(e) sur ce point."


def render_pdf(*, patient: Citizen, data: DirectivesInput, day: date) -> bytes:
    """The filled official model as a French PDF, with the witnesses' attestation if any."""
    who = patient.display_name
    born = f"{patient.birth_date:%d/%m/%Y}" + (f" à {data.birth_place}" if data.birth_place else "")
    blocks: list[pdf.Block] = [
        pdf.Heading("Mon identité"),
        pdf.Fields(
            (
                ("Nom et prénoms", f"{patient.birth_name.upper()} {patient.first_names}"),
                *((("Nom d'usage", patient.used_name),) if patient.used_name else ()),
                ("Né(e) le", born),
                ("Domicilié(e) à", data.address),
            )
        ),
    ]
    if data.guardianship:
        blocks += [
            pdf.Heading("Mesure de tutelle"),
            pdf.Para("Je bénéficie d'une mesure de tutelle au sens du code civil."),
            pdf.Fields(
                (
                    ("J'ai l'autorisation du juge", _yes_no(data.guardianship_judge)),
                    (
                        "J'ai l'autorisation du conseil de famille",
                        _yes_no(data.guardianship_council),
                    ),
                )
            ),
            pdf.Note("Joindre la copie de l'autorisation."),
        ]
    blocks += [
        pdf.Heading("Informations ou souhaits que je veux exprimer"),
        pdf.Note("Ces informations ne sont pas des directives anticipées, mais les éclairent."),
        pdf.Heading("Ma situation personnelle, ma famille, mes proches", level=2),
        pdf.Para(_or_blank(data.personal_information)),
        pdf.Heading("Mes craintes, mes attentes, mes convictions", level=2),
        pdf.Para(_or_blank(data.fears_and_convictions)),
        pdf.Heading("Le lieu où je souhaite finir mes jours", level=2),
        pdf.Para(_or_blank(data.end_of_life_place)),
        pdf.Heading("Mes directives anticipées"),
        pdf.Para(
            "Je rédige les présentes directives anticipées pour le cas où je ne serais plus en "
            "mesure de m'exprimer au moment de la fin de ma vie. Mes volontés sont les suivantes :"
        ),
        pdf.Heading("1. Les situations dans lesquelles je pourrais me trouver", level=2),
        pdf.Para(_or_blank(data.situations)),
        pdf.Heading("2. Le maintien artificiel de ma vie", level=2),
        pdf.Para(LIFE_SUPPORT_LABELS[data.life_support] + "."),
    ]
    if data.life_support_details:
        blocks.append(pdf.Para(data.life_support_details))
    blocks += [
        pdf.Heading("3. Les actes et traitements médicaux", level=2),
        pdf.Para(
            "Lorsqu'ils apparaîtraient inutiles, disproportionnés ou n'ayant d'autre effet que le "
            "seul maintien artificiel de ma vie, mes volontés sur ces actes et traitements sont :"
        ),
        _treatment_rows(data),
        pdf.Heading("4. La sédation profonde et continue", level=2),
        pdf.Para(
            "En cas d'arrêt des traitements qui me maintiennent en vie : "
            + SEDATION_LABELS[data.sedation][0].lower()
            + SEDATION_LABELS[data.sedation][1:]
            + (" jusqu'à mon décès." if data.sedation is not Choice.UNSPECIFIED else ".")
        ),
    ]
    if data.sedation_details:
        blocks.append(pdf.Para(data.sedation_details))
    blocks += [
        pdf.Heading("5. Autres volontés et commentaires", level=2),
        pdf.Para(_or_blank(data.comments)),
        pdf.Heading("Ma personne de confiance"),
        pdf.Para(
            f"J'ai désigné comme personne de confiance : {data.trusted_person}. Elle connaît mes "
            "volontés et pourra en témoigner."
            if data.trusted_person
            else "Je n'ai pas désigné de personne de confiance."
        ),
    ]
    signed_on = f"Fait le {day:%d/%m/%Y} à {data.place}"
    if data.cannot_write:
        blocks += [
            pdf.Para(
                "Je suis en état d'exprimer ma volonté, mais je ne peux pas écrire ni signer "
                "moi-même ce document : l'attestation de deux témoins est jointe."
            ),
            pdf.Signature((signed_on, who)),
        ]
    else:
        blocks.append(pdf.Signature((signed_on, who, "Signature :")))
    blocks.append(
        pdf.Note(
            "Ces directives anticipées sont valables sans limite de durée. Je peux les modifier "
            "ou les annuler à tout moment ; la version la plus récente prévaut. Document rédigé "
            f"en ligne dans Mon espace santé le {pdf.french_date(day)}."
        )
    )
    if data.cannot_write:
        blocks += _attestation(who, data, day)
    return pdf.render(
        title="Mes directives anticipées",
        subtitle=f"Modèle {data.model.value} – {MODEL_LABELS[data.model]}",
        identity=pdf.Identity.of(patient),
        blocks=blocks,
        author=who,
    )


def _attestation(who: str, data: DirectivesInput, day: date) -> list[pdf.Block]:
    blocks: list[pdf.Block] = [
        pdf.NewPage(),
        pdf.Heading("Attestation des témoins"),
        pdf.Para(
            f"{who} est en état d'exprimer sa volonté mais ne peut pas écrire ni signer "
            "elle-même ses directives anticipées. Deux témoins, dont la personne de confiance "
            "lorsqu'elle est désignée, attestent que ce document est l'expression de sa volonté "
            "libre et éclairée (article R1111-17 du code de la santé publique)."
        ),
    ]
    for n, w in enumerate(data.witnesses, start=1):
        blocks += [
            pdf.Heading(f"Témoin {n}", level=2),
            pdf.Fields(
                (
                    ("Nom", w.last_name),
                    ("Prénom(s)", w.first_names),
                    ("Qualité", w.quality),
                    ("Personne de confiance", _yes_no(w.is_trusted_person)),
                )
            ),
            pdf.Para(
                f"Je soussigné(e) {w.display_name}, {w.quality}, atteste que les directives "
                f"anticipées ci-dessus sont l'expression de la volonté libre et éclairée de {who}."
            ),
            pdf.Signature((f"Fait le {day:%d/%m/%Y} à {data.place}", "Signature du témoin :")),
        ]
    return blocks
