"""Empty objects and arrays, and nulls in arrays, are not FHIR JSON (R4 §2.6.2: « empty objects
and arrays are not allowed »; a null only in an array of primitives, facing its `_element` twin).
Every write names them (`structure`, FHIR_INVALIDE, with its expression) BESIDE what its reading
then finds (a required element missing...), in one OperationOutcome; nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.patient import Patient

from mes.agenda.models import Appointment
from mes.audit.models import Trace, TraceAction
from mes.conftest import make_pdf, pro
from mes.fhir.core.jsontypes import JsonProblem, json_type_problems
from mes.fhir.resources.appointment import SCOPE_APPOINTMENT_READ, SCOPE_APPOINTMENT_WRITE
from mes.fhir.tests.conftest import ALL_DATA_SCOPES, fhir_json
from mes.fhir.tests.mhd_fixtures import MINIMAL, document, provide_bundle
from mes.records import actions
from mes.records.models import Document
from mes.vaccinations.fhir import VACCINE_SYSTEM
from mes.vaccinations.models import Vaccination

pytestmark = pytest.mark.django_db


def problems_of(resource: dict[str, Any]) -> list[JsonProblem]:
    return sorted(json_type_problems(Patient.model_validate(resource), resource, "Patient"))


def issues(response: Any) -> list[tuple[str, str, str]]:
    """(issue code, detail code or «», expression or «») of each issue of an OperationOutcome."""
    body = fhir_json(response, "OperationOutcome")
    return [
        (
            i["code"],
            (i.get("details") or {"coding": [{"code": ""}]})["coding"][0]["code"],
            i.get("expression", [""])[0],
        )
        for i in body["issue"]
    ]


# --- what jsontypes names ---------------------------------------------------------------------


def test_empty_objects_and_arrays_are_named_as_empty():
    found = problems_of(
        {
            "resourceType": "Patient",
            "meta": {},
            "identifier": [],
            "name": [{"family": "Lefèvre"}, {}],
            "telecom": [{"system": "phone", "value": "0600000000", "extension": []}],
        }
    )
    assert [(p.where, p.empty) for p in found] == [
        ("Patient.identifier", True),
        ("Patient.meta", True),
        ("Patient.name[1]", True),
        ("Patient.telecom[0].extension", True),
    ]
    assert "objet vide" in found[1].message and "tableau vide" in found[0].message


def test_a_null_in_an_array_of_primitives_needs_its_twin():
    alone = problems_of({"resourceType": "Patient", "name": [{"given": ["Camille", None]}]})
    assert [(p.where, p.empty) for p in alone] == [("Patient.name[0].given[1]", False)]
    assert "_given" in alone[0].message
    paired = {
        "resourceType": "Patient",
        "name": [{"given": ["Camille", None], "_given": [None, {"id": "deuxieme"}]}],
    }
    assert problems_of(paired) == []
    # A null facing a null is nothing, on either side; the twins have one rank per value.
    both = {"resourceType": "Patient", "name": [{"given": ["Camille", None], "_given": [None]}]}
    assert [p.where for p in problems_of(both)] == [
        "Patient.name[0]._given",
        "Patient.name[0].given[1]",
    ]
    assert "même longueur" in problems_of(both)[0].message
    nulls = {"resourceType": "Patient", "name": [{"given": [None], "_given": [None]}]}
    assert [p.where for p in problems_of(nulls)] == [
        "Patient.name[0]._given[0]",
        "Patient.name[0].given[0]",
    ]


def test_an_empty_array_of_primitives_is_empty_too():
    found = problems_of({"resourceType": "Patient", "active": True, "name": [{"given": []}]})
    assert [(p.where, p.empty) for p in found] == [("Patient.name[0].given", True)]


# --- ITI-65 -----------------------------------------------------------------------------------


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def assert_nothing_stored(camille) -> None:
    assert not Document.objects.filter(patient=camille).exists()
    assert not Trace.objects.filter(action=TraceAction.DEPOSIT_DOC).exists()


def test_iti65_an_empty_subject_beside_the_missing_patient(api, camille):
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][1]["resource"]["subject"] = {}
    bundle["entry"][1]["resource"]["context"]["event"] = []
    response = api.post("/fhir/", bundle)
    assert response.status_code == 422, response.content
    found = issues(response)
    assert sorted(found[:2]) == [
        ("structure", "FHIR_INVALIDE", "Bundle.entry[1].resource.context.event"),
        ("structure", "FHIR_INVALIDE", "Bundle.entry[1].resource.subject"),
    ]
    # What the reading found, after what is not FHIR JSON.
    assert found[2:] == [
        ("required", "XDSRegistryMetadataError", "Bundle.entry[1].resource.subject")
    ]
    assert_nothing_stored(camille)


def test_iti65_an_otherwise_valid_bundle_with_an_empty_element(api, camille):
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][1]["resource"]["securityLabel"][0]["coding"][0]["extension"] = []
    response = api.post("/fhir/", bundle)
    assert response.status_code == 422
    assert issues(response) == [
        (
            "structure",
            "FHIR_INVALIDE",
            "Bundle.entry[1].resource.securityLabel[0].coding[0].extension",
        )
    ]
    assert_nothing_stored(camille)


def test_iti65_a_null_in_a_profile_list(api, camille):
    bundle = provide_bundle(camille, [document()])
    bundle["meta"]["profile"] = [MINIMAL, None]
    response = api.post("/fhir/", bundle)
    assert issues(response) == [("structure", "FHIR_INVALIDE", "Bundle.meta.profile[1]")]
    assert_nothing_stored(camille)
    # Facing an extension of the element, the null is FHIR JSON: the bundle is taken.
    bundle["meta"]["_profile"] = [None, {"id": "profil-local"}]
    assert api.post("/fhir/", bundle).status_code == 200


# --- Appointment ------------------------------------------------------------------------------


def appointment(patient, **extra) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-12-20T11:00:00+01:00",
        "participant": [
            {"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"},
            {"actor": {"display": "Dr Martin"}, "status": "accepted"},
        ],
        **extra,
    }


def test_appointment_empty_elements_beside_the_missing_patient(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin, scopes=(*ALL_DATA_SCOPES, SCOPE_APPOINTMENT_WRITE))
    body = appointment(camille, meta={}, serviceType=[])
    body["participant"] = [{"actor": {"display": "Dr Martin"}, "status": "accepted"}]
    response = api.post("/fhir/Appointment", body)
    assert response.status_code == 422
    assert sorted(issues(response)) == [
        ("required", "", "Appointment.participant"),
        ("structure", "FHIR_INVALIDE", "Appointment.meta"),
        ("structure", "FHIR_INVALIDE", "Appointment.serviceType"),
    ]
    assert [i[0] for i in issues(response)][-1] == "required"  # what the reading found, last
    assert not Appointment.objects.exists()
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_appointment_an_empty_element_alone_is_refused_before_any_access(
    fhir_client_for, dr_martin, camille
):
    api = fhir_client_for(
        dr_martin, scopes=(*ALL_DATA_SCOPES, SCOPE_APPOINTMENT_READ, SCOPE_APPOINTMENT_WRITE)
    )
    body = appointment(camille)
    body["participant"][1]["actor"]["extension"] = []
    response = api.post("/fhir/Appointment", body)
    assert issues(response) == [
        ("structure", "FHIR_INVALIDE", "Appointment.participant[1].actor.extension")
    ]
    assert not Appointment.objects.exists()
    assert not Trace.objects.filter(patient_id=camille.pk).exists()
    del body["participant"][1]["actor"]["extension"]
    assert api.post("/fhir/Appointment", body).status_code == 201


def test_an_unrelated_doctor_with_an_empty_element_learns_nothing_more(
    fhir_client_for, dr_durand, camille
):
    """The shape is checked before the access, as for every other shape fault: the answer is
    the same whether the dossier exists or not."""
    api = fhir_client_for(dr_durand, scopes=(*ALL_DATA_SCOPES, SCOPE_APPOINTMENT_WRITE))
    response = api.post("/fhir/Appointment", appointment(camille, meta={}))
    assert issues(response) == [("structure", "FHIR_INVALIDE", "Appointment.meta")]
    assert not Appointment.objects.exists()


# --- Immunization -----------------------------------------------------------------------------


def test_immunization_an_empty_element_beside_an_unknown_vaccine(
    fhir_client_for, dr_martin, camille
):
    api = fhir_client_for(dr_martin)
    resource = {
        "resourceType": "Immunization",
        "status": "completed",
        "patient": {"reference": f"Patient/{camille.pk}"},
        "vaccineCode": {"coding": [{"system": VACCINE_SYSTEM, "code": "INCONNU"}]},
        "occurrenceDateTime": "2026-11-20",
        "note": [],
    }
    response = api.post("/fhir/Immunization", resource)
    assert response.status_code == 422
    assert issues(response) == [
        ("structure", "FHIR_INVALIDE", "Immunization.note"),
        ("value", "", "Immunization.vaccineCode"),
    ]
    assert not Vaccination.objects.exists()


# --- PATCH ------------------------------------------------------------------------------------


def test_a_patch_that_makes_an_empty_element(fhir_client_for, dr_martin, camille):
    doc = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Lettre"),
        title="Lettre de liaison",
        type_code="11490-0",
    )
    api = fhir_client_for(dr_martin)
    response = api.client.patch(
        f"/fhir/DocumentReference/{doc.pk}",
        json.dumps([{"op": "add", "path": "/securityLabel/-", "value": {}}]),
        content_type="application/json-patch+json",
        headers=api._headers(None),
    )
    assert response.status_code == 422
    # The empty label, and what the reading of the patch then makes of it.
    assert issues(response) == [
        ("structure", "FHIR_INVALIDE", "DocumentReference.securityLabel[1]"),
        ("value", "", ""),
    ]
    assert not Document.objects.get(pk=doc.pk).masked_from_professionals
    assert not Trace.objects.filter(action=TraceAction.MASK_DOC).exists()
