"""The author's operations on a document (TD3.3, PDSm Flux 03) by PATCH or DELETE: masking
(also the médecin traitant), the release after a consultation d'annonce, archiving, deleting —
404 for anyone else, every attempt traced."""

from __future__ import annotations

import json

import pytest

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.fhir.mhd import systems
from mes.fhir.tests.conftest import fhir_json, issue_codes
from mes.notifications.models import Notification
from mes.records import actions
from mes.records.models import Document
from mes.records.policies import documents_visible_to

pytestmark = pytest.mark.django_db

JSON_PATCH = "application/json-patch+json"
MASQUE = {"coding": [{"system": systems.TRE_A07, "code": "MASQUE_PS"}]}


@pytest.fixture
def soins(camille, ide_bernard):
    """A nurse's report: she is its author; Dr Martin is Camille's médecin traitant."""
    return actions.document_deposit(
        actor=pro(ide_bernard),
        patient_id=camille.pk,
        content=make_pdf("Suivi"),
        title="Suivi de soins infirmiers",
        type_code="11506-3",
    )


@pytest.fixture
def annonce(camille, dr_martin):
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Résultat"),
        title="Résultat d'anatomopathologie",
        type_code="60568-3",
        hidden_from_patient=True,
    )


def json_patch(api, doc, operations):
    return api.client.patch(
        f"/fhir/DocumentReference/{doc.pk}",
        json.dumps(operations),
        content_type=JSON_PATCH,
        headers=api._headers(None),
    )


def fhirpath_patch(api, doc, *operations):
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": kind},
                    {"name": "path", "valueString": path},
                    *([{"name": "value", **value}] if value else []),
                ],
            }
            for kind, path, value in operations
        ],
    }
    return api.patch(f"/fhir/DocumentReference/{doc.pk}", params)


def codes(resource) -> list[str]:
    return [label["coding"][0]["code"] for label in resource["securityLabel"]]


# --- MASQUE_PS --------------------------------------------------------------------------------


def test_the_author_masks_by_json_patch(fhir_client_for, ide_bernard, soins):
    api = fhir_client_for(ide_bernard)
    response = json_patch(api, soins, [{"op": "add", "path": "/securityLabel/-", "value": MASQUE}])
    assert response.status_code == 200, response.content
    assert codes(fhir_json(response, "DocumentReference")) == ["N", "MASQUE_PS"]
    assert Document.objects.get(pk=soins.pk).masked_from_professionals
    row = Trace.objects.get(action=TraceAction.MASK_DOC)
    assert (row.actor_id, row.outcome, row.access_mode) == (
        ide_bernard.national_id,
        TraceOutcome.ALLOWED,
        "normal",
    )


def test_the_treating_physician_unmasks_by_fhirpath_patch(fhir_client_for, dr_martin, soins):
    Document.objects.filter(pk=soins.pk).update(masked_from_professionals=True)
    api = fhir_client_for(dr_martin)
    response = fhirpath_patch(
        api,
        soins,
        ("delete", "DocumentReference.securityLabel.where(coding.code='MASQUE_PS')", None),
    )
    assert response.status_code == 200, response.content
    assert codes(fhir_json(response)) == ["N"]
    assert not Document.objects.get(pk=soins.pk).masked_from_professionals
    assert Trace.objects.filter(
        action=TraceAction.UNMASK_DOC, actor_id=dr_martin.national_id
    ).exists()


def test_another_professional_may_not_mask(fhir_client_for, podo_petit, soins):
    api = fhir_client_for(podo_petit)  # authorised, reads the report, is neither author nor MT
    assert api.get(f"/fhir/DocumentReference/{soins.pk}").status_code == 200
    response = json_patch(api, soins, [{"op": "add", "path": "/securityLabel/-", "value": MASQUE}])
    assert response.status_code == 404
    assert issue_codes(response) == ["not-found"]
    assert not Document.objects.get(pk=soins.pk).masked_from_professionals
    refused = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert (refused.action, refused.actor_id) == (TraceAction.MASK_DOC, podo_petit.national_id)


# --- the consultation d'annonce ---------------------------------------------------------------


def test_release_after_the_consultation_d_annonce(fhir_client_for, camille, dr_martin, annonce):
    assert not documents_visible_to(citizen_actor(camille), camille).exists()
    api = fhir_client_for(dr_martin)
    before = fhir_json(api.get(f"/fhir/DocumentReference/{annonce.pk}"))
    index = codes(before).index("INVISIBLE_PATIENT")
    response = json_patch(api, annonce, [{"op": "remove", "path": f"/securityLabel/{index}"}])
    assert response.status_code == 200, response.content
    assert "INVISIBLE_PATIENT" not in codes(fhir_json(response))
    assert list(documents_visible_to(citizen_actor(camille), camille)) == [annonce]
    assert camille.notifications.filter(code=Notification.Code.NEW_DOCUMENT).exists()
    assert Trace.objects.filter(action=TraceAction.RELEASE_DOC, document_id=annonce.pk).exists()


def test_hiding_after_the_deposit_is_refused(fhir_client_for, ide_bernard, soins):
    label = {"coding": [{"system": systems.TRE_A07, "code": "INVISIBLE_PATIENT"}]}
    response = json_patch(
        fhir_client_for(ide_bernard),
        soins,
        [{"op": "add", "path": "/securityLabel/-", "value": label}],
    )
    assert response.status_code == 422
    assert issue_codes(response) == ["business-rule"]


# --- archive ----------------------------------------------------------------------------------


