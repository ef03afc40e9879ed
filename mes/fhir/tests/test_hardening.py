"""Issue 13 (FHIR part): what a fuzzer and an attacker with a token found, each case answered
in FHIR (an OperationOutcome, never a 500 nor an HTML page) and nothing half-stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client

from mes.audit.models import Trace
from mes.fhir.core.access import JUSTIFICATION_HEADER, MODE_HEADER
from mes.fhir.mhd import bundle as mhd_bundle
from mes.fhir.tests.conftest import FHIR_JSON, INS_NIR_SYSTEM, fhir_json
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.identity.models import Citizen
from mes.notifications.models import Notification
from mes.records.models import Document
from mes.vault import store


def vault_files() -> int:
    """The blobs of this test's patients (the vault folder is shared by parallel workers)."""
    root = Path(settings.STORAGES["vault"]["OPTIONS"]["location"])
    return sum(
        1
        for pk in Citizen.objects.values_list("pk", flat=True)
        for _ in (root / pk.hex[:2] / pk.hex).glob("*.bin")
    )


@dataclass(frozen=True)
class Counts:
    """What a request may have stored: rows, blobs, traces, notifications."""

    documents: int
    blobs: int
    traces: int
    notifications: int

    @classmethod
    def now(cls) -> Counts:
        return cls(
            Document.objects.count(),
            vault_files(),
            Trace.objects.count(),
            Notification.objects.count(),
        )


def assert_fhir_error(response: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.content[:400])
    return fhir_json(response, "OperationOutcome")


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


# --- §1 ITI-65 never answers an error after it has committed ----------------------------------


def test_a_duplicate_binary_full_url_is_refused_before_anything_is_written(api, camille):
    doc = document()
    bundle = provide_bundle(camille, [doc])
    bundle["entry"].append(json.loads(json.dumps(doc["_binary"])))  # the Binary twice
    before = Counts.now()
    response = api.post("/fhir/", bundle)
    body = assert_fhir_error(response, 422)
    assert body["issue"][0]["code"] == "invariant"
    assert "fullUrl" in body["issue"][0]["diagnostics"]
    assert Counts.now() == before
    # Retried once fixed: stored once.
    bundle["entry"].pop()
    assert api.post("/fhir/", bundle).status_code == 200
    assert Document.objects.filter(patient=camille).count() == 1


