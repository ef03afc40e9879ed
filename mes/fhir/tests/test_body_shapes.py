"""Every FHIR body the API takes goes through the same FHIR JSON check (R4 §2.6.2; conform /
conforming in mes/fhir/core/http.py): an empty object, an empty array, a null in an array, a
wrong JSON type are each named (`structure`, FHIR_INVALIDE, with the element's expression) in
one OperationOutcome, answered with the endpoint's own status for a faulty body, beside what
the reading then finds; nothing is stored and nothing is traced (the body is refused before any
espace is reached, whichever espace it names). The same body, valid, is taken.

Here: the professional's consent Parameters, and the paired apps' DocumentReference, PCH-01
measure Bundle and Appointment (ITI-65, PATCH, the professionals' Appointment and Immunization:
test_empty_elements.py)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mes.access.models import ProfessionalAccess
from mes.agenda.models import Appointment
from mes.audit.models import Trace
from mes.catalogue.models import ServiceDevice
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.conftest import make_pdf
from mes.fhir.services.tests_support import glucose_bundle
from mes.fhir.tests.test_empty_elements import issues
from mes.measures.models import Measurement
from mes.records.models import Document

pytestmark = pytest.mark.django_db

Body = dict[str, Any]
INVALID = "FHIR_INVALIDE"


def _set(path: str, value: Any) -> Callable[[Body], None]:
    """A change of the body: `value` at a dotted path (numbers index arrays)."""

    def change(body: Body) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return change


def _faulty(
    base: Body, cases: dict[str, tuple[Callable[[Body], None], str]]
) -> list[tuple[Body, str]]:
    out = []
    for change, where in cases.values():
        body = copy.deepcopy(base)
        change(body)
        out.append((body, where))
    return out


# --- The professional's consent (Parameters) --------------------------------------------------


def consent(value: Any = True) -> Body:
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "medecinTraitant", "valueBoolean": value}],
    }


CONSENT_CASES = {
    "empty object": (_set("meta", {}), "Parameters.meta"),
    "empty array": (_set("parameter.0.extension", []), "Parameters.parameter[0].extension"),
    "null in an array": (
        _set("meta", {"profile": ["http://example.org/p", None]}),
        "Parameters.meta.profile[1]",
    ),
    "wrong JSON type": (
        _set("parameter.0.valueBoolean", "true"),
        "Parameters.parameter[0].valueBoolean",
    ),
}


@pytest.mark.parametrize("case", list(CONSENT_CASES))
def test_a_consent_body_that_is_not_fhir_json(fhir_client_for, dr_durand, camille, case):
    change, where = CONSENT_CASES[case]
    body = consent()
    change(body)
    api = fhir_client_for(dr_durand)
    response = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", body)
    assert response.status_code == 400, response.content  # as this endpoint answers a bad body
    assert issues(response) == [("structure", INVALID, where)]
    assert not ProfessionalAccess.objects.filter(professional=dr_durand).exists()
    assert not Trace.objects.filter(patient_id=camille.pk).exists()
    # The same body, valid.
    valid = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", consent())
    assert valid.status_code == 200
    assert ProfessionalAccess.objects.filter(professional=dr_durand, patient=camille).exists()


def test_a_consent_with_an_empty_element_beside_a_missing_boolean(
    fhir_client_for, dr_durand, camille
):
    api = fhir_client_for(dr_durand)
    body = {
        "resourceType": "Parameters",
        "meta": {},
        "parameter": [{"name": "medecinTraitant", "valueString": "oui"}],
    }
    response = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", body)
    assert response.status_code == 422
    assert issues(response) == [
        ("structure", INVALID, "Parameters.meta"),
        ("value", "", "Parameters.parameter.where(name='medecinTraitant')"),
    ]
    assert not ProfessionalAccess.objects.filter(professional=dr_durand).exists()
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_an_unrelated_professional_learns_nothing_from_a_faulty_consent(
    fhir_client_for, dr_durand, camille, louis
):
    """The body is refused the same whatever patient the URL names (before any decision)."""
    api = fhir_client_for(dr_durand)
    body = {**consent(), "meta": {}}
    known = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", body)
    other = api.post(f"/fhir/Patient/{louis.pk}/$declarer-consentement", body)
    assert issues(known) == issues(other) == [("structure", INVALID, "Parameters.meta")]
    assert not Trace.objects.filter(patient_id__in=[camille.pk, louis.pk]).exists()


# --- The apps' API ----------------------------------------------------------------------------


def _post(url: str, token: str, body: Body, method: str = "post") -> Any:
    return getattr(Client(), method)(
        url,
        data=json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _nothing_traced(patient) -> bool:
    return not Trace.objects.filter(patient_id=patient.pk).exists()


SCOPES = "patient/DocumentReference.cruds patient/Observation.cruds patient/Appointment.cruds"


@pytest.fixture
def app_token(camille) -> str:
    raw, _ = paired_token(pair(glucose_service(), camille), scopes=SCOPES)
    return raw


@pytest.fixture
def other_app_token(pierre) -> str:
    """An app paired with another espace (Pierre's)."""
    raw, _ = paired_token(pair(glucose_service(), pierre), scopes=SCOPES)
    return raw


def report(espace_id: str) -> Body:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"code": "DOCPAT06"}]},
        "subject": {"reference": f"Patient/{espace_id}"},
        "date": "2026-12-06T23:59:00+01:00",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "title": "Rapport AGP",
                    "data": base64.b64encode(make_pdf("AGP")).decode(),
                }
            }
        ],
    }


