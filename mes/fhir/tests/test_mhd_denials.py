"""Every denial the issue names, through the document API as an outside client meets it: no
token, another professional's patient, a pédicure-podologue and a CR d'accouchement, a masked
document, a blocked professional, bris de glace on a patient who opposed it, the Assurance
Maladie reading — and the trace each call leaves, with its access mode."""

from __future__ import annotations

import pytest

from mes.access.actors import AccessMode
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.fhir.tests.conftest import fhir_json, issue_codes
from mes.notifications.models import Notification
from mes.records import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def accouchement(camille, dr_martin):
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("CR d'accouchement"),
        title="CR d'accouchement",
        type_code="15508-5",
    )


@pytest.fixture
def consultation(camille, dr_martin):
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Consultation"),
        title="CR de consultation",
        type_code="11488-4",
    )


@pytest.fixture
def masked(camille, ide_bernard):
    """Masked at the nurse's deposit: her and the médecin traitant only."""
    return actions.document_deposit(
        actor=pro(ide_bernard),
        patient_id=camille.pk,
        content=make_pdf("Soins"),
        title="Soins infirmiers",
        type_code="11506-3",
        masked=True,
    )


def listed(api, patient) -> list[str]:
    response = api.get("/fhir/DocumentReference", patient=str(patient.pk), status="current")
    assert response.status_code == 200, response.content
    return [e["resource"]["id"] for e in fhir_json(response, "Bundle").get("entry", [])]


def read_and_retrieve(api, doc) -> list[int]:
    """The status codes of reading one DocumentReference and retrieving its document."""
    return [
        api.get(f"/fhir/DocumentReference/{doc.pk}").status_code,
        api.get(f"/fhir/Binary/{doc.pk}").status_code,
    ]


def test_no_token(client, camille, consultation):
    for path in (
        f"/fhir/DocumentReference?patient={camille.pk}&status=current",
        f"/fhir/DocumentReference/{consultation.pk}",
        f"/fhir/Binary/{consultation.pk}",
    ):
        response = client.get(path)
        assert response.status_code == 401, path
        assert issue_codes(response) == ["login"]
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Trace.objects.filter(action=TraceAction.CONSULT_DOSSIER).exists()


def test_another_professionals_patient(fhir_client_for, camille, dr_durand, consultation):
    api = fhir_client_for(dr_durand)  # Camille never saw Dr Durand: no authorisation
    response = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    assert response.status_code == 404
    assert read_and_retrieve(api, consultation) == [404, 404]
    refused = Trace.objects.filter(actor_id=dr_durand.national_id).order_by("pk")
    assert [(r.action, r.outcome, r.access_mode) for r in refused] == [
        (TraceAction.CONSULT_DOSSIER, TraceOutcome.REFUSED, "normal"),
        (TraceAction.CONSULT_DOC, TraceOutcome.REFUSED, "normal"),
        (TraceAction.DOWNLOAD_DOC, TraceOutcome.REFUSED, "normal"),
    ]
    assert {r.reason for r in refused} == {"aucune autorisation d'accès"}


def test_a_podiatrist_never_meets_a_cr_d_accouchement(
    fhir_client_for, camille, podo_petit, accouchement, consultation
):
    api = fhir_client_for(podo_petit)
    assert listed(api, camille) == [str(consultation.pk)]
    typed = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", type="15508-5"
    )
    assert fhir_json(typed)["total"] == 0
    assert read_and_retrieve(api, accouchement) == [404, 404]
    refused = Trace.objects.filter(actor_id=podo_petit.national_id, outcome=TraceOutcome.REFUSED)
    assert {r.reason for r in refused} == {"type de document hors de la matrice d'habilitations"}
    assert {r.document_id for r in refused} == {accouchement.pk}


def test_a_masked_document_is_seen_by_its_author_and_the_treating_physician_only(
    fhir_client_for, camille, ide_bernard, dr_martin, podo_petit, masked
):
    for who in (ide_bernard, dr_martin):
        api = fhir_client_for(who)
        assert str(masked.pk) in listed(api, camille), who
        assert read_and_retrieve(api, masked) == [200, 200], who
    api = fhir_client_for(podo_petit)  # authorised, the matrix allows the type, but masked
    assert str(masked.pk) not in listed(api, camille)
    assert read_and_retrieve(api, masked) == [404, 404]
    refused = Trace.objects.filter(outcome=TraceOutcome.REFUSED)
    assert {(r.actor_id, r.reason) for r in refused} == {
        (podo_petit.national_id, "document masqué aux professionnels")
    }


