"""The MHD shapes without HTTP: a DMP document as a DocumentReference (valid FHIR R4), what a
PATCH asks for, and how search values are read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B.documentreference import DocumentReference

from mes.access.actors import citizen_actor
from mes.conftest import make_pdf, make_professional, pro
from mes.fhir.core.outcome import FhirError
from mes.fhir.mhd import document_reference as dr
from mes.fhir.mhd import patch, search, systems
from mes.records import actions
from mes.records.models import Document

BASE = "https://dmp.example.org/fhir/"


def render(doc: Document) -> dict:
    resource = dr.render(Document.objects.get(pk=doc.pk), base=BASE)
    DocumentReference.model_validate(resource)
    return resource


def labels(resource: dict) -> list[str]:
    return [label["coding"][0]["code"] for label in resource["securityLabel"]]


@pytest.fixture
def lettre(camille, dr_martin):
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Lettre de liaison"),
        title="Lettre de liaison de sortie",
        type_code="11490-0",
        service_date=date(2024, 3, 1),
        unique_id="1.2.250.1.999.7.1",
    )


# --- DocumentReference ------------------------------------------------------------------------


def test_a_professional_document_is_a_valid_minimal_document_reference(camille, dr_martin, lettre):
    r = render(lettre)
    assert r["id"] == str(lettre.pk)
    assert r["masterIdentifier"] == {
        "use": "usual",  # fixed by the MHD profile
        "system": systems.RFC3986,
        "value": "urn:oid:1.2.250.1.999.7.1",
    }
    assert r["identifier"][0]["value"] == f"urn:uuid:{lettre.pk}"
    assert r["status"] == "current"
    assert r["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "11490-0",
        "display": "Lettre de liaison à la sortie d'un établissement de soins",
    }
    assert r["category"][0]["coding"][0]["system"] == "urn:oid:1.2.250.1.213.1.1.4.1"
    assert r["category"][0]["coding"][0]["code"] == "10"
    assert r["subject"] == {"reference": f"Patient/{camille.pk}"}
    assert labels(r) == ["N"]
    assert r["securityLabel"][0]["coding"][0]["system"] == systems.HL7_CONFIDENTIALITY
    attachment = r["content"][0]["attachment"]
    assert attachment["url"] == f"{BASE}Binary/{lettre.pk}"
    assert attachment["contentType"] == "application/pdf"
    assert attachment["size"] == lettre.size
    assert "data" not in attachment
    assert r["content"][0]["format"]["code"] == "urn:ihe:iti:xds-sd:pdf:2008"
    assert r["content"][0]["format"]["system"] == systems.IHE_FORMAT
    assert r["context"]["period"] == {"start": "2024-03-01"}
    assert r["context"]["facilityType"]["coding"][0]["code"] == "SA07"
    assert r["context"]["practiceSetting"]["coding"][0]["code"] == "AMBULATOIRE"
    practitioner, organisation = r["contained"]
    assert practitioner["identifier"] == [
        {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": dr_martin.national_id}
    ]
    assert practitioner["qualification"][0]["code"]["coding"][0]["code"] == "10"
    assert organisation["identifier"][0]["value"] == "1750000001"
    assert [a.get("reference") for a in r["author"]] == ["#auteur", "#structure"]
    assert r["extension"] == [{"url": systems.PDSM_IS_ARCHIVED, "valueBoolean": False}]


def test_a_french_type_code_uses_the_tre_a05_oid(camille, dr_martin):
    doc = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Protocole de soins",
        type_code="PROT_ALD",
    )
    r = render(doc)
    assert r["type"]["coding"][0]["system"] == "urn:oid:1.2.250.1.213.1.1.4.12"
    assert r["category"][0]["coding"][0]["code"] == "44"


def test_a_hospital_document_has_the_hospital_context(camille, hopital_doctor):
    doc = actions.document_deposit(
        actor=pro(hopital_doctor),
        patient_id=camille.pk,
        content=make_pdf(),
        title="CR d'hospitalisation",
        type_code="34112-3",
    )
    context = render(doc)["context"]
    assert context["facilityType"]["coding"][0]["code"] == "SA01"
    assert context["practiceSetting"]["coding"][0]["code"] == "ETABLISSEMENT"


@pytest.fixture
def hopital_doctor(hopital):
    return make_professional("10000000077", "Luc", "Cardio", "10", "SM04", hopital)


def test_a_patient_document_names_the_patient_as_author(camille):
    doc = actions.document_deposit(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Mon ordonnance",
        category="ORD_SOIN",
    )
    r = render(doc)
    assert r["author"] == [{"display": "Camille Lefèvre", "reference": f"Patient/{camille.pk}"}]
    assert "contained" not in r
    assert r["context"]["practiceSetting"]["coding"][0] == {
        "system": systems.TRE_A00,
        "code": "EXP_PATIENT",
        "display": "Expression personnelle du patient",
    }
    assert "facilityType" not in r["context"]


def test_visibility_flags_are_security_labels(camille, louis, dr_martin):
    from mes.conftest import authorise

    authorise(louis, dr_martin)
    doc = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=louis.pk,
        content=make_pdf(),
        title="Consultation",
        type_code="11488-4",
        masked=True,
        hidden_from_patient=True,
        hidden_from_representatives=True,
    )
    r = render(doc)
    assert labels(r) == ["N", "MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX"]
    assert {label["coding"][0]["system"] for label in r["securityLabel"][1:]} == {
        "urn:oid:1.2.250.1.213.1.1.4.13"
    }
    # R1111-53: a month after the deposit the patient sees it, the label goes.
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert "INVISIBLE_PATIENT" not in labels(render(doc))


def test_versions_and_archive(camille, dr_martin, lettre):
    v2 = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("v2"),
        title="Lettre de liaison corrigée",
        type_code="11490-0",
        replaces_id=lettre.pk,
    )
    assert render(lettre)["status"] == "superseded"
    assert render(v2)["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{lettre.pk}"}}
    ]
    actions.document_set_archived(actor=pro(dr_martin), document_id=v2.pk, archived=True)
    r = render(v2)
    assert r["status"] == "current"
    assert r["extension"] == [{"url": systems.PDSM_IS_ARCHIVED, "valueBoolean": True}]


def test_a_deleted_document_has_no_representation(camille, dr_martin, lettre):
    actions.document_delete(actor=pro(dr_martin), document_id=lettre.pk)
    with pytest.raises(ValueError):
        dr.render(Document.objects.get(pk=lettre.pk), base=BASE)


# --- PATCH ------------------------------------------------------------------------------------

BEFORE = {
    "resourceType": "DocumentReference",
    "status": "current",
    "extension": [{"url": systems.PDSM_IS_ARCHIVED, "valueBoolean": False}],
    "securityLabel": [
        {"coding": [{"system": systems.HL7_CONFIDENTIALITY, "code": "N"}]},
        {"coding": [{"system": systems.TRE_A07, "code": "INVISIBLE_PATIENT"}]},
    ],
    "description": "CR",
}
MASQUE = {"coding": [{"system": systems.TRE_A07, "code": "MASQUE_PS"}]}


def op(kind: str, path: str, **value) -> dict:
    """One FHIRPath Patch operation; `value` as valueX=..."""
    parts = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    if value:
        parts.append({"name": "value", **value})
    return {"name": "operation", "part": parts}


def test_json_patch_masking_and_archiving():
    after = patch.apply_json_patch(
        BEFORE,
        [
            {"op": "add", "path": "/securityLabel/-", "value": MASQUE},
            {"op": "test", "path": "/status", "value": "current"},
            {"op": "replace", "path": "/extension/0/valueBoolean", "value": True},
        ],
    )
    assert patch.intent(BEFORE, after) == patch.PatchIntent(masked=True, archived=True)
    assert BEFORE["extension"][0]["valueBoolean"] is False  # the original is untouched


def test_json_patch_release_and_logical_deletion():
    release = patch.apply_json_patch(BEFORE, [{"op": "remove", "path": "/securityLabel/1"}])
    assert patch.intent(BEFORE, release) == patch.PatchIntent(release_to_patient=True)
    deletion = patch.apply_json_patch(
        BEFORE,
        [
            {"op": "replace", "path": "/status", "value": "superseded"},
            {
                "op": "add",
                "path": "/extension/-",
                "value": {"url": systems.PDSM_IS_DELETED, "valueBoolean": True},
            },
        ],
    )
    assert patch.intent(BEFORE, deletion) == patch.PatchIntent(deleted=True)


def test_fhirpath_patch_forms():
    unmask_before = {**BEFORE, "securityLabel": [*BEFORE["securityLabel"], MASQUE]}
    params = {
        "resourceType": "Parameters",
        "parameter": [
            op("delete", "DocumentReference.securityLabel.where(coding.code='MASQUE_PS')"),
            op(
                "replace",
                f"DocumentReference.extension.where(url='{systems.PDSM_IS_ARCHIVED}').value",
                valueBoolean=True,
            ),
        ],
    }
    after = patch.apply_fhirpath_patch(unmask_before, params)
    assert patch.intent(unmask_before, after) == patch.PatchIntent(masked=False, archived=True)
    supersede = {
        "resourceType": "Parameters",
        "parameter": [op("replace", "DocumentReference.status", valueCode="superseded")],
    }
    after = patch.apply_fhirpath_patch(BEFORE, supersede)
    assert patch.intent(BEFORE, after) == patch.PatchIntent(superseded=True)


@pytest.mark.parametrize(
    ("operations", "status"),
    [
        ([{"op": "replace", "path": "/description", "value": "autre"}], 405),
        (
            [
                {
                    "op": "add",
                    "path": "/securityLabel/-",
                    "value": {"coding": [{"code": "INVISIBLE_REPRESENTANTS_LEGAUX"}]},
                }
            ],
            422,
        ),
        ([{"op": "test", "path": "/status", "value": "superseded"}], 422),
        ([{"op": "remove", "path": "/securityLabel/0"}], 422),
        ([{"op": "replace", "path": "/status", "value": "entered-in-error"}], 422),
        ([{"op": "move", "from": "/status", "path": "/x"}], 422),
        ([{"op": "remove", "path": "/nothing"}], 422),
        ({"op": "add"}, 422),
    ],
)
def test_patches_the_dmp_does_not_make(operations, status):
    with pytest.raises(FhirError) as error:
        patch.intent(BEFORE, patch.apply_json_patch(BEFORE, operations))
    assert error.value.status == status


def test_a_deletion_must_also_supersede():
    after = patch.apply_json_patch(
        BEFORE,
        [
            {
                "op": "add",
                "path": "/extension/-",
                "value": {"url": systems.PDSM_IS_DELETED, "valueBoolean": True},
            }
        ],
    )
    with pytest.raises(FhirError) as error:
        patch.intent(BEFORE, after)
    assert error.value.code == "business-rule"


# --- search values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2024", datetime(2023, 12, 31, 23, tzinfo=UTC), datetime(2024, 12, 31, 23, tzinfo=UTC)),
        ("2024-12", datetime(2024, 11, 30, 23, tzinfo=UTC), datetime(2024, 12, 31, 23, tzinfo=UTC)),
        (
            "ge2024-03-01",
            datetime(2024, 2, 29, 23, tzinfo=UTC),
            datetime(2024, 3, 1, 23, tzinfo=UTC),
        ),
        (
            "2024-03-01T10:00Z",
            datetime(2024, 3, 1, 10, tzinfo=UTC),
            datetime(2024, 3, 1, 10, 1, tzinfo=UTC),
        ),
        (
            "lt2024-03-01T10:00:05.5+01:00",
            datetime(2024, 3, 1, 9, 0, 5, 500000, tzinfo=UTC),
            datetime(2024, 3, 1, 9, 0, 5, 600000, tzinfo=UTC),
        ),
    ],
)
def test_date_values_cover_their_precision(value, start, end):
    _, lo, hi = search.date_range("date", value)
    assert (lo, hi) == (start, end)


@pytest.mark.parametrize("value", ["2024-13", "hier", "ap2024", "2024-02-30"])
def test_bad_dates_are_400(value):
    with pytest.raises(FhirError) as error:
        search.date_range("date", value)
    assert error.value.status == 400


def test_tokens_or_lists_and_escapes():
    assert search.tokens("http://loinc.org|11490-0,|X,Y\\,Z") == [
        search.Token("http://loinc.org", "11490-0"),
        search.Token("", "X"),
        search.Token(None, "Y,Z"),
    ]


def test_required_parameters_and_paging_values():
    with pytest.raises(FhirError) as error:
        search.parse([("status", "current")])
    assert (error.value.status, error.value.expression) == (400, "patient")
    with pytest.raises(FhirError) as error:
        search.parse([("patient", "x")])
    assert (error.value.status, error.value.expression) == (400, "status")
    s = search.parse([("patient", "x"), ("status", "current"), ("_count", "500"), ("foo", "1")])
    assert s.count == search.MAX_COUNT
    assert ("foo", "1") not in s.used
    for bad in ([("_count", "-1")], [("_offset", "x")], [("_sort", "title")]):
        with pytest.raises(FhirError):
            search.parse([("patient", "x"), ("status", "current"), *bad])
