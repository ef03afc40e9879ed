"""Reading one DocumentReference and retrieving the document (ITI-68): the bytes as deposited,
410 for a replaced version, 404 for the unknown and the forbidden alike — each traced."""

from __future__ import annotations

import base64

import pytest

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.fhir.mhd import systems
from mes.fhir.tests.conftest import fhir_json, issue_codes
from mes.records import actions
from mes.records.models import Document

pytestmark = pytest.mark.django_db

PDF = make_pdf("Lettre de liaison de sortie du 1er mars")


@pytest.fixture
def lettre(camille, dr_martin):
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=PDF,
        title="Lettre de liaison de sortie",
        type_code="11490-0",
    )


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def test_read_a_document_reference(api, camille, dr_martin, lettre):
    response = api.get(f"/fhir/DocumentReference/{lettre.pk}")
    assert response.status_code == 200
    resource = fhir_json(response, "DocumentReference")
    assert resource["id"] == str(lettre.pk)
    assert (
        resource["content"][0]["attachment"]["url"] == f"http://testserver/fhir/Binary/{lettre.pk}"
    )
    row = Trace.objects.filter(action=TraceAction.CONSULT_DOC).get()
    assert (row.document_id, row.actor_id, row.outcome, row.access_mode) == (
        lettre.pk,
        dr_martin.national_id,
        TraceOutcome.ALLOWED,
        "normal",
    )


def test_retrieve_gives_the_same_bytes(api, camille, dr_martin, lettre):
    url = fhir_json(api.get(f"/fhir/DocumentReference/{lettre.pk}"))["content"][0]["attachment"][
        "url"
    ]
    response = api.get(url)
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == 'attachment; filename="lettre-de-liaison-de-sortie.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    row = Trace.objects.filter(action=TraceAction.DOWNLOAD_DOC).get()
    assert (row.document_id, row.actor_id, row.access_mode) == (
        lettre.pk,
        dr_martin.national_id,
        "normal",
    )


def test_retrieve_as_a_fhir_binary(api, lettre):
    response = api.get(f"/fhir/Binary/{lettre.pk}", headers={"Accept": "application/fhir+json"})
    binary = fhir_json(response, "Binary")
    assert binary["contentType"] == "application/pdf"
    assert base64.b64decode(binary["data"]) == PDF


def test_a_replaced_version_is_gone(api, camille, dr_martin, lettre):
    actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("v2"),
        title="Lettre corrigée",
        type_code="11490-0",
        replaces_id=lettre.pk,
    )
    response = api.get(f"/fhir/Binary/{lettre.pk}")
    assert response.status_code == 410
    assert issue_codes(response) == ["deleted"]
    # Its metadata stay readable, as superseded.
    assert fhir_json(api.get(f"/fhir/DocumentReference/{lettre.pk}"))["status"] == "superseded"
    assert not Trace.objects.filter(action=TraceAction.DOWNLOAD_DOC).exists()
    assert Trace.objects.filter(action=TraceAction.CONSULT_DOC, document_id=lettre.pk).count() == 2


def test_a_replaced_version_is_404_to_whoever_may_not_read_it(
    fhir_client_for, camille, dr_martin, dr_durand, lettre
):
    actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("v2"),
        title="Lettre corrigée",
        type_code="11490-0",
        replaces_id=lettre.pk,
    )
    response = fhir_client_for(dr_durand).get(f"/fhir/Binary/{lettre.pk}")
    assert response.status_code == 404


def test_an_archived_document_is_still_retrieved(api, dr_martin, lettre):
    actions.document_set_archived(actor=pro(dr_martin), document_id=lettre.pk, archived=True)
    assert api.get(f"/fhir/Binary/{lettre.pk}").content == PDF
    resource = fhir_json(api.get(f"/fhir/DocumentReference/{lettre.pk}"))
    assert resource["extension"] == [{"url": systems.PDSM_IS_ARCHIVED, "valueBoolean": True}]


def test_unknown_and_forbidden_are_the_same_404(fhir_client_for, api, dr_durand, lettre):
    unknown = api.get("/fhir/Binary/7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d")
    not_an_id = api.get("/fhir/DocumentReference/pas-un-identifiant")
    forbidden = fhir_client_for(dr_durand).get(f"/fhir/Binary/{lettre.pk}")
    assert unknown.status_code == not_an_id.status_code == forbidden.status_code == 404
    assert unknown.content == not_an_id.content == forbidden.content
    refused = Trace.objects.filter(outcome=TraceOutcome.REFUSED).order_by("pk")
    assert [(r.action, r.reason) for r in refused] == [
        (TraceAction.DOWNLOAD_DOC, "document inconnu"),
        (TraceAction.DOWNLOAD_DOC, "aucune autorisation d'accès"),
    ]


def test_a_deleted_document_is_404(api, dr_martin, lettre):
    actions.document_delete(actor=pro(dr_martin), document_id=lettre.pk)
    assert api.get(f"/fhir/Binary/{lettre.pk}").status_code == 404
    assert api.get(f"/fhir/DocumentReference/{lettre.pk}").status_code == 404
    assert Document.objects.get(pk=lettre.pk).status == Document.Status.DELETED


def test_other_methods_are_405(api, lettre):
    response = api.put(
        f"/fhir/DocumentReference/{lettre.pk}", {"resourceType": "DocumentReference"}
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET, PATCH, DELETE"
    assert api.post(f"/fhir/Binary/{lettre.pk}", {}).status_code == 405
    assert api.post("/fhir/DocumentReference", {}).status_code == 405


def test_xml_is_offered_and_other_formats_are_not(api, camille, lettre):
    for response in (
        api.get(f"/fhir/DocumentReference/{lettre.pk}", headers={"Accept": "application/fhir+xml"}),
        api.get(
            "/fhir/DocumentReference", patient=str(camille.pk), status="current", _format="xml"
        ),
        api.get(f"/fhir/Binary/{lettre.pk}", headers={"Accept": "application/fhir+xml"}),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+xml; charset=utf-8"
    turtle = api.get(f"/fhir/DocumentReference/{lettre.pk}", _format="ttl")
    assert turtle.status_code == 406 and issue_codes(turtle) == ["not-supported"]
    assert (
        api.get(f"/fhir/Binary/{lettre.pk}", headers={"Accept": "application/pdf, */*"}).content
        == PDF
    )
