"""Synthèse du profil médical (portal.md §2.1, §2.17; mes-spec §10).

The profil médical reaches professionals only through this synthesis saved as a document
(DESIGN.md §4): a French PDF of the sections the holder chose, in the order of the service's
`SectionToDownload`, deposited as DOCPAT08 « Profil médical Mon espace santé » (class 11,
citizen category SYNTH_PML). Saving again replaces the current synthesis, so there is one
current version; the older ones stay as superseded versions.

Only the holder or a legal representative generates it (decide MANAGE). Downloading it without
saving is traced as a download; saving is traced by the deposit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum

from django.utils import timezone

from mes.access.actors import Actor
from mes.audit import trace
from mes.audit.guard import traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.measures import bmi, profiles
from mes.measures.policies import measurements_of
from mes.measures.profiles import MeasureCode
from mes.prevention.calendar import default_calendar
from mes.records.actions import document_deposit
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.vaccinations.models import Vaccination

from . import directives, pdf
from .actions import current_answers
from .dates import PartialDate
from .directory import treating_physician
from .lifestyle import catalogue
from .models import (
    Allergy,
    BloodGroup,
    Contact,
    Disability,
    Disease,
    FamilyHistory,
    Hospitalisation,
    NotConcerned,
    OrganDonationAcknowledgement,
    ProfileProfessional,
    Treatment,
)

TYPE_CODE = "DOCPAT08"
CATEGORY = "SYNTH_PML"
TITLE = "Synthèse du profil médical"


class Section(StrEnum):
    """`SectionToDownload`, in the service's order (portal.md §2.1)."""

    VACCINES = "VACCINES"
    ALLERGIES = "ALLERGIES"
    DISEASES = "DISEASES"
    TREATMENTS = "TREATMENTS"
    MEASURES = "MEASURES"
    HOSPITALIZATIONS = "HOSPITALIZATIONS"
    FAMILY_HISTORY = "FAMILY_HISTORY"
    LIFESTYLES = "LIFESTYLES"
    ENTOURAGE_CONTACT = "ENTOURAGE_CONTACT"
    WISHES = "WISHES"
    HEALTH_PROFESSIONALS = "HEALTH_PROFESSIONALS"
    ADMINISTRATIVE_DOCUMENTS = "ADMINISTRATIVE_DOCUMENTS"
    DISABILITIES = "DISABILITIES"
    BLOOD_GROUP = "BLOOD_GROUP"


SECTION_LABELS: dict[Section, str] = {
    Section.VACCINES: "Vaccinations",
    Section.ALLERGIES: "Allergies",
    Section.DISEASES: "Maladies et sujets de santé",
    Section.TREATMENTS: "Traitements",
    Section.MEASURES: "Mesures",
    Section.HOSPITALIZATIONS: "Hospitalisations",
    Section.FAMILY_HISTORY: "Antécédents familiaux",
    Section.LIFESTYLES: "Habitudes de vie",
    Section.ENTOURAGE_CONTACT: "Entourage",
    Section.WISHES: "Volontés",
    Section.HEALTH_PROFESSIONALS: "Professionnels de santé",
    Section.ADMINISTRATIVE_DOCUMENTS: "Pièces administratives",
    Section.DISABILITIES: "Handicaps",
    Section.BLOOD_GROUP: "Groupe sanguin",
}
ALL_SECTIONS: tuple[Section, ...] = tuple(Section)

EMPTY = "Rien n'a été renseigné dans cette rubrique."


def ordered(sections: Iterable[Section | str]) -> list[Section]:
    """The chosen sections, each once, in the service's order; InvalidInput when none or an
    unknown one."""
    chosen: set[Section] = set()
    for s in sections:
        try:
            chosen.add(Section(s))
        except ValueError as exc:
            raise InvalidInput("Rubrique inconnue.", field="sections") from exc
    if not chosen:
        raise InvalidInput(
            "Choisissez au moins une rubrique à inclure dans la synthèse.", field="sections"
        )
    return [s for s in ALL_SECTIONS if s in chosen]


# --- actions --------------------------------------------------------------------------------


@traced_action
def synthesis_pdf(*, actor: Actor, patient_id: uuid.UUID, sections: list[Section]) -> bytes:
    """« Télécharger la synthèse médicale »: the PDF of the chosen sections, not kept.

    Precondition: the holder or a legal representative (decide MANAGE). Side effect: a
    TELECHARGEMENT_DOC trace titled « Synthèse du profil médical » (no document id: nothing is
    stored); a refusal is a traced NotFound.
    """
    patient = directives.managed_dossier(actor, patient_id, refused_as=TraceAction.DOWNLOAD_DOC)
    chosen = ordered(sections)
    content = render(actor=actor, patient=patient, sections=chosen, day=timezone.localdate())
    trace.record(
        actor=actor, action=TraceAction.DOWNLOAD_DOC, patient_id=patient.pk, document_title=TITLE
    )
    return content