def test_the_answer_is_built_before_the_commit(api, camille, monkeypatch):
    """A fault while answering rolls the deposit back (no row, no blob, no notification): the
    client's retry can never make a duplicate."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("réponse impossible")

    monkeypatch.setattr(mhd_bundle, "response_bundle", broken)
    before = Counts.now()
    response = api.post("/fhir/", provide_bundle(camille, [document()]))
    body = assert_fhir_error(response, 500)
    assert body["issue"][0]["code"] == "exception"
    assert "rien n'a été enregistré" in body["issue"][0]["diagnostics"]
    after = Counts.now()
    assert (after.documents, after.blobs, after.notifications) == (
        before.documents,
        before.blobs,
        before.notifications,
    )


# --- §3 every FHIR error is an OperationOutcome ----------------------------------------------


def test_a_thousand_levels_of_json_are_refused(api, camille):
    deep = "[" * 1000 + "]" * 1000
    response = api.post("/fhir/", deep)
    assert_fhir_error(response, 400)
    nested: Any = {}
    for _ in range(100):
        nested = {"a": nested}
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][0]["resource"]["extension"][0]["x"] = nested
    assert_fhir_error(api.post("/fhir/", bundle), 400)


@pytest.mark.parametrize(
    "path, value",
    [
        (("content", 0, "attachment", "url"), True),
        (("content", 0, "attachment", "size"), "grand"),
        (("resourceType",), ["x"]),
        (("subject",), "Patient/1"),
        (("securityLabel",), {"coding": "N"}),
        (("context", "period", "start"), 20240301),
        (("content", 0, "attachment", "creation"), "2024-03-01T10:00:00+99:99"),
        (("content", 0, "attachment", "creation"), "0001-01-01T00:00:00+14:00"),
        (("content", 0, "attachment", "creation"), "9999-12-31T23:59:59-12:00"),
        (("context", "period", "start"), "0001-01-01"),
        (("context", "period", "start"), "9999-12-31"),
    ],
)
def test_wrong_json_types_and_impossible_dates_are_422(api, camille, path, value):
    bundle = provide_bundle(camille, [document()])
    node = bundle["entry"][1]["resource"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    before = Counts.now()
    assert_fhir_error(api.post("/fhir/", bundle), (400, 422))
    assert Counts.now().documents == before.documents


@pytest.mark.parametrize(
    "date",
    ["ge0001-01-01T00:00+14:00", "le9999-12-31T23:59:59-12:00", "2024-03-01T10:00+99:99", "9999"],
)
def test_out_of_range_search_dates_are_400(api, camille, date):
    response = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", date=date
    )
    assert_fhir_error(response, 400)


@pytest.mark.parametrize("offset", ["99999999999999999999999", "100001", "-1", "١٠", "1_0"])
def test_a_huge_or_strange_offset_is_400(api, camille, offset):
    response = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", _offset=offset
    )
    assert_fhir_error(response, 400)


@pytest.mark.parametrize("path", ["", "/securityLabel/١", "/securityLabel/²", "/extension/01"])
def test_bad_json_patch_paths_are_refused(api, camille, path):
    deposit = api.post("/fhir/", provide_bundle(camille, [document()]))
    doc_id = deposit.json()["entry"][1]["response"]["location"].split("/")[1]
    response = api.client.patch(
        f"/fhir/DocumentReference/{doc_id}",
        json.dumps([{"op": "remove", "path": path}]),
        content_type="application/json-patch+json",
        headers=api._headers(None),
    )
    assert_fhir_error(response, (400, 405, 422))


def test_a_patch_that_breaks_the_types_is_422(api, camille):
    deposit = api.post("/fhir/", provide_bundle(camille, [document()]))
    doc_id = deposit.json()["entry"][1]["response"]["location"].split("/")[1]
    response = api.client.patch(
        f"/fhir/DocumentReference/{doc_id}",
        json.dumps([{"op": "add", "path": "/securityLabel/-", "value": "MASQUE_PS"}]),
        content_type="application/json-patch+json",
        headers=api._headers(None),
    )
    assert_fhir_error(response, 422)


def test_multipart_without_boundary_is_400(api, camille):
    response = api.client.post(
        "/fhir/DocumentReference/_search",
        b"patient=x",
        content_type="multipart/form-data",
        headers=api._headers(None),
    )
    assert_fhir_error(response, 400)


def test_an_unforeseen_error_still_answers_in_fhir(api, camille, monkeypatch):
    from mes.fhir.mhd import views as views_mhd

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr(views_mhd.search, "parse", broken)
    response = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    body = assert_fhir_error(response, 500)
    assert body["issue"][0]["details"]["coding"][0]["code"] == "ERREUR_INTERNE"


def test_anything_else_under_fhir_answers_in_fhir(api):
    assert_fhir_error(api.get("/fhir/Observation/1/_history"), 501)
    assert_fhir_error(api.client.get("/fhir/%00"), (400, 404, 501))


# --- §4 controls and bidirectional overrides ----------------------------------------------------


@pytest.mark.parametrize("text", ["Lettre\x00", "Lettre\x1b[31m", "Lettre \u202egpj.exe", "\x85"])
def test_controls_and_bidi_overrides_in_a_bundle_are_refused(api, camille, text):
    before = Counts.now()
    response = api.post("/fhir/", provide_bundle(camille, [document(title=text)]))
    body = assert_fhir_error(response, 400)
    assert "Caractère interdit" in body["issue"][0]["diagnostics"]
    assert "title" in body["issue"][0]["expression"][0]
    assert Counts.now().documents == before.documents


def test_controls_in_search_parameters_are_refused(api, camille):
    response = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", type="a\x00b"
    )
    body = assert_fhir_error(response, 400)
    assert body["issue"][0]["expression"] == ["type"]


@pytest.mark.parametrize("raw", ["Coma%00", "Coma%E2%80%AE", "Coma%1B"])
def test_controls_in_the_justification_are_refused(api, camille, raw):
    response = api.get(
        f"/fhir/Patient/{camille.pk}",
        headers={MODE_HEADER: "bris_de_glace", JUSTIFICATION_HEADER: raw},
    )
    body = assert_fhir_error(response, 400)
    assert body["issue"][0]["expression"] == [JUSTIFICATION_HEADER]


def test_ordinary_text_passes(api, camille):
    title = "Compte rendu — « opération » d'Éloïse, عربي"
    response = api.post("/fhir/", provide_bundle(camille, [document(title=title)]))
    assert response.status_code == 200, response.content[:300]


# --- §6 the API's smaller faults ------------------------------------------------------------


def test_every_bearer_response_is_no_store(api, camille):
    deposit = api.post("/fhir/", provide_bundle(camille, [document()]))
    doc_id = deposit.json()["entry"][1]["response"]["location"].split("/")[1]
    for response in (
        deposit,
        api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current"),
        api.get(f"/fhir/DocumentReference/{doc_id}"),
        api.get(f"/fhir/Binary/{doc_id}"),
        api.get(f"/fhir/Patient/{camille.pk}"),
        api.get("/fhir/Patient", identifier=f"{INS_NIR_SYSTEM}|{camille.ins}"),
        api.get("/fhir/DocumentReference/not-a-uuid"),
    ):
        assert response["Cache-Control"] == "no-store", response.status_code


def test_attachment_hash_is_required(api, camille):
    doc = document()
    del doc["resource"]["content"][0]["attachment"]["hash"]
    body = assert_fhir_error(api.post("/fhir/", provide_bundle(camille, [doc])), 422)
    assert body["issue"][0]["code"] == "required"
    assert body["issue"][0]["expression"] == ["Bundle.entry[1].resource.content[0].attachment.hash"]


def test_the_ins_is_read_strictly(api, camille):
    spaced = f"{camille.ins[0]} {camille.ins[1:3]} {camille.ins[3:]}"
    dashed = f"{camille.ins[:5]}-{camille.ins[5:]}"
    for value in (spaced, dashed, camille.ins.lower() + " "):
        response = api.get("/fhir/Patient", identifier=f"{INS_NIR_SYSTEM}|{value}")
        assert_fhir_error(response, 422)
        by_ins = {"identifier": {"system": INS_NIR_SYSTEM, "value": value}}
        assert_fhir_error(api.post("/fhir/", provide_bundle(by_ins, [document()])), 422)
    ok = api.get("/fhir/Patient", identifier=f"{INS_NIR_SYSTEM}|{camille.ins}")
    assert fhir_json(ok, "Bundle")["total"] == 1


def test_a_missing_blob_is_410_in_fhir(api, camille):
    deposit = api.post("/fhir/", provide_bundle(camille, [document()]))
    doc_id = deposit.json()["entry"][1]["response"]["location"].split("/")[1]
    doc = Document.objects.get(pk=doc_id)
    store.delete(camille.pk, doc.pk)
    response = api.get(f"/fhir/Binary/{doc_id}")
    body = assert_fhir_error(response, 410)
    assert "Document indisponible" in body["issue"][0]["diagnostics"]


def test_the_body_size_is_refused_before_it_is_read(api, camille, monkeypatch):
    from mes.fhir.mhd import views as views_mhd

    monkeypatch.setattr(views_mhd, "MAX_BUNDLE_BYTES", 1000)
    client: Client = api.client
    response = client.generic(
        "POST",
        "/fhir/",
        b"{}",
        content_type=FHIR_JSON,
        headers={**api._headers(None), "Content-Length": "5000"},
    )
    body = assert_fhir_error(response, 413)
    assert body["issue"][0]["code"] == "too-long"


def test_an_unknown_patient_stays_404_for_reads(api):
    assert_fhir_error(api.get(f"/fhir/Patient/{Citizen().pk}"), 404)


def test_the_justification_still_works(api, camille):
    response = api.get(
        f"/fhir/Patient/{camille.pk}",
        headers={MODE_HEADER: "bris_de_glace", JUSTIFICATION_HEADER: quote("Patient inconscient")},
    )
    assert response.status_code == 200