DOCUMENT_CASES = {
    "empty object": (_set("type", {}), "DocumentReference.type"),
    "empty array": (_set("author", []), "DocumentReference.author"),
    "null in an array": (
        _set("meta", {"profile": ["http://example.org/p", None]}),
        "DocumentReference.meta.profile[1]",
    ),
    "wrong JSON type": (
        _set("content.0.attachment.size", "1024"),
        "DocumentReference.content[0].attachment.size",
    ),
}


@pytest.mark.parametrize("case", list(DOCUMENT_CASES))
def test_an_app_document_that_is_not_fhir_json(camille, app_token, case):
    change, where = DOCUMENT_CASES[case]
    body = report(str(camille.pk))
    change(body)
    response = _post("/fhir/services/DocumentReference", app_token, body)
    assert response.status_code == 422, response.content
    assert issues(response) == [("structure", INVALID, where)]
    assert not Document.objects.filter(patient=camille).exists()
    assert _nothing_traced(camille)
    valid = _post("/fhir/services/DocumentReference", app_token, report(str(camille.pk)))
    assert valid.status_code == 201, valid.content
    assert Document.objects.filter(patient=camille).count() == 1


def test_an_app_document_empty_element_beside_the_missing_document(camille, app_token):
    body = report(str(camille.pk))
    body["type"] = {}
    del body["content"][0]["attachment"]["data"]
    response = _post("/fhir/services/DocumentReference", app_token, body)
    assert response.status_code == 422
    assert issues(response) == [
        ("structure", INVALID, "DocumentReference.type"),
        ("required", "", "DocumentReference.content.attachment.data"),
    ]
    assert not Document.objects.filter(patient=camille).exists()
    assert _nothing_traced(camille)


def test_an_app_of_another_espace_gets_the_same_answer_for_a_faulty_document(
    camille, pierre, other_app_token
):
    body = {**report(str(camille.pk)), "author": []}
    response = _post("/fhir/services/DocumentReference", other_app_token, body)
    assert issues(response) == [("structure", INVALID, "DocumentReference.author")]
    assert not Document.objects.exists()
    assert _nothing_traced(camille) and _nothing_traced(pierre)
    # Valid, the body names another espace: refused as before (403, traced on the app's).
    refused = _post("/fhir/services/DocumentReference", other_app_token, report(str(camille.pk)))
    assert refused.status_code == 403
    assert Trace.objects.filter(patient_id=pierre.pk).count() == 1


