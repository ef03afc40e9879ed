"""Feeding and using Mon histoire de santé (portal.md §2.2).

The Assurance Maladie's feed (`import_file`, `mes reimbursements import FILE`) reads a CSV file of
reimbursement lines, one per reimbursed act, drug, vaccine, device or stay:

- UTF-8, `;` separated, a header line naming the columns below (in any order);
- `id_ligne` (required): the Assurance Maladie's identifier of the line. A line already loaded,
  by this file or an earlier one, is counted as a duplicate and never loaded twice;
- `nir` (required): the patient's NIR, 15 characters with its key;
- `date` (required): `AAAA-MM-JJ` or `JJ/MM/AAAA`: consultation, dispensation, prescription, or
  discharge date for a stay;
- `categorie` (required): BIOLOGIE, SOINS, MEDICAMENT, VACCIN, HOSPITALISATION, RADIOLOGIE or
  DISPOSITIF (models.Category);
- `professionnel` (required) and `id_professionnel` (RPPS or FINESS; the pharmacy's FINESS for a
  dispensation);
- `acte`: the act, drug, vaccine or device name (required for MEDICAMENT, VACCIN, DISPOSITIF);
  `code` (CIP13, CCAM, NGAP, LPP); `quantite` (a whole number); `groupe_therapeutique`;
  `valence` (vaccines);
- `prescripteur`, `specialite_prescripteur`; `sejour` (nature of a stay);
- `secret_mineur`: `O` when the line is a minor's secret care (L1111-5, L1111-5-1, L2212-4,
  L2212-7, L6211-3-1) whose mention the minor opposed: such a line is never loaded (R1111-33,
  mes-spec §3.5), and the report counts it without a word of its content.

Lines are processed in batches of MES_CARE_HISTORY_BATCH_SIZE, each in its own transaction: a bad
line is rejected with its line number and reason, and never stops the others.
"""

from __future__ import annotations

import csv
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import CharField
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, decide
from mes.access.patients import decided_patient
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction, TraceOutcome
from mes.identity.models import Citizen
from mes.lib import ins as ins_lib
from mes.lib.errors import Forbidden, InvalidInput
from mes.medical_profile import actions as profile_actions
from mes.medical_profile.dates import DateParts
from mes.medical_profile.inputs import TreatmentInput
from mes.notifications.actions import notify
from mes.notifications.models import Notification
from mes.vaccinations import actions as vaccination_actions
from mes.vaccinations import referential
from mes.vaccinations.models import Vaccination

from .models import CareHistorySettings, Category, Episode, ImportBatch
from .policies import access_episode

REQUIRED = ("id_ligne", "nir", "date", "categorie", "professionnel")
COLUMNS = (
    *REQUIRED,
    "id_professionnel",
    "acte",
    "code",
    "quantite",
    "groupe_therapeutique",
    "valence",
    "prescripteur",
    "specialite_prescripteur",
    "sejour",
    "secret_mineur",
)
NEEDS_LABEL = {Category.DRUG, Category.VACCINE, Category.DEVICE}
LENGTHS: dict[str, int] = {
    f.name: f.max_length for f in Episode._meta.fields if isinstance(f, CharField) and f.max_length
}


class Rejected(ValueError):
    """A line that cannot be loaded; str() is the French reason (never the line's content)."""


@dataclass(frozen=True)
class Line:
    number: int  # in the file, the header being line 1
    fields: dict[str, str]


def _text(line: Line, column: str, field_name: str) -> str:
    value = (line.fields.get(column) or "").strip()
    limit = LENGTHS.get(field_name)
    if limit and len(value) > limit:
        raise Rejected(f"« {column} » dépasse {limit} caractères")
    return value


def _date(raw: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw.strip(), fmt).date()
        except ValueError:
            continue
    raise Rejected("date invalide (attendu AAAA-MM-JJ ou JJ/MM/AAAA)")


def _episode(line: Line, patients: dict[str, Citizen], batch: ImportBatch) -> Episode:
    """The Episode of one line, not yet saved; Rejected with a reason otherwise."""
    for column in REQUIRED:
        if not (line.fields.get(column) or "").strip():
            raise Rejected(f"« {column} » manquant")
    try:
        nir = ins_lib.parse_ins(line.fields["nir"]).value
    except ins_lib.InvalidIns as exc:
        raise Rejected(f"NIR invalide : {exc}") from exc
    patient = patients.get(nir)
    if patient is None:
        raise Rejected("NIR inconnu de Mon espace santé")
    day = _date(line.fields["date"])
    if day > timezone.localdate():
        raise Rejected("date dans le futur")
    if day < patient.birth_date:
        raise Rejected("date antérieure à la naissance")
    try:
        category = Category(line.fields["categorie"].strip().upper())
    except ValueError as exc:
        raise Rejected("catégorie inconnue") from exc
    label = _text(line, "acte", "label")
    if category in NEEDS_LABEL and not label:
        raise Rejected("« acte » manquant pour cette catégorie")
    raw_quantity = (line.fields.get("quantite") or "").strip()
    quantity = None
    if raw_quantity:
        if not raw_quantity.isdigit() or int(raw_quantity) == 0 or int(raw_quantity) > 10_000:
            raise Rejected("quantité invalide")
        quantity = int(raw_quantity)
    return Episode(
        patient=patient,
        line_id=_text(line, "id_ligne", "line_id"),
        batch=batch,
        date=day,
        category=category,
        professional=_text(line, "professionnel", "professional"),
        professional_id=_text(line, "id_professionnel", "professional_id"),
        label=label,
        code=_text(line, "code", "code"),
        quantity=quantity,
        therapeutic_group=_text(line, "groupe_therapeutique", "therapeutic_group"),
        valence=_text(line, "valence", "valence"),
        prescriber=_text(line, "prescripteur", "prescriber"),
        prescriber_specialty=_text(line, "specialite_prescripteur", "prescriber_specialty"),
        stay=_text(line, "sejour", "stay"),
    )


