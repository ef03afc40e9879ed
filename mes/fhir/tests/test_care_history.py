"""Mon histoire de santé over FHIR (ExplanationOfBenefit), with real access tokens: an authorised
professional reads it (R4-valid Bundle), an unrelated one and the Assurance Maladie do not, the
patient's masking is obeyed, and the scope is required."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.fhir.resources.care_history import SCOPE_EOB_READ
from mes.fhir.tests.conftest import ALL_DATA_SCOPES, INS_NIR_SYSTEM, fhir_json
from mes.reimbursements.actions import care_history_set_masked
from mes.reimbursements.tests.conftest import history as history

SCOPES = (*ALL_DATA_SCOPES, SCOPE_EOB_READ)
PATH = "/fhir/ExplanationOfBenefit"


def test_an_authorised_professional_reads_the_history(
    fhir_client_for, camille, ide_bernard, history
):
    api = fhir_client_for(ide_bernard, scopes=SCOPES)
    response = api.get(PATH, **{"patient.identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"})
    body = fhir_json(response, "Bundle")
    Bundle.model_validate(body)
    assert body["total"] == 3
    drug = next(e["resource"] for e in body["entry"] if e["resource"]["id"] == str(history[1].pk))
    assert drug["type"]["coding"][0]["code"] == "pharmacy"
    assert drug["item"][0]["productOrService"]["text"] == "METFORMINE 1000 MG CPR"
    assert drug["item"][0]["quantity"]["value"] == 2
    assert Trace.objects.filter(
        patient_id=camille.pk,
        action=TraceAction.CONSULT_CARE_HISTORY,
        outcome=TraceOutcome.ALLOWED,
        actor_name="Julie Bernard",
    ).exists()


def test_an_unrelated_professional_gets_not_found(fhir_client_for, camille, dr_durand, history):
    api = fhir_client_for(dr_durand, scopes=SCOPES)
    assert api.get(PATH, patient=str(camille.pk)).status_code == 404
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.CONSULT_CARE_HISTORY, outcome=TraceOutcome.REFUSED
    ).exists()


def test_masked_history_is_refused(fhir_client_for, camille, ide_bernard, history):
    care_history_set_masked(actor=citizen_actor(camille), patient_id=camille.pk, masked=True)
    api = fhir_client_for(ide_bernard, scopes=SCOPES)
    assert api.get(PATH, patient=str(camille.pk)).status_code == 404


def test_the_scope_is_required(fhir_client_for, camille, ide_bernard, history):
    api = fhir_client_for(ide_bernard, scopes=ALL_DATA_SCOPES)
    assert api.get(PATH, patient=str(camille.pk)).status_code == 403


def test_the_assurance_maladie_never_reads(
    fhir_client_for, camille, assurance_maladie_org, history
):
    api = fhir_client_for(assurance_maladie_org, scopes=SCOPES)
    assert api.get(PATH, patient=str(camille.pk)).status_code in (403, 404)