def test_a_blocked_professional(fhir_client_for, camille, ide_bernard, consultation):
    ProfessionalAccess.objects.filter(patient=camille, professional=ide_bernard).update(
        status=ProfessionalAccess.Status.BLOCKED
    )
    api = fhir_client_for(ide_bernard)
    response = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    assert response.status_code == 404
    assert read_and_retrieve(api, consultation) == [404, 404]
    reasons = set(
        Trace.objects.filter(outcome=TraceOutcome.REFUSED).values_list("reason", flat=True)
    )
    assert reasons == {"professionnel bloqué par l'usager"}


def test_break_glass_on_a_patient_who_opposed_it(fhir_client_for, camille, dr_durand, consultation):
    PrivacySettings.objects.filter(patient=camille).update(oppose_break_glass=True)
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Inconsciente")
    response = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    assert response.status_code == 404
    assert read_and_retrieve(api, consultation) == [404, 404]
    refused = Trace.objects.filter(outcome=TraceOutcome.REFUSED)
    assert {(r.action, r.access_mode, r.reason) for r in refused} == {
        (TraceAction.BREAK_GLASS, "bris_de_glace", "l'usager s'est opposé au bris de glace")
    }
    assert refused.count() == 3
    assert not camille.notifications.filter(code=Notification.Code.BREAK_GLASS).exists()


def test_break_glass_when_allowed_is_traced_and_told(
    fhir_client_for, camille, dr_durand, consultation
):
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Coma, SAU")
    assert listed(api, camille) == [str(consultation.pk)]
    assert api.get(f"/fhir/Binary/{consultation.pk}").status_code == 200
    rows = Trace.objects.filter(actor_id=dr_durand.national_id).order_by("pk")
    assert [(r.action, r.access_mode) for r in rows] == [
        (TraceAction.BREAK_GLASS, "bris_de_glace"),
        (TraceAction.CONSULT_DOSSIER, "bris_de_glace"),
        (TraceAction.DOWNLOAD_DOC, "bris_de_glace"),
    ]
    assert rows[0].justification == "Coma, SAU"
    assert camille.notifications.filter(code=Notification.Code.BREAK_GLASS).count() == 1


def test_centre_15(fhir_client_for, camille, regulateur_samu, consultation):
    api = fhir_client_for(regulateur_samu, mode=AccessMode.CENTRE_15)
    assert listed(api, camille) == [str(consultation.pk)]
    assert Trace.objects.filter(action=TraceAction.CONSULT_DOSSIER).get().access_mode == "centre_15"


def test_the_assurance_maladie_may_not_read(
    fhir_client_for, assurance_maladie_org, camille, consultation
):
    api = fhir_client_for(assurance_maladie_org)
    for response in (
        api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current"),
        api.post_form(
            "/fhir/DocumentReference/_search", {"patient": str(camille.pk), "status": "current"}
        ),
        api.get(f"/fhir/DocumentReference/{consultation.pk}"),
        api.get(f"/fhir/Binary/{consultation.pk}"),
    ):
        assert response.status_code == 403
        assert issue_codes(response) == ["forbidden"]
    # Refused at the door, before any dossier is reached: on record in the system chain, and
    # nothing on Camille's.
    attempts = Trace.objects.filter(chain="system", actor_kind="insurer")
    assert [t.outcome for t in attempts] == [TraceOutcome.REFUSED] * 4
    assert not Trace.objects.filter(patient_id=camille.pk, actor_kind="insurer").exists()


def test_a_token_without_the_scope(fhir_client_for, dr_martin, camille, consultation):
    from mes.fhir.core.access import SCOPE_DOCUMENT_READ, SCOPE_PATIENT_READ

    api = fhir_client_for(dr_martin, scopes=[SCOPE_PATIENT_READ, SCOPE_DOCUMENT_READ])
    assert api.get(f"/fhir/Binary/{consultation.pk}").status_code == 403
    assert api.delete(f"/fhir/DocumentReference/{consultation.pk}").status_code == 403
    assert api.get(f"/fhir/DocumentReference/{consultation.pk}").status_code == 200


def test_the_first_access_of_a_professional_is_told_to_the_patient(
    fhir_client_for, camille, podo_petit, consultation
):
    api = fhir_client_for(podo_petit)
    listed(api, camille)
    listed(api, camille)
    assert camille.notifications.filter(code=Notification.Code.PRO_ACCESS).count() == 1