def _chunks(lines: Iterator[Line], size: int) -> Iterator[list[Line]]:
    while chunk := list(islice(lines, size)):
        yield chunk


def _patients_of(chunk: list[Line]) -> dict[str, Citizen]:
    nirs = set()
    for line in chunk:
        try:
            nirs.add(ins_lib.parse_ins(line.fields.get("nir") or "").value)
        except ins_lib.InvalidIns:
            continue
    return {c.ins: c for c in Citizen.objects.filter(ins__in=nirs, ins_kind="NIR")}


def _first_feed(patient: Citizen) -> None:
    """PRIMO_ALIM_MHS, once per patient (portal.md §2.2)."""
    prefs, _ = CareHistorySettings.objects.get_or_create(patient=patient)
    if prefs.first_fed_at is not None:
        return
    CareHistorySettings.objects.filter(pk=prefs.pk).update(first_fed_at=timezone.now())
    notify(
        profile=patient,
        code=Notification.Code.CARE_HISTORY_FIRST_FEED,
        label="Mon histoire de santé a été alimentée par l'Assurance Maladie.",
        url=reverse("portal:care_history"),
        link_label="Voir mon histoire de santé",
    )


def _load_chunk(actor: Actor, batch: ImportBatch, chunk: list[Line], report: list[str]) -> None:
    patients = _patients_of(chunk)
    episodes: list[Episode] = []
    seen: set[str] = set()
    for line in chunk:
        if (line.fields.get("secret_mineur") or "").strip().upper() == "O":
            batch.withheld += 1  # R1111-33: not loaded, nothing of it kept
            continue
        try:
            episode = _episode(line, patients, batch)
        except Rejected as why:
            batch.rejected += 1
            report.append(f"ligne {line.number} : {why}")
            continue
        if episode.line_id in seen:
            batch.duplicates += 1
            continue
        seen.add(episode.line_id)
        episodes.append(episode)
    known = set(
        Episode.objects.filter(line_id__in=[e.line_id for e in episodes]).values_list(
            "line_id", flat=True
        )
    )
    fresh = [e for e in episodes if e.line_id not in known]
    batch.duplicates += len(episodes) - len(fresh)
    by_patient: dict[uuid.UUID, list[Episode]] = defaultdict(list)
    for e in fresh:
        by_patient[e.patient_id].append(e)
    with transaction.atomic():
        for patient_id, rows in by_patient.items():
            patient = rows[0].patient
            decision = decide(actor, Action.DEPOSIT, patient)
            if not decision.allowed:
                trace.record(
                    actor=actor,
                    action=TraceAction.CARE_HISTORY_FEED,
                    outcome=TraceOutcome.REFUSED,
                    patient_id=patient_id,
                    reason=decision.reason,
                )
                batch.rejected += len(rows)
                report.append(f"{len(rows)} ligne(s) refusée(s) : {decision.reason}")
                continue
            Episode.objects.bulk_create(rows)
            batch.loaded += len(rows)
            trace.record(
                actor=actor,
                action=TraceAction.CARE_HISTORY_FEED,
                patient_id=patient_id,
                document_title=f"{len(rows)} ligne(s) de remboursement",
            )
            _first_feed(patient)
        batch.save()


def _read(path: Path) -> Iterator[Line]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=";")
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"Colonnes manquantes dans l'en-tête : {', '.join(missing)}.")
        for row in reader:
            yield Line(number=reader.line_num, fields={k: v or "" for k, v in row.items() if k})