def test_archive_and_restore(fhir_client_for, camille, ide_bernard, soins):
    api = fhir_client_for(ide_bernard)
    archive = [{"op": "replace", "path": "/extension/0/valueBoolean", "value": True}]
    response = json_patch(api, soins, archive)
    assert response.status_code == 200, response.content
    assert fhir_json(response)["extension"][0]["valueBoolean"] is True
    assert Document.objects.get(pk=soins.pk).status == Document.Status.ARCHIVED
    listed = fhir_json(
        api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    )
    assert listed["total"] == 0
    restore = fhirpath_patch(
        api,
        soins,
        (
            "replace",
            f"DocumentReference.extension.where(url='{systems.PDSM_IS_ARCHIVED}').value",
            {"valueBoolean": False},
        ),
    )
    assert restore.status_code == 200, restore.content
    assert Document.objects.get(pk=soins.pk).status == Document.Status.CURRENT
    actions_traced = list(
        Trace.objects.filter(document_id=soins.pk, action__in=["ARCHIVAGE_DOC", "DESARCHIVAGE_DOC"])
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions_traced == [TraceAction.ARCHIVE_DOC, TraceAction.UNARCHIVE_DOC]


def test_only_the_author_archives(fhir_client_for, dr_martin, soins):
    archive = [{"op": "replace", "path": "/extension/0/valueBoolean", "value": True}]
    response = json_patch(fhir_client_for(dr_martin), soins, archive)
    assert response.status_code == 404
    assert Document.objects.get(pk=soins.pk).status == Document.Status.CURRENT
    refused = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert (refused.action, refused.reason) == (
        TraceAction.ARCHIVE_DOC,
        "réservé à l'auteur du document",
    )


def test_several_operations_fail_together(fhir_client_for, dr_martin, soins):
    # The médecin traitant may mask but not archive: neither happens.
    response = json_patch(
        fhir_client_for(dr_martin),
        soins,
        [
            {"op": "add", "path": "/securityLabel/-", "value": MASQUE},
            {"op": "replace", "path": "/extension/0/valueBoolean", "value": True},
        ],
    )
    assert response.status_code == 404
    doc = Document.objects.get(pk=soins.pk)
    assert (doc.masked_from_professionals, doc.status) == (False, Document.Status.CURRENT)
    assert not Trace.objects.filter(
        action=TraceAction.MASK_DOC, outcome=TraceOutcome.ALLOWED
    ).exists()


# --- delete -----------------------------------------------------------------------------------


def test_logical_deletion_by_patch(fhir_client_for, camille, ide_bernard, soins):
    response = json_patch(
        fhir_client_for(ide_bernard),
        soins,
        [
            {"op": "test", "path": "/status", "value": "current"},
            {"op": "replace", "path": "/status", "value": "superseded"},
            {
                "op": "add",
                "path": "/extension/-",
                "value": {"url": systems.PDSM_IS_DELETED, "valueBoolean": True},
            },
        ],
    )
    assert response.status_code == 200, response.content
    assert fhir_json(response, "OperationOutcome")["issue"][0]["severity"] == "information"
    assert Document.objects.get(pk=soins.pk).status == Document.Status.DELETED
    assert camille.notifications.filter(code=Notification.Code.DELETED_DOCUMENT).exists()


def test_delete(fhir_client_for, ide_bernard, soins):
    api = fhir_client_for(ide_bernard)
    response = api.delete(f"/fhir/DocumentReference/{soins.pk}")
    assert response.status_code == 200
    assert fhir_json(response, "OperationOutcome")
    assert api.get(f"/fhir/DocumentReference/{soins.pk}").status_code == 404
    assert Trace.objects.filter(
        action=TraceAction.DELETE_DOC, outcome=TraceOutcome.ALLOWED
    ).exists()


def test_only_the_author_deletes(fhir_client_for, dr_martin, soins):
    response = fhir_client_for(dr_martin).delete(f"/fhir/DocumentReference/{soins.pk}")
    assert response.status_code == 404
    assert Document.objects.get(pk=soins.pk).status == Document.Status.CURRENT
    refused = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert (refused.action, refused.actor_id) == (TraceAction.DELETE_DOC, dr_martin.national_id)


# --- what a PATCH may not do ------------------------------------------------------------------


def test_other_elements_are_405(fhir_client_for, ide_bernard, soins):
    api = fhir_client_for(ide_bernard)
    response = json_patch(
        api, soins, [{"op": "replace", "path": "/subject", "value": {"reference": "Patient/x"}}]
    )
    assert response.status_code == 405
    assert issue_codes(response) == ["not-supported"]


def test_superseding_needs_a_new_version(fhir_client_for, ide_bernard, soins):
    api = fhir_client_for(ide_bernard)
    response = json_patch(api, soins, [{"op": "replace", "path": "/status", "value": "superseded"}])
    assert response.status_code == 422
    assert "ITI-65" in fhir_json(response)["issue"][0]["diagnostics"]


def test_a_patch_in_another_format_is_415(fhir_client_for, ide_bernard, soins):
    api = fhir_client_for(ide_bernard)
    response = api.client.patch(
        f"/fhir/DocumentReference/{soins.pk}",
        "op=replace",
        content_type="text/plain",
        headers=api._headers(None),
    )
    assert response.status_code == 415


def test_a_stranger_patching_learns_nothing(fhir_client_for, dr_durand, soins):
    # A failing `test` would tell the status: the read check comes first.
    response = json_patch(
        fhir_client_for(dr_durand), soins, [{"op": "test", "path": "/status", "value": "x"}]
    )
    assert response.status_code == 404
    refused = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert refused.reason == "aucune autorisation d'accès"