@traced_action
def synthesis_save(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    sections: list[Section],
    masked: bool | None = None,
) -> Document:
    """« Enregistrer dans les documents »: the synthesis becomes a document professionals
    authorised by the matrix may read.

    Precondition: the holder or a legal representative. `masked` None follows the default
    confidentiality; False is « Rendre visible » (portal.md §2.17). Side effects: a DOCPAT08
    document deposited by the citizen, replacing the current synthesis (REMPLACEMENT_DOC) or a
    first one (DEPOT_DOC).
    """
    patient = directives.managed_dossier(actor, patient_id, refused_as=TraceAction.DEPOSIT_DOC)
    chosen = ordered(sections)
    today = timezone.localdate()
    content = render(actor=actor, patient=patient, sections=chosen, day=today)
    current = _current(actor, patient)
    return document_deposit(
        actor=actor,
        patient_id=patient.pk,
        content=content,
        title=TITLE,
        category=CATEGORY,
        service_date=today,
        description="Rubriques : " + ", ".join(SECTION_LABELS[s] for s in chosen),
        masked=masked,
        replaces_id=current.pk if current is not None and current.deposited_by_citizen else None,
        generated=True,
    )


@traced_action
def synthesis_current(*, actor: Actor, patient_id: uuid.UUID) -> Document | None:
    """The current saved synthesis of a dossier the actor manages (« Mis à jour le … »), or None.
    A list read: no trace when allowed, a traced NotFound when refused."""
    patient = directives.managed_dossier(actor, patient_id, refused_as=TraceAction.CONSULT_DOSSIER)
    return _current(actor, patient)


def _current(actor: Actor, patient: Citizen) -> Document | None:
    return (
        documents_visible_to(actor, patient)
        .filter(type_code=TYPE_CODE, status=Document.Status.CURRENT)
        .order_by("-deposited_at")
        .first()
    )


# --- the PDF --------------------------------------------------------------------------------


def render(*, actor: Actor, patient: Citizen, sections: list[Section], day: date) -> bytes:
    """The synthesis PDF: exactly the given sections, nothing else.

    Precondition: the caller checked the actor manages this dossier.
    """
    blocks: list[pdf.Block] = [
        pdf.Note(
            f"Synthèse établie le {pdf.french_date(day)} à partir des informations du profil "
            "médical renseignées dans Mon espace santé. Elle reflète ce qui était renseigné à "
            "cette date."
        )
    ]
    for section in sections:
        blocks.append(pdf.Heading(SECTION_LABELS[section]))
        body = RENDERERS[section](actor, patient, day)
        blocks += body or [pdf.Note(EMPTY)]
    return pdf.render(
        title=TITLE,
        subtitle=f"Profil médical de {patient.display_name}",
        identity=pdf.Identity.of(patient),
        blocks=blocks,
        author=actor.display_name,
    )


Renderer = Callable[[Actor, Citizen, date], list[pdf.Block]]


def _date(partial: PartialDate | None) -> str:
    return partial.display() if partial else ""


def _period(ongoing: bool, start: PartialDate | None, end: PartialDate | None) -> str:
    since = _date(start)
    if ongoing:
        return f"En cours depuis {since}" if since else "En cours"
    if since and end:
        return f"Du {since} au {_date(end)}"
    if end:
        return f"Jusqu'au {_date(end)}"
    return f"Depuis {since}" if since else ""


def _added_by(entry: object) -> str:
    source = getattr(entry, "source", "patient")
    who = getattr(entry, "added_by", "")
    return f"Ajouté par {who}" if source != "patient" and who else ""


def _not_concerned(patient: Citizen, section: str, what: str) -> list[pdf.Block]:
    declared = NotConcerned.objects.filter(patient=patient, section=section).first()
    if declared is None:
        return []
    return [pdf.Para(f"A déclaré ne pas avoir {what} le {declared.declared_on:%d/%m/%Y}.")]


def _join(*parts: str) -> str:
    return " – ".join(p for p in parts if p)


def _vaccines(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    calendar = default_calendar()
    rows = [("Vaccin", "Maladies", "Date", "Type", "Lot", "Origine")]
    for v in Vaccination.objects.filter(patient=patient).select_related("vaccinator"):
        diseases = ", ".join(calendar.valence_label(code) for code in v.valences)
        origin = v.added_by[0].upper() + v.added_by[1:]
        rows.append(
            (v.vaccine_label, diseases, f"{v.date:%d/%m/%Y}", v.get_kind_display(), v.lot, origin)
        )
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (1.3, 2, 1, 1.1, 0.8, 1.6))]
    return []


