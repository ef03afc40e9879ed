"""The IHE MHD Implementation Guide's own ITI-65 examples (issue 12, « What it must show »),
in JSON and in XML: each is accepted, or refused with every reason at once, each with its code.

The bundles in mhd_examples/ are the IG's examples (IHE/ITI.MHD, input/fsh/ex-ProvideBundles*.fsh,
MHD 4.2.x) written out as FHIR JSON, adapted only in their identifiers (an INS or the Patient of
the test's dossier instead of `Patient/ex-patient` or a name-only Patient; OIDs under
1.2.250.1.999 and one per document — the IG's two-document example gives both the same
masterIdentifier; an e-mail address) and, in the comprehensive examples, their codes (the French
ones of mes-spec §4: LOINC 34133-9 of JDV_J07 for 60591-5, its class 11 in TRE_A03 for LOINC
11369-6, TRE_R02 SA07 and TRE_A01 AMBULATOIRE for the SNOMED CT facility and setting, `N` for
`R`, `fr-FR` for `en`). mhd_examples/README.md lists each example and its source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mes.access.models import ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import authorise
from mes.fhir.core.formats import parse_xml, to_xml
from mes.fhir.tests.conftest import fhir_json
from mes.records.models import Document

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).parent / "mhd_examples"
FORMATS = ("json", "xml")


def example(name: str, patient: Any) -> dict[str, Any]:
    """An example with the test dossier's identifiers."""
    text = (EXAMPLES / name).read_text()
    text = text.replace("{{INS}}", patient.ins).replace("{{PATIENT_ID}}", str(patient.pk))
    return json.loads(text)


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def post(api: Any, bundle: dict[str, Any], fmt: str) -> tuple[int, dict[str, Any]]:
    """POST the bundle in JSON or XML; the answer (negotiated alike) read back as JSON."""
    if fmt == "json":
        response = api.post("/fhir/", bundle)
        return response.status_code, fhir_json(response)
    response = api.client.post(
        "/fhir/", to_xml(bundle), content_type="application/fhir+xml", headers=api._headers(None)
    )
    assert response["Content-Type"] == "application/fhir+xml; charset=utf-8"
    return response.status_code, parse_xml(response.content)


def problems(outcome: dict[str, Any]) -> list[tuple[str, str, str]]:
    assert outcome["resourceType"] == "OperationOutcome"
    return [
        (i["code"], i["details"]["coding"][0]["code"], i["expression"][0]) for i in outcome["issue"]
    ]


def warnings_of(answer: dict[str, Any]) -> list[list[str]]:
    """Per entry of a transaction-response, the codes of its warnings."""
    return [
        [
            i["details"]["coding"][0]["code"]
            for i in (e["response"].get("outcome") or {}).get("issue", [])
        ]
        for e in answer["entry"]
    ]


# --- accepted ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_comprehensive_metadata_one_document(api, camille, fmt):
    """ex-comprehensiveProvideDocumentBundleSimple."""
    status, answer = post(api, example("comprehensive-one-document.json", camille), fmt)
    assert status == 200, answer
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 3
    # Nothing dropped silently: the contained sourcePatientInfo is said not to be kept.
    assert warnings_of(answer) == [[], ["METADONNEE_NON_CONSERVEE"], []]
    doc = Document.objects.get(patient=camille)
    assert (doc.title, doc.type_code, doc.unique_id) == (
        "Hello World",
        "34133-9",
        "1.2.250.1.999.2.3.2",
    )
    read = fhir_json(api.get(f"/fhir/DocumentReference/{doc.pk}"), "DocumentReference")
    assert read["masterIdentifier"] == {
        "use": "usual",
        "system": "urn:ietf:rfc:3986",
        "value": "urn:oid:1.2.250.1.999.2.3.2",
    }
    attachment = read["content"][0]["attachment"]
    assert (attachment["language"], attachment["title"], attachment["size"]) == (
        "fr-FR",
        "Hello World",
        11,
    )
    assert read["content"][0]["format"]["code"] == "urn:ihe:iti:xds-sd:text:2008"
    assert api.get(f"/fhir/Binary/{doc.pk}").content == b"Hello World"


@pytest.mark.parametrize("fmt", FORMATS)
def test_comprehensive_metadata_two_documents(api, camille, fmt):
    """ex-comprehensiveProvideDocumentBundleMultiple (one masterIdentifier each)."""
    status, answer = post(api, example("comprehensive-two-documents.json", camille), fmt)
    assert status == 200, answer
    locations = [e["response"]["location"].split("/")[0] for e in answer["entry"]]
    assert locations == ["List", "DocumentReference", "Binary", "DocumentReference", "Binary"]
    titles = set(Document.objects.filter(patient=camille).values_list("title", flat=True))
    assert titles == {"Hello World", "Laurem ipsum"}