def import_file(*, actor: Actor, path: Path, batch_size: int | None = None) -> ImportBatch:
    """Load a reimbursement file into the care histories (layout in this module's docstring).

    Precondition: the Assurance Maladie (an insurer actor). Idempotent: a line already loaded
    is a duplicate. Side effects: Episodes, one ALIM_HISTOIRE_SANTE trace per patient and batch,
    PRIMO_ALIM_MHS for a patient's first lines, the ImportBatch with its rejection report.
    InvalidInput for an unreadable file or a header without the required columns.
    """
    if actor.kind is not ActorKind.INSURER:
        raise Forbidden("Seule l'Assurance Maladie alimente Mon histoire de santé.")
    if not path.is_file():
        raise InvalidInput(f"Fichier introuvable : {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    batch = ImportBatch.objects.create(file_name=path.name[:255], sha256=digest)
    report: list[str] = []
    size = batch_size or settings.MES_CARE_HISTORY_BATCH_SIZE
    try:
        for chunk in _chunks(_read(path), size):
            batch.lines += len(chunk)
            _load_chunk(actor, batch, chunk, report)
    except UnicodeDecodeError as exc:
        report.append("fichier illisible : il doit être encodé en UTF-8")
        raise InvalidInput("Le fichier doit être encodé en UTF-8.") from exc
    finally:
        batch.report = "\n".join(report)
        batch.finished_at = timezone.now()
        batch.save()
    return batch


# --- the citizen's side ---------------------------------------------------------------------


@traced_action
def care_history_set_masked(*, actor: Actor, patient_id: uuid.UUID, masked: bool) -> None:
    """« Modifier la confidentialité »: masked from professionals, or visible to the authorised
    ones. Precondition: the citizen side (MANAGE). Side effect: a MODIF_CONFIDENTIALITE_MHS
    trace."""
    patient = decided_patient(
        actor, Action.MANAGE, patient_id, refused_as=TraceAction.CARE_HISTORY_PRIVACY
    )
    CareHistorySettings.objects.update_or_create(
        patient=patient,
        defaults={"masked_from_professionals": masked, "updated_at": timezone.now()},
    )
    trace.record(
        actor=actor,
        action=TraceAction.CARE_HISTORY_PRIVACY,
        patient_id=patient.pk,
        document_title="Masquée aux professionnels" if masked else "Visible des professionnels",
    )


def matching_vaccine(episode: Episode) -> referential.Vaccine | None:
    """The vaccine of the carnet's referential this dispensation names, if any."""
    wanted = "".join(ch for ch in episode.label.upper() if ch.isalnum())
    for vaccine in referential.vaccines().values():
        if vaccine.kind != "vaccin":
            continue
        if "".join(ch for ch in vaccine.label.upper() if ch.isalnum()) == wanted:
            return vaccine
    return None


def _citizen_episode(actor: Actor, episode_id: uuid.UUID, action: TraceAction) -> Episode:
    """A line of a history the actor manages (the citizen side): copying it into the profil
    médical is the citizen's act, never a professional's."""
    episode = access_episode(actor, episode_id)
    decision = decide(actor, Action.MANAGE, episode.patient)
    if not decision.allowed:
        raise Refused.because(actor, action, episode.patient_id, decision.reason)
    return episode


@traced_action
def episode_add_treatment(*, actor: Actor, episode_id: uuid.UUID) -> Episode:
    """« Ajouter ce traitement »: the dispensed drug becomes a treatment of the profil médical,
    started on the dispensation date. Precondition: a drug line the actor may read; the write
    itself is the profil médical's (its own policy and trace). Once only."""
    episode = _citizen_episode(actor, episode_id, TraceAction.ADD_PROFILE_ENTRY)
    if episode.category != Category.DRUG:
        raise InvalidInput("Seul un médicament délivré peut être ajouté aux traitements.")
    if episode.treatment_entry_id is not None:
        raise InvalidInput("Ce traitement est déjà ajouté à la rubrique Traitements.")
    d = episode.date
    entry = profile_actions.entry_add(
        actor=actor,
        patient_id=episode.patient_id,
        data=TreatmentInput(
            name=episode.label[:100],
            start=DateParts(year=d.year, month=d.month, day=d.day),
            ongoing=True,
            comment=f"Ajouté depuis Mon histoire de santé (délivré le {d:%d/%m/%Y}).",
        ),
    )
    Episode.objects.filter(pk=episode.pk).update(treatment_entry_id=entry.pk)
    episode.treatment_entry_id = entry.pk
    return episode


@traced_action
def episode_add_vaccination(*, actor: Actor, episode_id: uuid.UUID) -> Episode:
    """« Ajouter à mes vaccinations »: the dispensed vaccine goes into the carnet, dated by the
    dispensation. Precondition: a vaccine line the actor may read, naming a vaccine of the
    referential; the write itself is the carnet's (its own policy and trace). Once only."""
    episode = _citizen_episode(actor, episode_id, TraceAction.ADD_VACCINATION)
    if episode.category != Category.VACCINE:
        raise InvalidInput("Seul un vaccin délivré peut être ajouté aux vaccinations.")
    if episode.vaccination_id is not None:
        raise InvalidInput("Ce vaccin est déjà ajouté à vos vaccinations.")
    vaccine = matching_vaccine(episode)
    if vaccine is None:
        raise InvalidInput(
            "Ce vaccin n'est pas dans la liste du carnet : ajoutez-le depuis vos vaccinations."
        )
    vaccination = vaccination_actions.vaccination_add(
        actor=actor,
        patient_id=episode.patient_id,
        vaccine_code=vaccine.code,
        vaccination_date=episode.date,
        kind=Vaccination.Kind.UNKNOWN,
        comment="Ajouté depuis Mon histoire de santé (date de délivrance).",
    )
    Episode.objects.filter(pk=episode.pk).update(vaccination_id=vaccination.pk)
    episode.vaccination_id = vaccination.pk
    return episode
