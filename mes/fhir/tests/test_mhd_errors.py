"""Issue 12 §1: errors a program can act on. An ITI-65 OperationOutcome lists every problem of
the bundle, each with a code in `details.coding` (XDS codes where MHD inherits them, ours
elsewhere, docs/fhir-api.md « Codes d'erreur »); warnings carry theirs."""

from __future__ import annotations

from typing import Any

import pytest

from mes.fhir.core.outcome import MES_ERROR_SYSTEM, XDS_ERROR_SYSTEM
from mes.fhir.mhd import systems
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


# --- §3 the base URL as advertised -------------------------------------------------------------


def test_post_to_the_base_without_slash_is_the_transaction(api, camille, client):
    advertised = fhir_json(client.get("/fhir/metadata"))["implementation"]["url"]
    assert advertised.endswith("/fhir")
    response = api.post("/fhir", provide_bundle(camille, [document()]))
    assert response.status_code == 200
    assert fhir_json(response, "Bundle")["type"] == "transaction-response"
    assert Document.objects.filter(patient=camille).count() == 1
    assert response["Cache-Control"] == "no-store"
    anonymous = client.post("/fhir", "{}", content_type="application/fhir+json")
    assert anonymous.status_code == 401
    redirect = client.get("/fhir?_format=json")
    assert (redirect.status_code, redirect["Location"]) == (301, "/fhir/?_format=json")


# --- §4 metadata kept or said --------------------------------------------------------------------


def test_master_identifier_use_is_usual(api, camille):
    deposit = api.post("/fhir/", provide_bundle(camille, [document()]))
    location = deposit.json()["entry"][1]["response"]["location"]
    rendered = fhir_json(api.get(f"/fhir/{location}"), "DocumentReference")
    assert rendered["masterIdentifier"]["use"] == "usual"
    assert rendered["content"][0]["attachment"]["language"] == "fr-FR"


def test_unkept_metadata_are_said(api, camille):
    doc = document()
    doc["resource"]["content"][0]["attachment"]["language"] = "en-US"
    doc["resource"]["authenticator"] = {"display": "Dr Responsable"}
    doc["resource"]["context"]["sourcePatientInfo"] = {"reference": "#p"}
    response = api.post("/fhir/", provide_bundle(camille, [doc]))
    assert response.status_code == 200
    texts = [i["diagnostics"] for i in response.json()["entry"][1]["response"]["outcome"]["issue"]]
    assert any("attachment.language" in t for t in texts)
    assert any("authenticator" in t for t in texts)
    assert any("sourcePatientInfo" in t for t in texts)
    french = document()
    french["resource"]["content"][0]["attachment"]["language"] = "fr-FR"
    quiet = api.post("/fhir/", provide_bundle(camille, [french]))
    assert "outcome" not in quiet.json()["entry"][1]["response"]


@pytest.mark.parametrize("name", ["related", "related:identifier", "related.identifier"])
def test_related_by_identifier(api, camille, name):
    doc = document()
    doc["resource"]["context"]["related"] = [{"identifier": {"value": "ORDO-42"}}]
    assert api.post("/fhir/", provide_bundle(camille, [doc])).status_code == 200
    assert api.post("/fhir/", provide_bundle(camille, [document()])).status_code == 200
    found = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", **{name: "ORDO-42"}
    )
    assert fhir_json(found, "Bundle")["total"] == 1


@pytest.mark.parametrize(
    "name", ["related.system", "patient.name", "type:text", "author.identifier", "date:missing"]
)
def test_chains_and_modifiers_we_do_not_know_are_refused(api, camille, name):
    response = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", **{name: "x"}
    )
    assert response.status_code == 400
    assert fhir_json(response, "OperationOutcome")["issue"][0]["expression"] == [name]


def test_an_unknown_patient_is_reported_with_the_other_problems(api):
    by_ins = {"identifier": {"system": INS_NIR_SYSTEM, "value": with_key("1800175001001")}}
    response = api.post("/fhir/", provide_bundle(by_ins, [document(size=1)]))
    assert details(response) == [
        ("error", "value", "XDSNonIdenticalSize"),
        ("error", "not-found", "XDSUnknownPatientId"),
    ]


def test_fhir_json_types_not_what_the_model_coerces(api, camille):
    """The R4 models take « 14.0 » for an unsignedInt, null for an absent element and 0 for a
    dateTime; FHIR JSON does not, and neither do we (found by the fuzzer: `size: null` and
    `size: "14.0"` were a 500). Every such element is named, with its code; nothing is stored."""
    doc = document(b"%PDF-1.4 court")
    attachment = doc["resource"]["content"][0]["attachment"]
    attachment["size"] = "14.0"
    attachment["title"] = None
    attachment["creation"] = 0
    bundle = provide_bundle(camille, [doc])
    bundle["entry"][0]["resource"]["date"] = -1
    response = api.post("/fhir/", bundle)
    assert response.status_code == 422
    assert details(response) == [("error", "structure", "FHIR_INVALIDE")] * 4
    where = {i["expression"][0] for i in fhir_json(response)["issue"]}
    assert where == {
        "Bundle.entry[0].resource.date",
        "Bundle.entry[1].resource.content[0].attachment.creation",
        "Bundle.entry[1].resource.content[0].attachment.size",
        "Bundle.entry[1].resource.content[0].attachment.title",
    }
    assert not Document.objects.exists()


@pytest.mark.parametrize("size", [None, "14", 14.0, True])
def test_a_size_is_a_json_integer(api, camille, size):
    doc = document(b"%PDF-1.4 court")
    doc["resource"]["content"][0]["attachment"]["size"] = size
    response = api.post("/fhir/", provide_bundle(camille, [doc]))
    assert response.status_code == 422
    assert details(response) == [("error", "structure", "FHIR_INVALIDE")]
    assert not Document.objects.exists()
    doc["resource"]["content"][0]["attachment"]["size"] = 14
    assert api.post("/fhir/", provide_bundle(camille, [doc])).status_code == 200