OBSERVATION = "Bundle.entry[0].resource"
MEASURE_CASES = {
    "empty object": (_set("entry.0.resource.method", {}), f"{OBSERVATION}.method"),
    "empty array": (_set("entry.0.resource.note", []), f"{OBSERVATION}.note"),
    "null in an array": (
        _set("entry.1.resource.meta.profile", [None]),
        "Bundle.entry[1].resource.meta.profile[0]",
    ),
    "wrong JSON type": (
        _set("entry.0.resource.valueQuantity.value", "112"),
        f"{OBSERVATION}.valueQuantity.value",
    ),
}


@pytest.mark.parametrize("case", list(MEASURE_CASES))
def test_a_measure_bundle_that_is_not_fhir_json(camille, app_token, case):
    service = glucose_service()
    change, where = MEASURE_CASES[case]
    body = glucose_bundle(str(camille.pk), service_oid=service.oid)
    change(body)
    response = _post("/fhir/services/", app_token, body)
    assert response.status_code == 422, response.content
    assert issues(response) == [("structure", INVALID, where)]
    assert not Measurement.objects.exists() and not ServiceDevice.objects.exists()
    assert _nothing_traced(camille)
    valid = _post(
        "/fhir/services/", app_token, glucose_bundle(str(camille.pk), service_oid=service.oid)
    )
    assert valid.status_code == 200, valid.content
    assert Measurement.objects.filter(patient=camille).count() == 1


def test_a_measure_bundle_empty_element_beside_the_missing_moment(camille, app_token):
    service = glucose_service()
    body = glucose_bundle(str(camille.pk), service_oid=service.oid, moment=False)
    body["entry"][0]["resource"]["note"] = []
    response = _post("/fhir/services/", app_token, body)
    assert response.status_code == 422
    assert issues(response) == [
        ("structure", INVALID, f"{OBSERVATION}.note"),
        ("required", "", "Observation.extension"),
    ]
    assert not Measurement.objects.exists() and not ServiceDevice.objects.exists()


def test_a_measure_bundle_empty_element_beside_a_wrong_shape(camille, app_token):
    """The Bundle's own structure (one Observation, one Device) is read beside its empty
    elements too."""
    service = glucose_service()
    body = glucose_bundle(str(camille.pk), service_oid=service.oid)
    body["entry"][0]["resource"]["note"] = []
    body["entry"].append(copy.deepcopy(body["entry"][1]))
    response = _post("/fhir/services/", app_token, body)
    assert response.status_code == 422
    assert issues(response) == [
        ("structure", INVALID, f"{OBSERVATION}.note"),
        ("structure", "", "Bundle.entry"),
    ]
    assert not Measurement.objects.exists()


def appointment(espace_id: str) -> Body:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2027-01-15T09:30:00+01:00",
        "participant": [
            {"actor": {"reference": f"Patient/{espace_id}"}, "status": "accepted"},
            {"actor": {"display": "Dr Diabète"}, "status": "accepted"},
        ],
    }


APPOINTMENT_CASES = {
    "empty object": (_set("meta", {}), "Appointment.meta"),
    "empty array": (_set("serviceType", []), "Appointment.serviceType"),
    "null in an array": (
        _set("meta", {"profile": ["http://example.org/p", None]}),
        "Appointment.meta.profile[1]",
    ),
    "wrong JSON type": (_set("minutesDuration", "30"), "Appointment.minutesDuration"),
}


@pytest.mark.parametrize("case", list(APPOINTMENT_CASES))
def test_an_app_appointment_that_is_not_fhir_json(camille, app_token, case):
    change, where = APPOINTMENT_CASES[case]
    body = appointment(str(camille.pk))
    change(body)
    response = _post("/fhir/services/Appointment", app_token, body)
    assert response.status_code == 422, response.content
    assert issues(response) == [("structure", INVALID, where)]
    assert not Appointment.objects.exists()
    assert _nothing_traced(camille)
    valid = _post("/fhir/services/Appointment", app_token, appointment(str(camille.pk)))
    assert valid.status_code == 201, valid.content
    assert Appointment.objects.filter(patient=camille).count() == 1