def test_the_same_masterIdentifier_twice_as_in_the_ig_is_refused(api, camille):
    """The IG's two-document example, unadapted, gives both documents one uniqueId."""
    bundle = example("comprehensive-two-documents.json", camille)
    first = bundle["entry"][1]["resource"]["masterIdentifier"]["value"]
    bundle["entry"][3]["resource"]["masterIdentifier"]["value"] = first
    status, outcome = post(api, bundle, "json")
    assert status == 422
    assert problems(outcome) == [
        ("duplicate", "XDSDuplicateUniqueIdInRegistry", "Bundle.entry.resource.masterIdentifier")
    ]
    assert not Document.objects.filter(patient=camille).exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_minimal_metadata_with_its_french_type(api, camille, fmt):
    """ex-minimalProvideDocumentBundleSimple, with the one element the DMP cannot do without
    (the type): accepted; the intended recipient is said not to be processed."""
    bundle = example("minimal-one-document.json", camille)
    bundle["entry"][1]["resource"]["type"] = {
        "coding": [{"system": "http://loinc.org", "code": "11490-0"}]
    }
    status, answer = post(api, bundle, fmt)
    assert status == 200, answer
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created", "201 Created", "201 Created", "200 OK"]
    assert "UnavailableRecipient" in warnings_of(answer)[0]
    assert Document.objects.get(patient=camille).mime_type == "text/plain"


# --- refused, every reason at once ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_minimal_metadata_as_published_lacks_the_type(api, camille, fmt):
    """ex-minimalProvideDocumentBundleSimple as published: no type, which XDS and the DMP
    require (typeCode)."""
    status, outcome = post(api, example("minimal-one-document.json", camille), fmt)
    assert status == 422
    assert problems(outcome) == [
        ("required", "XDSRegistryMetadataError", "Bundle.entry[1].resource.type")
    ]
    assert not Document.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_minimal_metadata_with_source_patient_info_only(api, camille, fmt):
    """ex-minimalProvideDocumentBundleSimpleContained: the patient only in a contained
    sourcePatientInfo (an XDR-style push); the DMP files a document in one identified dossier."""
    status, outcome = post(api, example("minimal-source-patient-info.json", camille), fmt)
    assert status == 422
    assert problems(outcome) == [
        ("required", "XDSRegistryMetadataError", "Bundle.entry[0].resource.subject"),
        ("required", "XDSRegistryMetadataError", "Bundle.entry[1].resource.subject"),
        ("required", "XDSRegistryMetadataError", "Bundle.entry[1].resource.type"),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_minimal_metadata_with_a_folder(api, camille, fmt):
    """ex-minimalProvideDocumentBundle: a Folder, a document outside the bundle, a Patient
    without identifier, no subject, no type — every one said, each with its code."""
    status, outcome = post(api, example("minimal-with-folder.json", camille), fmt)
    assert status == 422
    assert problems(outcome) == [
        ("value", "XDSRegistryMetadataError", "Bundle.entry[3].resource.identifier"),
        ("required", "XDSRegistryMetadataError", "Bundle.entry[0].resource.subject"),
        ("not-supported", "PartialFolderContentNotProcessed", "Bundle.entry[1].resource.code"),
        ("required", "XDSRegistryMetadataError", "Bundle.entry[2].resource.subject"),
        (
            "required",
            "XDSMissingDocument",
            "Bundle.entry[2].resource.content[0].attachment.url",
        ),
        ("required", "XDSRegistryMetadataError", "Bundle.entry[2].resource.type"),
    ]


def test_an_example_for_an_unknown_patient_is_a_metadata_error_and_traced(api, camille):
    bundle = example("comprehensive-one-document.json", camille)
    text = json.dumps(bundle).replace(str(camille.pk), "0f0e0d0c-0b0a-4000-8000-000000000000")
    status, outcome = post(api, json.loads(text), "json")
    assert status == 422
    assert problems(outcome) == [
        ("not-found", "XDSUnknownPatientId", "Bundle.entry.resource.subject")
    ]
    assert Trace.objects.filter(
        action=TraceAction.DEPOSIT_DOC, outcome=TraceOutcome.REFUSED
    ).exists()


def test_denials_for_the_examples(client, fhir_client_for, dr_durand, camille):
    """Anonymous: 401; a professional the patient blocked: 404 (as an unknown dossier),
    traced; nothing stored."""
    bundle = example("comprehensive-one-document.json", camille)
    anonymous = client.post("/fhir/", json.dumps(bundle), content_type="application/fhir+json")
    assert anonymous.status_code == 401
    access = authorise(camille, dr_durand)
    access.status = ProfessionalAccess.Status.BLOCKED
    access.save()
    status, outcome = post(fhir_client_for(dr_durand), bundle, "json")
    assert status == 404 and outcome["issue"][0]["code"] == "not-found"
    refused = Trace.objects.get(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert (refused.actor_id, refused.reason) == (
        dr_durand.national_id,
        "professionnel bloqué par l'usager",
    )
    assert not Document.objects.exists()
