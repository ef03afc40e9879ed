"""FHIR XML (issue 12 §5): MHD's Document Recipient and Responder speak XML as well as JSON.
An ITI-65 bundle deposited in XML is searched and read back in XML with the same content; the
format is chosen by `_format`, `Accept` or the request's own type; errors come back as an
OperationOutcome in the negotiated format; an XML body never reaches a DTD or an entity."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.operationoutcome import OperationOutcome
from lxml import etree

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.fhir.core.formats import to_xml
from mes.fhir.tests.conftest import INS_NIR_SYSTEM
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.lib.ins import with_key
from mes.records.models import Document

pytestmark = pytest.mark.django_db

FHIR_XML = "application/fhir+xml; charset=utf-8"
NS = {"f": "http://hl7.org/fhir"}


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def post_xml(api: Any, path: str, body: bytes | str, **headers: str) -> Any:
    return api.client.post(
        path, body, content_type="application/fhir+xml", headers=api._headers(headers)
    )


def xml_of(response: Any, model: Any) -> Any:
    """The body of an XML answer, checked: `application/fhir+xml`, in the FHIR namespace and
    valid against the R4 model."""
    assert response["Content-Type"] == FHIR_XML, response.content[:300]
    root = etree.fromstring(response.content)
    assert etree.QName(root).namespace == NS["f"]
    return model.model_validate_xml(response.content)


def outcome_codes(response: Any) -> list[tuple[str, str | None]]:
    outcome = xml_of(response, OperationOutcome)
    return [
        (i.code, i.details.coding[0].code if i.details and i.details.coding else None)
        for i in outcome.issue
    ]


def comparable(resource: dict[str, Any]) -> dict[str, Any]:
    """A DocumentReference without what differs between two reads (nothing, once stored)."""
    return json.loads(json.dumps(resource, sort_keys=True))


# --- the round trip ---------------------------------------------------------------------------


def test_a_bundle_deposited_in_xml_is_found_and_read_back_in_xml(api, camille):
    pdf = make_pdf("Compte rendu en XML")
    bundle = provide_bundle(
        camille,
        [document(pdf, title="Compte rendu — déposé en XML", unique_id="1.2.250.1.999.7.1")],
    )
    response = post_xml(api, "/fhir/", to_xml(bundle), Accept="application/fhir+xml")
    assert response.status_code == 200, response.content
    answer = xml_of(response, Bundle)
    assert answer.type == "transaction-response"
    assert [e.response.status for e in answer.entry] == ["201 Created"] * 3
    stored = Document.objects.get(patient=camille)
    assert stored.title == "Compte rendu — déposé en XML"

    # ITI-67 in XML (by _format), the same entry as in JSON.
    search_xml = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", _format="xml"
    )
    found = xml_of(search_xml, Bundle)
    assert found.total == 1
    search_json = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    as_json = json.loads(search_json.content)["entry"][0]["resource"]
    assert comparable(json.loads(found.entry[0].resource.model_dump_json())) == comparable(as_json)
    reference = found.entry[0].resource
    assert reference.masterIdentifier.value == "urn:oid:1.2.250.1.999.7.1"
    assert reference.masterIdentifier.use == "usual"
    assert reference.content[0].attachment.title == "Compte rendu — déposé en XML"

    # Read by Accept, then ITI-68 as a Binary resource in XML: the same bytes.
    read = api.get(
        f"/fhir/DocumentReference/{stored.pk}", headers={"Accept": "application/fhir+xml"}
    )
    assert comparable(json.loads(xml_of(read, DocumentReference).model_dump_json())) == comparable(
        as_json
    )
    binary = api.get(f"/fhir/Binary/{stored.pk}", headers={"Accept": "application/fhir+xml"})
    root = etree.fromstring(binary.content)
    assert etree.QName(root).localname == "Binary"
    data = root.find("f:data", NS).get("value")
    assert base64.b64decode(data) == pdf
    # The raw document is still the default.
    assert api.get(f"/fhir/Binary/{stored.pk}").content == pdf


def test_an_xml_request_without_accept_is_answered_in_xml(api, camille):
    response = post_xml(api, "/fhir/", to_xml(provide_bundle(camille, [document()])))
    assert response.status_code == 200
    assert xml_of(response, Bundle).type == "transaction-response"
    # `*/*` (httpx's, curl's default) leaves the choice to the body's format.
    wildcard = post_xml(api, "/fhir/", to_xml(provide_bundle(camille, [document()])), Accept="*/*")
    assert xml_of(wildcard, Bundle).type == "transaction-response"
    asked = post_xml(
        api,
        "/fhir/",
        to_xml(provide_bundle(camille, [document()])),
        Accept="application/fhir+json",
    )
    assert asked["Content-Type"] == "application/fhir+json; charset=utf-8"


def test_accept_and_format_choose_the_format(api, camille):
    path = "/fhir/DocumentReference"
    query = {"patient": str(camille.pk), "status": "current"}
    cases = {
        "application/fhir+xml": FHIR_XML,
        "application/xml": FHIR_XML,
        "application/fhir+json": "application/fhir+json; charset=utf-8",
        "application/fhir+xml;q=0.5, application/fhir+json": "application/fhir+json; charset=utf-8",
        "application/fhir+json;q=0.5, application/fhir+xml": FHIR_XML,
        "*/*": "application/fhir+json; charset=utf-8",
        "text/html, */*;q=0.8": "application/fhir+json; charset=utf-8",
    }
    for accept, expected in cases.items():
        assert api.get(path, **query, headers={"Accept": accept})["Content-Type"] == expected
    for value in ("xml", "application/fhir+xml", "application/fhir xml", "text/xml"):
        response = api.get(path, **query, _format=value)
        assert response["Content-Type"] == FHIR_XML, value
    # _format wins over Accept.
    response = api.get(path, **query, _format="json", headers={"Accept": "application/fhir+xml"})
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    refused = api.get(path, **query, _format="ttl", headers={"Accept": "application/fhir+xml"})
    assert refused.status_code == 406
    assert json.loads(refused.content)["issue"][0]["expression"] == ["_format"]


def test_metadata_in_xml_says_both_formats(client):
    response = client.get("/fhir/metadata", {"_format": "xml"})
    assert response.status_code == 200
    statement = xml_of(response, CapabilityStatement)
    assert {"application/fhir+json", "application/fhir+xml"} <= set(statement.format)
    assert client.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"})[
        "Content-Type"
    ] == (FHIR_XML)


# --- errors in XML ----------------------------------------------------------------------------


def test_every_error_of_an_xml_bundle_comes_back_in_xml(api, camille):
    bundle = provide_bundle(
        camille,
        [document(hash_="AAAAAAAAAAAAAAAAAAAAAAAAAAA=", size=3), document(type_code="99999-9")],
    )
    response = post_xml(api, "/fhir/", to_xml(bundle))
    assert response.status_code == 422
    codes = {detail for _, detail in outcome_codes(response)}
    assert {"XDSNonIdenticalHash", "XDSNonIdenticalSize", "XDSRegistryMetadataError"} <= codes
    assert not Document.objects.filter(patient=camille).exists()


def test_an_unknown_patient_in_xml_is_a_metadata_error(api):
    unknown = {"identifier": {"system": INS_NIR_SYSTEM, "value": with_key("1800175001001")}}
    response = post_xml(api, "/fhir/", to_xml(provide_bundle(unknown, [document()])))
    assert response.status_code == 422
    assert outcome_codes(response) == [("not-found", "XDSUnknownPatientId")]
    assert Trace.objects.filter(
        action=TraceAction.DEPOSIT_DOC, outcome=TraceOutcome.REFUSED
    ).exists()


def test_denials_answer_in_xml(client, fhir_client_for, dr_durand, camille):
    anonymous = client.get("/fhir/DocumentReference", headers={"Accept": "application/fhir+xml"})
    assert anonymous.status_code == 401
    assert outcome_codes(anonymous) == [("login", None)]
    stranger = fhir_client_for(dr_durand)
    refused = stranger.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", _format="xml"
    )
    assert refused.status_code == 404
    assert outcome_codes(refused) == [("not-found", None)]
    assert Trace.objects.filter(
        action=TraceAction.CONSULT_DOSSIER, outcome=TraceOutcome.REFUSED, patient_id=camille.pk
    ).exists()
    unknown = stranger.get("/fhir/Observation", _format="xml")
    assert unknown.status_code == 501 and outcome_codes(unknown) == [("not-supported", None)]
    put = stranger.client.put(
        "/fhir/DocumentReference/x", headers={**stranger._headers(None), "Accept": "text/xml"}
    )
    assert put.status_code == 405 and outcome_codes(put) == [("not-supported", None)]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<Bundle xmlns='http://hl7.org/fhir'><type value='transaction'/>", "XML_ILLISIBLE"),
        (b"<Bundle><type value='transaction'/></Bundle>", "XML_ILLISIBLE"),
        (
            b"<?xml version='1.0'?><!DOCTYPE Bundle [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
            b"<Bundle xmlns='http://hl7.org/fhir'><id value='&x;'/></Bundle>",
            "XML_ILLISIBLE",
        ),
        (b"<Bundle xmlns='http://hl7.org/fhir'><nimporte value='x'/></Bundle>", "FHIR_INVALIDE"),
        (b"<Inconnu xmlns='http://hl7.org/fhir'/>", "FHIR_INVALIDE"),
        (
            b"<Bundle xmlns='http://hl7.org/fhir'><type value='transaction'/>"
            b"<timestamp value='hier'/></Bundle>",
            "FHIR_INVALIDE",
        ),
    ],
)
def test_unreadable_xml_is_refused_in_xml(api, body, detail):
    response = post_xml(api, "/fhir/", body)
    assert response.status_code == 400
    codes = outcome_codes(response)
    assert codes and all(code == ("structure", detail) for code in codes)
    assert b"root:" not in response.content  # no entity was ever read


def test_a_forbidden_character_in_xml_is_refused(api, camille):
    bundle = provide_bundle(camille, [document(title="Compte\u202erendu")])
    response = post_xml(api, "/fhir/", to_xml(bundle))
    assert response.status_code == 400
    assert outcome_codes(response) == [("value", "CARACTERE_INTERDIT")]


# --- the other resources ----------------------------------------------------------------------


def test_patient_and_consent_in_xml(api, camille):
    found = api.get(
        "/fhir/Patient",
        identifier="urn:oid:1.2.250.1.213.1.4.8|285057505601252",
        _format="xml",
    )
    bundle = xml_of(found, Bundle)
    assert bundle.total == 1 and bundle.entry[0].resource.id == str(camille.pk)
    parameters = (
        b"<Parameters xmlns='http://hl7.org/fhir'><parameter><name value='medecinTraitant'/>"
        b"<valueBoolean value='true'/></parameter></Parameters>"
    )
    declared = post_xml(api, f"/fhir/Patient/{camille.pk}/$declarer-consentement", parameters)
    assert declared.status_code == 200
    assert etree.QName(etree.fromstring(declared.content)).localname == "Patient"


def test_a_fhirpath_patch_in_xml(api, camille):
    assert post_xml(api, "/fhir/", to_xml(provide_bundle(camille, [document()]))).status_code
    doc = Document.objects.get(patient=camille)
    patch = to_xml(
        {
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "operation",
                    "part": [
                        {"name": "type", "valueCode": "add"},
                        {"name": "path", "valueString": "DocumentReference"},
                        {"name": "name", "valueString": "securityLabel"},
                        {
                            "name": "value",
                            "valueCodeableConcept": {
                                "coding": [
                                    {
                                        "system": "urn:oid:1.2.250.1.213.1.1.4.13",
                                        "code": "MASQUE_PS",
                                    }
                                ]
                            },
                        },
                    ],
                }
            ],
        }
    )
    response = api.client.patch(
        f"/fhir/DocumentReference/{doc.pk}",
        patch,
        content_type="application/fhir+xml",
        headers=api._headers(None),
    )
    assert response.status_code == 200, response.content
    labels = [c.code for s in xml_of(response, DocumentReference).securityLabel for c in s.coding]
    assert "MASQUE_PS" in labels
    doc.refresh_from_db()
    assert doc.masked_from_professionals


def test_paging_links_keep_the_format(api, camille):
    bundle = provide_bundle(camille, [document(), document(), document()])
    assert api.post("/fhir/", bundle).status_code == 200
    first = xml_of(
        api.get(
            "/fhir/DocumentReference",
            patient=str(camille.pk),
            status="current",
            _count="2",
            _format="xml",
        ),
        Bundle,
    )
    following = {link.relation: link.url for link in first.link}["next"]
    assert "_format=xml" in following
    second = api.get(following.removeprefix("http://testserver"))
    assert len(xml_of(second, Bundle).entry) == 1