def _allergies(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Allergène", "Réaction et sévérité", "Depuis", "Informations complémentaires")]
    for a in Allergy.objects.filter(patient=patient).prefetch_related("treatments"):
        treatments = ", ".join(t.name for t in a.treatments.all())
        comment = _join(
            a.comment, f"Traitements liés : {treatments}" if treatments else "", _added_by(a)
        )
        rows.append((a.name, _join(a.reaction, a.get_severity_display()), _date(a.start), comment))
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (1.6, 1.8, 0.8, 3))]
    return _not_concerned(patient, "ALLERGIES", "d'allergie")


def _diseases(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Maladie ou sujet de santé", "Période", "Traitements", "Informations complémentaires")]
    for d in Disease.objects.filter(patient=patient).prefetch_related("treatments"):
        treatments = ", ".join(t.name for t in d.treatments.all())
        rows.append(
            (d.name, _period(d.ongoing, d.start, d.end), treatments, _join(d.comment, _added_by(d)))
        )
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (1.8, 1.5, 1.5, 3))]
    return _not_concerned(patient, "DISEASES", "de maladie ou de sujet de santé")


def _treatments(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Traitement", "Période", "Posologie", "Informations complémentaires")]
    for t in Treatment.objects.filter(patient=patient):
        rows.append(
            (t.name, _period(t.ongoing, t.start, t.end), t.dosage, _join(t.comment, _added_by(t)))
        )
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (1.6, 1.4, 2, 2.4))]
    return _not_concerned(patient, "TREATMENTS", "de traitement")


def _measures(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Mesure", "Dernière valeur", "Date", "Nombre de valeurs")]
    for t in profiles.TYPES:
        if t.computed:
            continue
        values = list(measurements_of(patient, t.code.value))
        if not values:
            continue
        last = values[0]
        shown = t.format(last.value)
        if t.code is MeasureCode.BLOOD_PRESSURE:
            shown = f"{shown}/{t.format(last.diastolic)}"
        shown = f"{shown} {t.unit_label}"
        if last.moment_label:
            shown = f"{shown} ({last.moment_label.lower()})"
        when = timezone.localtime(last.effective_at)
        rows.append((t.label, shown, f"{when:%d/%m/%Y}", str(len(values))))
        if t.code is MeasureCode.WEIGHT:
            rows += _bmi_row(patient)
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (2, 2, 1, 1))]
    return []


def _bmi_row(patient: Citizen) -> list[tuple[str, str, str, str]]:
    def samples(code: MeasureCode) -> list[bmi.Sample]:
        return [bmi.Sample(m.effective_at, m.value) for m in measurements_of(patient, code.value)]

    points = bmi.series(
        samples(MeasureCode.WEIGHT), samples(MeasureCode.HEIGHT), patient.birth_date
    )
    if not points:
        return []
    last = points[-1]
    t = profiles.get(MeasureCode.BODY_MASS_INDEX.value)
    band = bmi.band_for(last, patient.birth_date)
    shown = f"{t.format(last.value)} {t.unit_label}" + (f" ({band.label.lower()})" if band else "")
    when = timezone.localtime(last.at)
    return [(f"{t.label} (calculé)", shown, f"{when:%d/%m/%Y}", str(len(points)))]


def _hospitalisations(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Motif", "Date d'admission", "Durée du séjour", "Informations complémentaires")]
    for h in Hospitalisation.objects.filter(patient=patient):
        rows.append((h.reason, _date(h.admission), h.stay_display, _join(h.comment, _added_by(h))))
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (1.8, 1.2, 1.2, 3))]
    return _not_concerned(patient, "HOSPITALIZATIONS", "d'hospitalisation")


def _family_history(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Maladie", "Lien familial", "Informations complémentaires")]
    for f in FamilyHistory.objects.filter(patient=patient):
        rows.append((f.name, f.get_relative_display(), _join(f.comment, _added_by(f))))
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (2, 1.2, 3))]
    return _not_concerned(patient, "FAMILY_HISTORIES", "d'antécédent familial")


def _lifestyles(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    current = current_answers(patient)
    blocks: list[pdf.Block] = []
    for section in catalogue().sections:
        answers = {q: a.value for q, a in current.items() if a.value}
        rows: list[tuple[str, str]] = []
        latest = None
        for question in section.questions:
            answer = current.get(question.name)
            if answer is None or not answer.value or not question.shown(answers):
                continue
            rows.append((question.label, question.option_label(answer.value)))
            latest = max(latest or answer.answered_at, answer.answered_at)
        if rows and latest is not None:
            updated = f"Mis à jour le {timezone.localtime(latest):%d/%m/%Y}"
            blocks += [
                pdf.Heading(f"{section.label} – {updated}", level=2),
                pdf.Fields(tuple(rows)),
            ]
    return blocks


def _entourage(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Nom", "Rôle", "Lien", "Téléphone", "Adresse")]
    for c in Contact.objects.filter(patient=patient):
        phones = " / ".join(p for p in (c.phone1, c.phone2) if p)
        address = _join(c.address, f"{c.postal_code} {c.city}".strip(), c.country, c.email).replace(
            " – ", ", "
        )
        rows.append(
            (c.display_name, ", ".join(c.role_labels), c.get_link_display(), phones, address)
        )
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (1.3, 1.3, 1, 1.3, 2.2))]
    return []


