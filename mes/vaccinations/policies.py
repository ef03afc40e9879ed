"""Who may reach a carnet de vaccination. Every outcome is traced (DESIGN.md §4).

- The holder and their legal representatives read and manage it (Action.MANAGE to change it).
- A professional reads it when they may read the dossier (decide READ: authorised, médecin
  traitant, emergency modes) and their profession may read a « Note de vaccination » in the
  habilitation matrix: the Vaccinations are one of the few things professionals reach
  (DESIGN.md §4, portal.md §2.1), and the matrix says which professions, as for documents.
- A professional records a vaccination when they may deposit in the dossier (any professional
  not blocked by the patient, as for documents, mes-spec §5.2): a pharmacist who vaccinates
  writes the carnet even without the patient's consent to read it.

Refusals raise NotFound, exactly as for what does not exist.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, Standing, decide
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .models import Vaccination

# The document type that stands for the carnet in the habilitation matrix (LOINC « Note de
# vaccination », class 52): a profession reads vaccinations if it may read this type.
VACCINATION_TYPE_CODE = "87273-9"


def _allowed(actor: Actor, action: Action, patient: Citizen) -> tuple[bool, str, Standing]:
    """decide() for the carnet: the matrix check for professionals, and only people act."""
    decision = decide(actor, action, patient)
    st = decision.standing
    if not decision.allowed:
        return False, decision.reason, st
    if actor.kind is ActorKind.CITIZEN:
        return True, "", st
    if actor.kind is not ActorKind.PROFESSIONAL:
        return False, "réservé à l'usager et aux professionnels de santé", st
    if action is Action.READ and not (
        st.readable_types is None or VACCINATION_TYPE_CODE in st.readable_types
    ):
        return False, "vaccinations hors de la matrice d'habilitations", st
    return True, "", st


def vaccinations_readable(actor: Actor, patient: Citizen) -> bool:
    """May this actor open the carnet? Pure (no trace), for menus and tabs; the page itself
    goes through access_vaccinations, which traces."""
    allowed, _, _ = _allowed(actor, Action.READ, patient)
    return allowed


@traced_action
def access_vaccinations(
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    action: Action,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
) -> tuple[Citizen, Standing]:
    """The patient whose carnet the actor may reach for this action, or NotFound (traced).

    action: READ (list), MANAGE (the citizen side changes it), DEPOSIT (a professional records
    a vaccination). trace_action: written when allowed (None: the caller's action traces
    itself); a refusal is traced under refused_as, else trace_action, else CONSULT.
    """
    refused_as = refused_as or trace_action or TraceAction.CONSULT_VACCINATIONS
    patient = patient_or_refused(actor, patient_id, refused_as=refused_as)
    ok, reason, st = _allowed(actor, action, patient)
    if not ok:
        raise Refused.because(
            actor, refused_as, patient.pk, reason, matrix_version=st.matrix_version
        )
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=patient.pk,
            matrix_version=st.matrix_version,
        )
    return patient, st


@traced_action
def access_vaccination(
    actor: Actor,
    vaccination_id: uuid.UUID,
    *,
    action: Action,
    trace_action: TraceAction | None,
    refused_as: TraceAction | None = None,
) -> Vaccination:
    """One vaccination the actor may reach for this action, or NotFound (traced)."""
    refused_as = refused_as or trace_action or TraceAction.CONSULT_VACCINATIONS
    vaccination = (
        Vaccination.objects.select_related("patient", "vaccinator")
        .filter(pk=vaccination_id)
        .first()
    )
    if vaccination is None:
        raise Refused.because(actor, refused_as, None, "vaccination inconnue")
    ok, reason, st = _allowed(actor, action, vaccination.patient)
    if not ok:
        raise Refused.because(
            actor,
            refused_as,
            vaccination.patient_id,
            reason,
            matrix_version=st.matrix_version,
            document_title=vaccination.vaccine_label,
        )
    if trace_action is not None:
        trace.record(
            actor=actor,
            action=trace_action,
            patient_id=vaccination.patient_id,
            document_title=vaccination.vaccine_label,
            matrix_version=st.matrix_version,
        )
    return vaccination


def vaccinations_visible_to(actor: Actor, patient_id: uuid.UUID) -> QuerySet[Vaccination]:
    """The carnet of a patient the actor may read (CONSULT_RUBRIQUE_VACCINATIONS trace), or
    NotFound (traced): the holder, a legal representative, or a professional who may read the
    dossier and whose profession may read vaccinations."""
    patient, _ = access_vaccinations(
        actor, patient_id, action=Action.READ, trace_action=TraceAction.CONSULT_VACCINATIONS
    )
    return Vaccination.objects.filter(patient=patient).select_related("vaccinator")
