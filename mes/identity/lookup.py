"""Finding a patient (TD0.5 findPatients, and by INS) and showing their identity to a
professional, for the Web PS portal and the FHIR Patient resource alike. Each identity let out
is traced on the patient's chain (RECHERCHE_PATIENT), so the patient sees in Historique
d'activité who looked their dossier up.

The search only says who the person is and that a dossier exists; what the professional may do
on it is professional_standing (TD0.2) and the access decision.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from mes.access.actors import Actor, ActorKind
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.lib.errors import InvalidInput
from mes.lib.ins import Ins, InvalidIns, parse_ins

from .models import Citizen


def _with_espace() -> QuerySet[Citizen]:
    """Only people whose espace exists for professionals: an opposed (or not yet created,
    or purged) espace never existed for them (mes.enrolment.policies)."""
    from mes.enrolment.policies import visible_to_professionals_q

    return Citizen.objects.filter(visible_to_professionals_q())


# TD0.5: the name must have at least 2 characters; a search returning more candidates than
# this asks for more traits rather than listing a crowd (against « fishing », mes-spec §5.2).
NAME_MIN = 2
MAX_RESULTS = 20


@dataclass(frozen=True)
class SearchResult:
    patients: list[Citizen]
    too_many: bool = False


def fold(text: str) -> str:
    """Case, accents, hyphens and apostrophes do not matter in a name search."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    for sep in "-'’":
        bare = bare.replace(sep, " ")
    return " ".join(bare.casefold().split())


def _professional_only(actor: Actor, patient_id: uuid.UUID | None = None) -> None:
    if actor.kind is not ActorKind.PROFESSIONAL or actor.professional_id is None:
        raise Refused.because(
            actor,
            TraceAction.SEARCH_PATIENT,
            patient_id,
            "réservé à un professionnel de santé identifié",
        )


def _trace_found(actor: Actor, patients: list[Citizen]) -> None:
    for patient in patients:
        trace.record(actor=actor, action=TraceAction.SEARCH_PATIENT, patient_id=patient.pk)


@traced_action
def patient_search_by_ins(*, actor: Actor, ins: str) -> SearchResult:
    """The patient whose INS (matricule NIR or NIA, 15 characters with the key) this is.

    Precondition: a professional. InvalidInput (French) for a malformed number. Side effect: a
    RECHERCHE_PATIENT trace on the patient found.
    """
    _professional_only(actor)
    try:
        parsed = parse_ins(ins)
    except InvalidIns as exc:
        raise InvalidInput(str(exc), field="ins") from exc
    patients = list(_with_espace().filter(ins=parsed.value))  # the INS is unique
    _trace_found(actor, patients)
    return SearchResult(patients=patients)


@traced_action
def patient_search_by_parsed_ins(*, actor: Actor, ins: Ins) -> SearchResult:
    """The same, for an INS already checked with its kind (the FHIR `system|value` token): a
    NIA is a different identifier from the NIR with the same digits."""
    _professional_only(actor)
    patients = list(_with_espace().filter(ins=ins.value, ins_kind=ins.kind.value))
    _trace_found(actor, patients)
    return SearchResult(patients=patients)


@traced_action
def patient_search_by_traits(
    *, actor: Actor, last_name: str, birth_date: date, first_name: str = ""
) -> SearchResult:
    """Candidates by identity traits (TD0.5): nom (birth or used name, from its beginning,
    ignoring case and accents, at least 2 characters), date de naissance, optional prénom.

    Precondition: a professional. Side effect: a RECHERCHE_PATIENT trace on each patient shown;
    none when the search is too broad (nothing shown) or finds nobody.
    """
    _professional_only(actor)
    wanted_name = fold(last_name)
    wanted_first = fold(first_name)
    if len(wanted_name.replace(" ", "")) < NAME_MIN:
        raise InvalidInput(
            f"Le nom doit compter au moins {NAME_MIN} caractères.", field="last_name"
        )
    found = []
    for citizen in _with_espace().filter(birth_date=birth_date).order_by("birth_name", "pk"):
        names = (fold(citizen.birth_name), fold(citizen.used_name))
        if not any(n and n.startswith(wanted_name) for n in names):
            continue
        if wanted_first:
            firsts = [fold(citizen.used_first_name), *map(fold, citizen.first_names.split())]
            firsts.append(fold(citizen.first_names))
            if not any(f and f.startswith(wanted_first) for f in firsts):
                continue
        found.append(citizen)
        if len(found) > MAX_RESULTS:
            return SearchResult(patients=[], too_many=True)
    _trace_found(actor, found)
    return SearchResult(patients=found)


@traced_action
def patient_identity(
    *, actor: Actor, patient_id: uuid.UUID, already_traced: bool = False
) -> Citizen:
    """The identity of a patient, for the patient page of the Web PS.

    Precondition: a professional. already_traced: this identity was already let out (and
    traced) to this professional in this session, by a search; otherwise this call writes a
    RECHERCHE_PATIENT trace. An unknown patient is NotFound, traced.
    """
    _professional_only(actor, patient_id)
    patient = patient_or_refused(
        actor, patient_id, refused_as=TraceAction.SEARCH_PATIENT, among=_with_espace()
    )
    if not already_traced:
        _trace_found(actor, [patient])
    return patient