def _wishes(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    blocks: list[pdf.Block] = [pdf.Heading("Directives anticipées", level=2)]
    current = directives._current(actor, patient)
    if current is not None and not current.masked_from_professionals:
        deposited = timezone.localtime(current.deposited_at)
        blocks.append(
            pdf.Para(
                f"Des directives anticipées ont été enregistrées le {deposited:%d/%m/%Y} "
                f"(« {current.title} ») : elles sont disponibles dans les documents de santé."
            )
        )
    else:
        # Directives masked from professionals are not revealed by the synthesis either.
        blocks.append(
            pdf.Para("Aucune directive anticipée n'est accessible aux professionnels de santé.")
        )
    blocks.append(pdf.Heading("Don d'organes et de tissus", level=2))
    ack = OrganDonationAcknowledgement.objects.filter(patient=patient).first()
    if ack is not None:
        blocks.append(
            pdf.Para(
                "A déclaré avoir pris connaissance des dispositions réglementaires relatives au "
                f"don d'organes et de tissus le {ack.acknowledged_on:%d/%m/%Y}."
            )
        )
    else:
        blocks.append(pdf.Para("Aucune déclaration relative au don d'organes."))
    return blocks


def _professionals(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    rows = [("Professionnel ou établissement", "Rôle", "Profession ou type")]
    treating = treating_physician(patient)
    if treating is not None:
        rows.append((treating.display_name, "Médecin traitant", treating.profession_label))
    entries = ProfileProfessional.objects.filter(patient=patient).select_related(
        "professional", "organisation"
    )
    for e in entries:
        if treating is not None and e.professional_id == treating.pk:
            continue
        if e.professional is not None:
            kind = e.professional.profession_label
        else:
            kind = e.organisation.get_kind_display() if e.organisation else ""
        rows.append((e.display_name, e.get_role_display() if e.role else "", kind))
    if len(rows) > 1:
        return [pdf.Rows(tuple(rows), (2, 1.4, 1.6))]
    return []


def _administrative_documents(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    # The synthesis is written for professionals: a piece masked from them is not listed.
    docs = (
        documents_visible_to(actor, patient)
        .filter(category="DOC_ADM", status=Document.Status.CURRENT)
        .filter(masked_from_professionals=False)
        .order_by("-service_date", "title")
    )
    rows = [("Document", "Date du document")]
    rows += [(d.title, f"{d.service_date:%d/%m/%Y}") for d in docs]
    if len(rows) > 1:
        return [
            pdf.Rows(tuple(rows), (3, 1)),
            pdf.Note("Ces pièces sont disponibles dans les documents de santé."),
        ]
    return []


def _disabilities(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    blocks: list[pdf.Block] = []
    for d in Disability.objects.filter(patient=patient):
        blocks += [
            pdf.Heading(d.name, level=2),
            pdf.Fields(
                (
                    ("Type de handicap", ", ".join(d.kind_labels)),
                    ("Taux d'incapacité", d.get_incapacity_rate_display()),
                    ("Aide technique", d.technical_aid),
                    ("Aide humaine", d.get_human_aid_display()),
                    ("Commentaire", _join(d.comment, _added_by(d))),
                )
            ),
        ]
    return blocks or _not_concerned(patient, "DISABILITIES", "de handicap")


def _blood_group(actor: Actor, patient: Citizen, day: date) -> list[pdf.Block]:
    group = BloodGroup.objects.filter(patient=patient).first()
    if group is None:
        return []
    return [pdf.Fields((("Groupe sanguin", _join(group.get_value_display(), _added_by(group))),))]


RENDERERS: dict[Section, Renderer] = {
    Section.VACCINES: _vaccines,
    Section.ALLERGIES: _allergies,
    Section.DISEASES: _diseases,
    Section.TREATMENTS: _treatments,
    Section.MEASURES: _measures,
    Section.HOSPITALIZATIONS: _hospitalisations,
    Section.FAMILY_HISTORY: _family_history,
    Section.LIFESTYLES: _lifestyles,
    Section.ENTOURAGE_CONTACT: _entourage,
    Section.WISHES: _wishes,
    Section.HEALTH_PROFESSIONALS: _professionals,
    Section.ADMINISTRATIVE_DOCUMENTS: _administrative_documents,
    Section.DISABILITIES: _disabilities,
    Section.BLOOD_GROUP: _blood_group,
}
