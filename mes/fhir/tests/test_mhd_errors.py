"""Issue 12 §1: errors a program can act on. An ITI-65 OperationOutcome lists every problem of
the bundle, each with a code in `details.coding` (XDS codes where MHD inherits them, ours
elsewhere, docs/fhir-api.md « Codes d'erreur »); warnings carry theirs."""

from __future__ import annotations

from typing import Any

import pytest

from mes.fhir.mhd import systems
from mes.fhir.outcome import MES_ERROR_SYSTEM, XDS_ERROR_SYSTEM
from mes.fhir.tests.conftest import INS_NIR_SYSTEM, fhir_json
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.lib.ins import with_key
from mes.records.models import Document


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def details(response: Any) -> list[tuple[str, str, str]]:
    """(severity, issue code, detail code) of each issue of an OperationOutcome."""
    body = fhir_json(response, "OperationOutcome")
    return [(i["severity"], i["code"], i["details"]["coding"][0]["code"]) for i in body["issue"]]


def test_every_problem_is_reported_with_its_xds_code(api, camille):
    first = document(size=3, hash_="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")  # wrong size and hash
    second = document(type_code="99999-9")  # outside the value set
    second["resource"]["securityLabel"].append(
        {"coding": [{"system": systems.TRE_A07, "code": "SECRET"}]}
    )
    response = api.post("/fhir/", provide_bundle(camille, [first, second]))
    assert response.status_code == 422
    found = details(response)
    assert found == [
        ("error", "value", "XDSNonIdenticalSize"),
        ("error", "value", "XDSNonIdenticalHash"),
        ("error", "code-invalid", "XDSRegistryMetadataError"),
        ("error", "code-invalid", "XDSRegistryMetadataError"),
    ]
    body = fhir_json(response)
    assert [i["expression"][0] for i in body["issue"]] == [
        "Bundle.entry[1].resource.content[0].attachment.size",
        "Bundle.entry[1].resource.content[0].attachment.hash",
        "Bundle.entry[3].resource.type",
        "Bundle.entry[3].resource.securityLabel[1]",
    ]
    systems_used = {i["details"]["coding"][0]["system"] for i in body["issue"]}
    assert systems_used == {XDS_ERROR_SYSTEM}
    assert not Document.objects.exists()


def test_a_uniqueid_already_in_the_registry(api, camille):
    doc = document(unique_id="1.2.250.1.999.77.1")
    assert api.post("/fhir/", provide_bundle(camille, [doc])).status_code == 200
    again = api.post("/fhir/", provide_bundle(camille, [document(unique_id="1.2.250.1.999.77.1")]))
    assert details(again) == [("error", "duplicate", "XDSDuplicateUniqueIdInRegistry")]
    assert Document.objects.count() == 1


def test_two_patients_do_not_match(api, camille, bob):
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][1]["resource"]["subject"] = {"reference": f"Patient/{bob.pk}"}
    assert details(api.post("/fhir/", bundle)) == [
        ("error", "invariant", "XDSPatientIdDoesNotMatch")
    ]


def test_an_unknown_ins_is_xds_unknown_patient(api):
    by_ins = {"identifier": {"system": INS_NIR_SYSTEM, "value": with_key("1800175001001")}}
    response = api.post("/fhir/", provide_bundle(by_ins, [document()]))
    assert response.status_code == 422
    assert details(response) == [("error", "not-found", "XDSUnknownPatientId")]


def test_our_own_codes_for_what_mhd_does_not_name(api, camille):
    response = api.post("/fhir/", b"{pas du json")
    body = fhir_json(response, "OperationOutcome")
    coding = body["issue"][0]["details"]["coding"][0]
    assert (coding["system"], coding["code"]) == (MES_ERROR_SYSTEM, "JSON_ILLISIBLE")
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][1]["resource"]["status"] = 12
    assert details(api.post("/fhir/", bundle)) == [("error", "structure", "FHIR_INVALIDE")]


def test_warnings_carry_their_code(api, camille):
    doc = document()
    doc["resource"]["relatesTo"] = [
        {"code": "transforms", "target": {"reference": "DocumentReference/x"}}
    ]
    doc["resource"]["context"]["period"]["end"] = "2024-03-02"
    response = api.post("/fhir/", provide_bundle(camille, [doc]))
    assert response.status_code == 200
    outcome = response.json()["entry"][1]["response"]["outcome"]
    fhir_json_body = {"resourceType": "OperationOutcome", "issue": outcome["issue"]}
    assert fhir_json_body["issue"][0]["severity"] == "warning"
    assert [i["details"]["coding"][0]["code"] for i in outcome["issue"]] == [
        "METADONNEE_NON_CONSERVEE",  # period.end
        "PartialTransformContentNotProcessed",
    ]
