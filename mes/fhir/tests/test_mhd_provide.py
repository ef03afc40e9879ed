"""ITI-65: Dr Martin's practice software sends Camille's documents in a transaction Bundle —
stored all together or not at all, each refusal explained and traced."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from django.conf import settings

from mes.access.actors import AccessMode, citizen_actor
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import authorise, make_pdf, pro
from mes.fhir.mhd import systems
from mes.fhir.tests.conftest import INS_NIR_SYSTEM, fhir_json, issue_codes
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.notifications.models import Notification
from mes.records import actions
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.vault import store

pytestmark = pytest.mark.django_db


def blobs_of(patient) -> list[Path]:
    root = Path(settings.STORAGES["vault"]["OPTIONS"]["location"]) / patient.pk.hex[:2]
    return sorted((root / patient.pk.hex).glob("*.bin")) if root.exists() else []


def diagnostics(response) -> str:
    return " ".join(i["diagnostics"] for i in fhir_json(response, "OperationOutcome")["issue"])


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


# --- success ----------------------------------------------------------------------------------


def test_two_documents_are_stored_and_answered_in_order(api, camille, dr_martin):
    pdf = make_pdf("Lettre de liaison")
    bundle = provide_bundle(
        camille,
        [
            document(pdf, unique_id="1.2.250.1.999.65.1"),
            document(type_code="11502-2", category="10", title="Biologie du 1er mars"),
        ],
    )
    response = api.post("/fhir/", bundle)
    assert response.status_code == 200, response.content
    body = fhir_json(response, "Bundle")
    assert body["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created"] * 5
    locations = [e["response"]["location"].split("/")[0] for e in body["entry"]]
    assert locations == ["List", "DocumentReference", "Binary", "DocumentReference", "Binary"]

    first_id = body["entry"][1]["response"]["location"].split("/")[1]
    assert body["entry"][2]["response"]["location"] == f"Binary/{first_id}"
    doc = Document.objects.get(pk=first_id)
    assert doc.unique_id == "1.2.250.1.999.65.1"
    assert (doc.type_code, doc.class_code, doc.format_code) == (
        "11490-0",
        "10",
        "urn:ihe:iti:xds-sd:pdf:2008",
    )
    assert doc.service_date.isoformat() == "2024-03-01"
    assert doc.created_at.isoformat() == "2024-03-01T09:00:00+00:00"
    assert doc.author_professional == dr_martin
    assert store.get(camille.pk, doc.pk) == pdf
    # The SHA-1 sent is kept, and given back as the DocumentReference's attachment.hash.
    sha1 = hashlib.sha1(pdf, usedforsecurity=False)
    assert doc.sha1 == sha1.hexdigest()
    read = fhir_json(api.get(f"/fhir/DocumentReference/{doc.pk}"), "DocumentReference")
    assert read["content"][0]["attachment"]["hash"] == base64.b64encode(sha1.digest()).decode()

    deposits = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.DEPOSIT_DOC)
    assert deposits.count() == 2
    assert {t.access_mode for t in deposits} == {"normal"}
    assert {t.software for t in deposits} == {"MédiLogiciel 4.2"}
    # Camille is told of each new document.
    assert camille.notifications.filter(code=Notification.Code.NEW_DOCUMENT).count() == 2


def test_the_patient_may_be_named_by_ins(api, camille):
    subject = {"identifier": {"system": INS_NIR_SYSTEM, "value": camille.ins}}
    response = api.post("/fhir/", provide_bundle(subject, [document()]))
    assert response.status_code == 200, response.content
    assert Document.objects.filter(patient=camille).count() == 1


def test_the_patient_may_be_an_absolute_reference_or_a_patient_entry(api, camille):
    absolute = f"http://testserver/fhir/Patient/{camille.pk}"
    assert api.post("/fhir/", provide_bundle(absolute, [document()])).status_code == 200
    patient_entry = {
        "fullUrl": "urn:uuid:0b9a1c4e-9d47-4d31-8d63-3b1f1c6f6a10",
        "resource": {
            "resourceType": "Patient",
            "identifier": [{"system": INS_NIR_SYSTEM, "value": camille.ins}],
        },
        "request": {"method": "POST", "url": "Patient"},
    }
    bundle = provide_bundle(
        "urn:uuid:0b9a1c4e-9d47-4d31-8d63-3b1f1c6f6a10", [document()], extra_entries=[patient_entry]
    )
    response = api.post("/fhir/", bundle)
    assert response.status_code == 200, response.content
    last = fhir_json(response)["entry"][-1]["response"]
    assert last == {**last, "status": "200 OK", "location": f"Patient/{camille.pk}"}
    assert Document.objects.filter(patient=camille).count() == 2


def test_ihe_hex_hash_is_accepted(api, camille):
    pdf = make_pdf()
    hex_hash = base64.b64encode(hashlib.sha1(pdf).hexdigest().encode()).decode()
    response = api.post("/fhir/", provide_bundle(camille, [document(pdf, hash_=hex_hash)]))
    assert response.status_code == 200, response.content


def test_a_replacement_supersedes_the_old_version(api, camille, dr_martin):
    v1 = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("v1"),
        title="Lettre v1",
        type_code="11490-0",
    )
    patch_entry = {
        "resource": {
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "operation",
                    "part": [
                        {"name": "type", "valueCode": "replace"},
                        {"name": "path", "valueString": "DocumentReference.status"},
                        {"name": "value", "valueCode": "superseded"},
                    ],
                }
            ],
        },
        "request": {"method": "PATCH", "url": f"DocumentReference/{v1.pk}"},
    }
    bundle = provide_bundle(
        camille, [document(replaces=str(v1.pk), title="Lettre v2")], extra_entries=[patch_entry]
    )
    response = api.post("/fhir/", bundle)
    assert response.status_code == 200, response.content
    entries = fhir_json(response)["entry"]
    assert [e["response"]["status"] for e in entries] == ["201 Created"] * 3 + ["200 OK"]
    assert entries[3]["response"]["location"] == f"DocumentReference/{v1.pk}"
    v1.refresh_from_db()
    assert v1.status == Document.Status.SUPERSEDED
    v2 = Document.objects.get(pk=entries[1]["response"]["location"].split("/")[1])
    assert v2.replaces_id == v1.pk
    assert Trace.objects.filter(action=TraceAction.REPLACE_DOC, document_id=v2.pk).exists()
    assert camille.notifications.filter(code=Notification.Code.UPDATED_DOCUMENT).exists()


def test_unsupported_relations_and_unkept_metadata_are_warnings(api, camille):
    doc = document(
        relatesTo=[
            {
                "code": "transforms",
                "target": {"reference": "DocumentReference/9b0b4a59-9d7b-4c0a-b0b4-b2f1d2a4e3c1"},
            }
        ],
        context={
            "period": {"start": "2024-03-01", "end": "2024-03-02"},
            "event": [{"text": "Acte sans code"}],
            "related": [{"reference": "ServiceRequest/1"}],
            "facilityType": {"coding": [{"system": systems.TRE_R02, "code": "SA04"}]},
        },
    )
    response = api.post("/fhir/", provide_bundle(camille, [doc]))
    assert response.status_code == 200, response.content
    outcome = fhir_json(response)["entry"][1]["response"]["outcome"]
    texts = [i["diagnostics"] for i in outcome["issue"]]
    assert {i["severity"] for i in outcome["issue"]} == {"warning"}
    assert any(t.startswith("PartialTransformContentNotProcessed") for t in texts)
    assert any("context.period.end" in t for t in texts)
    assert any("context.event sans code" in t for t in texts)
    assert any("context.related sans identifiant" in t for t in texts)
    assert any("SA04" in t and "SA07" in t for t in texts)
    stored = Document.objects.get(patient=camille)
    assert (stored.event_codes, stored.reference_ids) == ("", "")


CCAM = "urn:oid:1.2.250.1.213.2.5"


def test_event_codes_and_related_ids_are_kept_and_read_back(api, camille):
    doc = document(
        context={
            "period": {"start": "2024-03-01"},
            "event": [
                {"coding": [{"system": CCAM, "code": "YYYY600"}, {"code": "SANS-SYSTEME"}]},
                {"coding": [{"system": CCAM, "code": "ZBQK002"}]},
            ],
            "related": [
                {"identifier": {"value": "CMD-2024-0042"}},
                {"identifier": {"system": "urn:oid:1.2.250.1.999", "value": "ACC-77^^^&1.2&ISO"}},
            ],
        },
    )
    response = api.post("/fhir/", provide_bundle(camille, [doc]))
    assert response.status_code == 200, response.content
    entry = fhir_json(response)["entry"][1]["response"]
    # Only the related identifier's system is not kept.
    texts = [i["diagnostics"] for i in entry["outcome"]["issue"]]
    assert texts == [
        "Le système de l'identifiant associé « ACC-77^^^&1.2&ISO » "
        "(context.related.identifier.system) n'est pas conservé."
    ]
    stored = Document.objects.get(pk=entry["location"].split("/")[1])
    assert stored.event_code_list == [(CCAM, "YYYY600"), ("", "SANS-SYSTEME"), (CCAM, "ZBQK002")]
    assert stored.reference_id_list == ["CMD-2024-0042", "ACC-77^^^&1.2&ISO"]

    read = fhir_json(api.get(f"/fhir/DocumentReference/{stored.pk}"), "DocumentReference")
    assert read["context"]["event"] == [
        {"coding": [{"system": CCAM, "code": "YYYY600"}]},
        {"coding": [{"code": "SANS-SYSTEME"}]},
        {"coding": [{"system": CCAM, "code": "ZBQK002"}]},
    ]
    assert read["context"]["related"] == [
        {"identifier": {"value": "CMD-2024-0042"}},
        {"identifier": {"value": "ACC-77^^^&1.2&ISO"}},
    ]


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ({"event": [{"coding": [{"system": CCAM, "code": "A|B"}]}]}, "code d'acte"),
        ({"event": [{"coding": [{"system": CCAM, "code": "A^B"}]}]}, "code d'acte"),
        ({"event": [{"coding": [{"system": CCAM, "code": "X" * 65}]}]}, "64 caractères"),
        (
            {"event": [{"coding": [{"code": f"C{n}"}]} for n in range(21)]},
            "au plus 20 codes d'actes",
        ),
        ({"related": [{"identifier": {"value": "A|B"}}]}, "identifiant associé"),
        ({"related": [{"identifier": {"value": "X" * 256}}]}, "255 caractères"),
    ],
)
def test_invalid_event_codes_or_related_ids_store_nothing(api, camille, context, words):
    bundle = provide_bundle(
        camille, [document(context={"period": {"start": "2024-03-01"}, **context})]
    )
    _bad(api, camille, bundle, "processing", "Document 1 du lot refusé", words)


# --- visibility flags -------------------------------------------------------------------------


def test_invisible_patient_is_kept_from_camille_and_not_announced(api, camille):
    response = api.post(
        "/fhir/", provide_bundle(camille, [document(labels=("N", "INVISIBLE_PATIENT"))])
    )
    assert response.status_code == 200, response.content
    doc = Document.objects.get(patient=camille)
    assert doc.hidden_from_patient
    assert not documents_visible_to(citizen_actor(camille), camille).exists()
    assert not camille.notifications.filter(code=Notification.Code.NEW_DOCUMENT).exists()


def test_masque_ps_masks(api, camille):
    response = api.post("/fhir/", provide_bundle(camille, [document(labels=("N", "MASQUE_PS"))]))
    assert response.status_code == 200
    assert Document.objects.get(patient=camille).masked_from_professionals


def test_hidden_from_representatives_only_for_a_minor(fhir_client_for, dr_martin, camille, louis):
    authorise(louis, dr_martin)
    api = fhir_client_for(dr_martin)
    labels = ("N", "INVISIBLE_REPRESENTANTS_LEGAUX")
    refused = api.post("/fhir/", provide_bundle(camille, [document(labels=labels)]))
    assert refused.status_code == 422
    assert "mineur" in diagnostics(refused)
    response = api.post("/fhir/", provide_bundle(louis, [document(labels=labels)]))
    assert response.status_code == 200
    assert not documents_visible_to(citizen_actor(camille), louis).exists()


# --- 422: invalid content, nothing stored -----------------------------------------------------


def _bad(api, camille, bundle, code: str | list[str], *words: str, status: int = 422) -> None:
    response = api.post("/fhir/", bundle)
    assert response.status_code == status, response.content
    assert issue_codes(response) == (code if isinstance(code, list) else [code])
    text = diagnostics(response)
    for word in words:
        assert word in text, text
    assert not Document.objects.filter(patient=camille).exists()
    assert not blobs_of(camille)
    assert not Trace.objects.filter(action=TraceAction.DEPOSIT_DOC).exists()


def test_a_wrong_hash_is_refused(api, camille):
    _bad(
        api,
        camille,
        provide_bundle(camille, [document(hash_=base64.b64encode(b"x" * 20).decode())]),
        "value",
        "SHA-1",
    )


def test_a_wrong_size_is_refused(api, camille):
    _bad(
        api,
        camille,
        provide_bundle(camille, [document(size=12)]),
        "value",
        "Taille annoncée (12 octets)",
    )


def test_a_missing_binary_is_refused(api, camille):
    bundle = provide_bundle(camille, [document()])
    del bundle["entry"][2]
    _bad(api, camille, bundle, "required", "Binary")


def test_inline_data_is_refused(api, camille):
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][1]["resource"]["content"][0]["attachment"]["data"] = "JVBERi0="
    _bad(api, camille, bundle, "structure", "attachment.data")


@pytest.mark.parametrize(
    ("type_code", "words"),
    [
        ("99999-9", "Type de document inconnu"),
        ("10213-7", "n'est plus accepté"),
        ("FEUILLE-DE-STYLE", "n'est pas un document du DMP"),
    ],
)
def test_a_type_outside_the_value_set_is_refused(api, camille, type_code, words):
    doc = document(type_code=type_code, type_system=None, category=None)
    _bad(api, camille, provide_bundle(camille, [doc]), "code-invalid", words)


def test_a_category_that_is_not_the_class_of_the_type_is_refused(api, camille):
    doc = document(type_code="11490-0", category="11")
    _bad(
        api,
        camille,
        provide_bundle(camille, [doc]),
        "business-rule",
        "La catégorie (classCode) « 11 » ne correspond pas au type de document « 11490-0 »",
        "dont la classe est « 10 » (Compte rendu)",
    )


def test_two_submission_sets_are_refused(api, camille):
    _bad(
        api,
        camille,
        provide_bundle(camille, [document()], submission_sets=2),
        "invariant",
        "exactement un lot",
    )


def test_no_submission_set_is_refused(api, camille):
    _bad(api, camille, provide_bundle(camille, [document()], submission_sets=0), "required")


def test_invalid_fhir_is_refused(api, camille):
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][1]["resource"]["status"] = 12
    bundle["entry"][1]["resource"]["inconnu"] = True
    # Every problem, not only the first (issue 12 §1).
    _bad(api, camille, bundle, ["structure", "structure"], "FHIR R4", "entry.1.resource")


def test_unreadable_json_is_400(api, camille):
    _bad(api, camille, b"{pas du json", "structure", "JSON invalide", status=400)


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda b: b.update(type="batch"), "value", "transaction"),
        # An empty object or array is not FHIR JSON (R4 §2.6.2): named, beside what is missing.
        (lambda b: b.update(meta={}), ["structure", "value"], ("objet vide", "meta.profile")),
        (
            lambda b: b["entry"][0]["resource"]["extension"].clear(),
            ["structure", "required"],
            ("tableau vide", "sourceId"),
        ),
        (
            # The folder, and then the missing submission set it was meant to be.
            lambda b: b["entry"][0]["resource"]["code"]["coding"][0].update(code="folder"),
            ["not-supported", "required"],
            "classeurs",
        ),
        (
            lambda b: b["entry"][1]["resource"]["securityLabel"].append(
                {"coding": [{"system": systems.TRE_A07, "code": "MASQUE_PSOCIAL"}]}
            ),
            "code-invalid",
            "JDV_J58",
        ),
        (
            lambda b: b["entry"][1]["resource"].pop("masterIdentifier"),
            "required",
            "masterIdentifier",
        ),
        (
            lambda b: b["entry"][0]["resource"]["entry"].clear(),
            ["structure", "required"],
            ("tableau vide", "List.entry"),
        ),
        (
            lambda b: b["entry"][1]["resource"]["type"]["coding"][0].update(system=systems.TRE_A05),
            "code-invalid",
            "appartient au système http://loinc.org",
        ),
        (
            lambda b: b["entry"][2]["resource"].update(contentType="image/png"),
            "invariant",
            "type MIME",
        ),
    ],
)
def test_mhd_shape_faults(api, camille, change, code, words):
    bundle = provide_bundle(camille, [document()])
    change(bundle)
    _bad(api, camille, bundle, code, *(words if isinstance(words, tuple) else [words]))


@pytest.mark.parametrize("declared", ["application/pdf", "image/png"])
def test_content_that_is_not_what_it_is_declared_is_refused(api, camille, declared):
    """Plain text declared as a PDF (or an image) is refused, not stored under another type."""
    text = b"Compte rendu en texte brut.\n"
    bundle = provide_bundle(camille, [document(content=text, content_type=declared)])
    _bad(api, camille, bundle, "value", "text/plain")


@pytest.mark.parametrize("declared", ["text/plain; charset=utf-8", "TEXT/PLAIN"])
def test_a_declared_type_with_parameters_or_another_case_is_the_same_type(api, camille, declared):
    text = b"Compte rendu en texte brut.\n"
    bundle = provide_bundle(camille, [document(content=text, content_type=declared)])
    response = api.post("/fhir/", bundle)
    assert response.status_code == 200, response.content
    assert Document.objects.get(patient=camille).mime_type == "text/plain"


def test_documents_of_two_patients_are_refused(api, camille, bob):
    bundle = provide_bundle(camille, [document(), document()])
    bundle["entry"][3]["resource"]["subject"] = {"reference": f"Patient/{bob.pk}"}
    _bad(api, camille, bundle, "invariant", "un seul et même patient")


def test_a_duplicate_master_identifier_is_refused(api, camille):
    docs = [document(unique_id="1.2.250.1.999.5"), document(unique_id="1.2.250.1.999.5")]
    _bad(api, camille, provide_bundle(camille, docs), "duplicate")


def test_another_format_is_415_in_french(api, camille):
    response = api.post("/fhir/", "Bundle", content_type="text/plain")
    assert response.status_code == 415
    assert issue_codes(response) == ["not-supported"]
    assert "application/fhir+json ou application/fhir+xml" in diagnostics(response)


# --- atomicity --------------------------------------------------------------------------------


def test_a_bad_second_document_stores_nothing(api, camille, dr_martin):
    existing = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Déjà là",
        type_code="11488-4",
        unique_id="1.2.250.1.999.66.1",
    )
    before_blobs = blobs_of(camille)
    # The second document passes the MHD checks but the domain refuses it (a future date).
    bundle = provide_bundle(camille, [document(), document(period_start="2099-01-01")])
    response = api.post("/fhir/", bundle)
    assert response.status_code == 422
    assert issue_codes(response) == ["processing"]
    assert "Document 2 du lot refusé : La date du document ne peut pas être dans le futur." in (
        diagnostics(response)
    )
    assert list(Document.objects.filter(patient=camille)) == [existing]
    assert blobs_of(camille) == before_blobs
    assert Trace.objects.filter(action=TraceAction.DEPOSIT_DOC).count() == 1  # the existing one
    assert camille.notifications.filter(code=Notification.Code.NEW_DOCUMENT).count() == 1


def test_a_refused_replacement_stores_nothing_and_is_traced(
    fhir_client_for, camille, dr_martin, ide_bernard
):
    theirs = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="CR du Dr Martin",
        type_code="11488-4",
    )
    api = fhir_client_for(ide_bernard)
    bundle = provide_bundle(camille, [document(), document(replaces=str(theirs.pk))])
    response = api.post("/fhir/", bundle)
    assert response.status_code == 404
    assert issue_codes(response) == ["not-found"]
    assert list(Document.objects.filter(patient=camille)) == [theirs]
    assert len(blobs_of(camille)) == 1
    refused = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert (refused.action, refused.actor_id, refused.document_id) == (
        TraceAction.REPLACE_DOC,
        ide_bernard.national_id,
        theirs.pk,
    )
    assert refused.access_mode == "normal"
    theirs.refresh_from_db()
    assert theirs.status == Document.Status.CURRENT


# --- who may deposit --------------------------------------------------------------------------


def test_no_token_is_401(client, camille):
    response = client.post(
        "/fhir/",
        json.dumps(provide_bundle(camille, [document()])),
        content_type="application/fhir+json",
    )
    assert response.status_code == 401
    assert issue_codes(response) == ["login"]


def test_a_blocked_professional_deposits_nothing(fhir_client_for, camille, ide_bernard):
    ProfessionalAccess.objects.filter(patient=camille, professional=ide_bernard).update(
        status=ProfessionalAccess.Status.BLOCKED
    )
    response = fhir_client_for(ide_bernard).post("/fhir/", provide_bundle(camille, [document()]))
    assert response.status_code == 404
    assert not Document.objects.exists()
    refused = Trace.objects.get(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert refused.reason == "professionnel bloqué par l'usager"


def test_an_unknown_patient_is_a_metadata_error_and_traced(api, dr_martin):
    """Issue 12 §1: not a bare 404 that looks like a wrong URL, but MHD's error with its code."""
    bundle = provide_bundle("Patient/7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d", [document()])
    response = api.post("/fhir/", bundle)
    assert response.status_code == 422
    issue = fhir_json(response, "OperationOutcome")["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "XDSUnknownPatientId"
    assert "Patient inconnu" in issue["diagnostics"]
    assert Trace.objects.get(outcome=TraceOutcome.REFUSED).reason == "dossier inconnu"
    assert not Document.objects.exists()


def test_any_professional_may_send_a_document_without_consent(fhir_client_for, camille, dr_durand):
    response = fhir_client_for(dr_durand).post("/fhir/", provide_bundle(camille, [document()]))
    assert response.status_code == 200
    assert Document.objects.get(patient=camille).author_professional == dr_durand


def test_break_glass_deposit_on_an_opposing_patient_is_404(fhir_client_for, camille, dr_durand):
    PrivacySettings.objects.filter(patient=camille).update(oppose_break_glass=True)
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Inconsciente")
    response = api.post("/fhir/", provide_bundle(camille, [document()]))
    assert response.status_code == 404
    refused = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert (refused.action, refused.access_mode) == (TraceAction.BREAK_GLASS, "bris_de_glace")
    assert not Document.objects.exists()


def test_the_insurer_deposits_reimbursements_only(fhir_client_for, assurance_maladie_org, camille):
    api = fhir_client_for(assurance_maladie_org)
    remb = document(
        type_code="REMB", type_system=systems.TRE_A05, category="60", title="Remboursements"
    )
    assert api.post("/fhir/", provide_bundle(camille, [remb])).status_code == 200
    row = Trace.objects.get(action=TraceAction.DEPOSIT_DOC)
    assert (row.actor_kind, row.access_mode) == ("insurer", "normal")
    refused = api.post("/fhir/", provide_bundle(camille, [document()]))
    assert refused.status_code == 422
    assert "données de remboursement" in diagnostics(refused)


def test_a_too_large_bundle_is_413(api, camille, monkeypatch):
    from mes.fhir.mhd import views as views_mhd

    monkeypatch.setattr(views_mhd, "MAX_BUNDLE_BYTES", 2000)
    response = api.post("/fhir/", provide_bundle(camille, [document()]))
    assert response.status_code == 413
    assert "trop volumineuse" in diagnostics(response)
    assert not Document.objects.exists()


def test_intended_recipients_are_not_reached(api, camille):
    bundle = provide_bundle(camille, [document()])
    bundle["entry"][0]["resource"]["extension"].append(
        {
            "url": systems.MHD_INTENDED_RECIPIENT,
            "valueReference": {"display": "Dr Destinataire"},
        }
    )
    response = api.post("/fhir/", bundle)
    assert response.status_code == 200, response.content
    outcome = fhir_json(response)["entry"][0]["response"]["outcome"]
    assert outcome["issue"][0]["diagnostics"].startswith("UnavailableRecipient")


def test_a_cda_biology_report_by_iti65_adds_its_hba1c_once(
    api, camille, dr_martin, django_capture_on_commit_callbacks
):
    from mes.measures.models import Measurement
    from mes.measures.tests.test_documents import biology_report

    cda = biology_report()
    for n in (1, 2):  # the same report sent twice, under a new OID the second time
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                "/fhir/",
                provide_bundle(
                    camille,
                    [
                        document(
                            cda,
                            type_code="11502-2",
                            title="Biologie du 25 février",
                            content_type="text/xml",
                            unique_id=f"1.2.250.1.999.65.7{n}",
                        )
                    ],
                ),
            )
        assert response.status_code == 200, response.content
    docs = Document.objects.filter(patient=camille, mime_type="text/xml")
    assert docs.count() == 2
    hba1c = Measurement.objects.filter(patient=camille, type_code="HBA1C")
    # Both documents are kept; their common result is in Mesures once, linked to the first.
    assert [m.source_document_id for m in hba1c] == [docs.order_by("deposited_at")[0].pk]
