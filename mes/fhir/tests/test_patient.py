"""Patient: lookup by INS with the professional's standing (TD0.2), the emergency door, and the
professional's own authorisation (TD0.3)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from mes.access.actors import AccessMode
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit.history import HistoryTab, history_page
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_citizen
from mes.fhir.resources.metadata import EXT_DMP_STATUS
from mes.fhir.tests.conftest import (
    INS_NIA_SYSTEM,
    INS_NIR_SYSTEM,
    FhirApi,
    fhir_json,
    issue_codes,
)
from mes.lib.ins import with_key
from mes.notifications.models import Notification

pytestmark = pytest.mark.django_db


def search(api: FhirApi, system: str, value: str) -> Any:
    return api.get("/fhir/Patient", identifier=f"{system}|{value}")


def status_of(patient: dict[str, Any]) -> dict[str, Any]:
    (ext,) = [e for e in patient["extension"] if e["url"] == EXT_DMP_STATUS]
    return {
        part["url"]: next(v for k, v in part.items() if k.startswith("value"))
        for part in ext["extension"]
    }


def only_patient(response: Any) -> dict[str, Any]:
    bundle = fhir_json(response, "Bundle")
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    return bundle["entry"][0]["resource"]


# --- Search by INS ----------------------------------------------------------------------------


def test_the_medecin_traitant_finds_camille_by_ins(fhir_client_for, dr_martin, camille):
    response = search(fhir_client_for(dr_martin), INS_NIR_SYSTEM, camille.ins)
    assert response.status_code == 200
    patient = only_patient(response)
    assert patient["id"] == str(camille.pk)
    assert patient["identifier"][0] == {
        "use": "official",
        "type": {
            "coding": [
                {
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                    "code": "INS-NIR",
                }
            ]
        },
        "system": INS_NIR_SYSTEM,
        "value": camille.ins,
    }
    assert patient["name"][0] == {"use": "official", "family": "Lefèvre", "given": ["Camille"]}
    assert patient["gender"] == "female"
    assert patient["birthDate"] == "1985-05-14"
    assert status_of(patient) == {
        "dossier": "exists",
        "authorisation": "authorised",
        "treatingPhysician": True,
        "webAccessOpen": True,
    }
    row = Trace.objects.get(patient_id=camille.pk)
    assert row.action == TraceAction.SEARCH_PATIENT
    assert row.outcome == TraceOutcome.ALLOWED
    assert row.actor_id == dr_martin.national_id
    assert row.access_mode == "normal"


def test_the_search_shows_in_camilles_history(fhir_client_for, dr_martin, camille):
    search(fhir_client_for(dr_martin), INS_NIR_SYSTEM, camille.ins)
    page = history_page(
        patient_id=camille.pk, for_representative=False, tab=HistoryTab.PROFESSIONALS
    )
    (row,) = page.rows
    assert row.actor_name == "Dr Anne Martin"
    assert row.access_mode_label == "Accès normal"
    assert row.action_label == "Recherche du dossier par un professionnel"


def test_a_doctor_she_never_saw_learns_he_has_no_authorisation(fhir_client_for, dr_durand, camille):
    patient = only_patient(search(fhir_client_for(dr_durand), INS_NIR_SYSTEM, camille.ins))
    assert status_of(patient)["authorisation"] == "none"
    assert status_of(patient)["treatingPhysician"] is False


def test_a_blocked_professional_learns_it(fhir_client_for, ide_bernard, camille):
    ProfessionalAccess.objects.filter(professional=ide_bernard).update(
        status=ProfessionalAccess.Status.BLOCKED
    )
    patient = only_patient(search(fhir_client_for(ide_bernard), INS_NIR_SYSTEM, camille.ins))
    assert status_of(patient)["authorisation"] == "blocked"


def test_an_expired_authorisation_is_said_so(fhir_client_for, ide_bernard, camille):
    ProfessionalAccess.objects.filter(professional=ide_bernard).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    patient = only_patient(search(fhir_client_for(ide_bernard), INS_NIR_SYSTEM, camille.ins))
    assert status_of(patient)["authorisation"] == "expired"


def test_louis_has_no_web_access_of_his_own(fhir_client_for, dr_martin, louis):
    patient = only_patient(search(fhir_client_for(dr_martin), INS_NIR_SYSTEM, louis.ins))
    assert status_of(patient)["webAccessOpen"] is False


def test_search_by_nia(fhir_client_for, dr_martin):
    nia = make_citizen(
        None,
        first13="1990399123456",
        first_name="Amina",
        birth_name="Diallo",
        birth_date=date(1999, 3, 1),
        sex="F",
    )
    nia.ins_kind = "NIA"
    nia.save()
    api = fhir_client_for(dr_martin)
    patient = only_patient(search(api, INS_NIA_SYSTEM, nia.ins))
    assert patient["identifier"][0]["system"] == INS_NIA_SYSTEM
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "INS-NIA"
    # The same number announced as a NIR is not this person's identifier.
    empty = fhir_json(search(api, INS_NIR_SYSTEM, nia.ins), "Bundle")
    assert empty["total"] == 0


def test_nobody_with_this_ins_is_an_empty_bundle(fhir_client_for, dr_martin):
    response = search(fhir_client_for(dr_martin), INS_NIR_SYSTEM, with_key("1010175000111"))
    body = fhir_json(response, "Bundle")
    assert response.status_code == 200
    assert body["total"] == 0
    assert body.get("entry", []) == []
    assert not Trace.objects.exists()


@pytest.mark.parametrize(
    ("identifier", "status", "code"),
    [
        (f"{INS_NIR_SYSTEM}|285057505601299", 422, "processing"),  # wrong key
        (f"{INS_NIR_SYSTEM}|2850", 422, "processing"),
        ("urn:oid:1.2.250.1.71.4.2.1|10000000001", 422, "processing"),  # an RPPS, not an INS
        ("285057505601252", 422, "processing"),  # no system
    ],
)
def test_malformed_identifiers(fhir_client_for, dr_martin, camille, identifier, status, code):
    response = fhir_client_for(dr_martin).get("/fhir/Patient", identifier=identifier)
    assert response.status_code == status
    assert issue_codes(response) == [code]
    issue = fhir_json(response)["issue"][0]
    assert issue["expression"] == ["identifier"]
    assert not Trace.objects.exists()


def test_the_identifier_is_required(fhir_client_for, dr_martin):
    response = fhir_client_for(dr_martin).get("/fhir/Patient", family="Lefèvre")
    assert response.status_code == 400
    assert issue_codes(response) == ["required"]


# --- Read -------------------------------------------------------------------------------------


def test_read_by_id(fhir_client_for, dr_martin, camille):
    response = fhir_client_for(dr_martin).get(f"/fhir/Patient/{camille.pk}")
    assert response.status_code == 200
    patient = fhir_json(response, "Patient")
    assert patient["id"] == str(camille.pk)
    assert Trace.objects.get(patient_id=camille.pk).action == TraceAction.SEARCH_PATIENT


@pytest.mark.parametrize("patient_id", ["0b7e52f6-3c1a-4d2e-9f00-5a6b7c8d9e0f", "pas-un-uuid"])
def test_read_unknown_is_404(fhir_client_for, dr_martin, patient_id):
    response = fhir_client_for(dr_martin).get(f"/fhir/Patient/{patient_id}")
    assert response.status_code == 404
    assert issue_codes(response) == ["not-found"]


# --- The emergency door -----------------------------------------------------------------------

REASON = "Patiente inconsciente, prise en charge aux urgences"


def test_break_glass_opens_an_emergency_access_once(fhir_client_for, dr_durand, dr_martin, camille):
    dr_martin.email = "anne.martin@example.org"
    dr_martin.save()
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification=REASON)
    with time_machine.travel(timezone.now(), tick=False):
        response = api.get(f"/fhir/Patient/{camille.pk}")
    assert response.status_code == 200
    status = status_of(fhir_json(response, "Patient"))
    assert status["authorisation"] == "none"
    assert "emergencyAccessUntil" in status
    opened = Trace.objects.get(patient_id=camille.pk, action=TraceAction.BREAK_GLASS)
    assert opened.justification == REASON
    assert opened.access_mode == "bris_de_glace"
    assert Notification.objects.filter(profile=camille, code=Notification.Code.BREAK_GLASS).exists()
    # Go on with the same session: no second opening, no second notification.
    assert api.get(f"/fhir/Patient/{camille.pk}").status_code == 200
    assert Trace.objects.filter(patient_id=camille.pk, action=TraceAction.BREAK_GLASS).count() == 1
    searches = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.SEARCH_PATIENT)
    assert {t.access_mode for t in searches} == {"bris_de_glace"}


def test_break_glass_on_a_patient_who_opposed_it_is_404(fhir_client_for, dr_durand, camille):
    PrivacySettings.objects.filter(patient=camille).update(oppose_break_glass=True)
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification=REASON)
    refused = api.get(f"/fhir/Patient/{camille.pk}")
    unknown = api.get(f"/fhir/Patient/{uuid.uuid4()}")
    assert refused.status_code == unknown.status_code == 404
    assert refused.content == unknown.content
    row = Trace.objects.get(patient_id=camille.pk)
    assert row.action == TraceAction.BREAK_GLASS
    assert row.outcome == TraceOutcome.REFUSED
    assert row.access_mode == "bris_de_glace"
    assert not Notification.objects.filter(code=Notification.Code.BREAK_GLASS).exists()


def test_the_lookup_opens_no_emergency_access(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification=REASON)
    patient = only_patient(search(api, INS_NIR_SYSTEM, camille.ins))
    assert "emergencyAccessUntil" not in status_of(patient)
    row = Trace.objects.get(patient_id=camille.pk)
    assert (row.action, row.access_mode) == (TraceAction.SEARCH_PATIENT, "bris_de_glace")


def test_centre_15_is_for_the_samu_regulateur(fhir_client_for, regulateur_samu, dr_durand, camille):
    samu = fhir_client_for(regulateur_samu, mode=AccessMode.CENTRE_15)
    assert samu.get(f"/fhir/Patient/{camille.pk}").status_code == 200
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.CENTRE_15, outcome=TraceOutcome.ALLOWED
    ).exists()
    other = fhir_client_for(dr_durand, mode=AccessMode.CENTRE_15)
    assert other.get(f"/fhir/Patient/{camille.pk}").status_code == 404


def test_an_emergency_access_lasts_its_session(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(
        dr_durand,
        mode=AccessMode.BREAK_GLASS,
        justification=REASON,
        expires_in=timedelta(days=3),
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get(f"/fhir/Patient/{camille.pk}")
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        normal = api.with_mode(AccessMode.NORMAL)
        patient = only_patient(search(normal, INS_NIR_SYSTEM, camille.ins))
        assert "emergencyAccessUntil" not in status_of(patient)


# --- The professional's own authorisation (TD0.3) ---------------------------------------------


def parameters(**values: bool) -> dict[str, Any]:
    """A Parameters body; without values, no `parameter` at all (an empty array is not FHIR
    JSON, R4 §2.6.2)."""
    body: dict[str, Any] = {"resourceType": "Parameters"}
    if values:
        body["parameter"] = [{"name": k, "valueBoolean": v} for k, v in values.items()]
    return body


def test_dr_durand_declares_camilles_consent(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand)
    response = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", parameters())
    assert response.status_code == 200
    assert status_of(fhir_json(response, "Patient"))["authorisation"] == "authorised"
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.GRANT_PRO)
    assert row.actor_id == dr_durand.national_id
    assert row.access_mode == "normal"
    access = ProfessionalAccess.objects.get(patient=camille, professional=dr_durand)
    assert access.source == ProfessionalAccess.Source.DECLARED_BY_PROFESSIONAL


def test_an_empty_body_declares_consent_too(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand)
    response = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", "")
    assert response.status_code == 200


def test_a_doctor_declares_himself_medecin_traitant(fhir_client_for, dr_durand, dr_martin, camille):
    api = fhir_client_for(dr_durand)
    response = api.post(
        f"/fhir/Patient/{camille.pk}/$declarer-consentement", parameters(medecinTraitant=True)
    )
    assert response.status_code == 200
    assert status_of(fhir_json(response, "Patient"))["treatingPhysician"] is True
    assert not ProfessionalAccess.objects.get(professional=dr_martin).is_treating_physician
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.DECLARE_TREATING, actor_id=dr_durand.national_id
    ).exists()


def test_a_nurse_may_not_be_medecin_traitant(fhir_client_for, ide_bernard, camille):
    api = fhir_client_for(ide_bernard)
    response = api.post(
        f"/fhir/Patient/{camille.pk}/$declarer-consentement", parameters(medecinTraitant=True)
    )
    assert response.status_code == 403
    assert issue_codes(response) == ["forbidden"]
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.DECLARE_TREATING, outcome=TraceOutcome.REFUSED
    ).exists()


def test_a_blocked_professional_may_not_declare_consent(fhir_client_for, ide_bernard, camille):
    ProfessionalAccess.objects.filter(professional=ide_bernard).update(
        status=ProfessionalAccess.Status.BLOCKED
    )
    api = fhir_client_for(ide_bernard)
    response = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", parameters())
    assert response.status_code == 403
    assert issue_codes(response) == ["forbidden"]
    assert "bloqué" in fhir_json(response)["issue"][0]["diagnostics"]
    row = Trace.objects.get(patient_id=camille.pk)
    assert (row.action, row.outcome) == (TraceAction.GRANT_PRO, TraceOutcome.REFUSED)
    access = ProfessionalAccess.objects.get(professional=ide_bernard)
    assert access.status == ProfessionalAccess.Status.BLOCKED


def test_declaring_on_an_unknown_patient_is_404(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand)
    unknown = api.post(f"/fhir/Patient/{uuid.uuid4()}/$declarer-consentement", parameters())
    garbage = api.post("/fhir/Patient/xyz/$declarer-consentement", parameters())
    assert unknown.status_code == garbage.status_code == 404
    assert unknown.content == garbage.content
    assert issue_codes(unknown) == ["not-found"]


def test_no_consent_is_declared_in_an_emergency_mode(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification=REASON)
    response = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", parameters())
    assert response.status_code == 403
    assert not ProfessionalAccess.objects.filter(professional=dr_durand).exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{pas du json", 400, "structure"),
        ({"resourceType": "Patient"}, 400, "structure"),
        (
            {
                "resourceType": "Parameters",
                "parameter": [{"name": "medecinTraitant", "valueString": "oui"}],
            },
            422,
            "value",
        ),
    ],
)
def test_a_bad_parameters_body_changes_nothing(
    fhir_client_for, dr_durand, camille, body, status, code
):
    api = fhir_client_for(dr_durand)
    response = api.post(
        f"/fhir/Patient/{camille.pk}/$declarer-consentement",
        body if isinstance(body, str) else json.dumps(body),
    )
    assert response.status_code == status
    assert issue_codes(response) == [code]
    assert not ProfessionalAccess.objects.filter(professional=dr_durand).exists()
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_the_nurse_withdraws_her_authorisation(fhir_client_for, ide_bernard, camille):
    api = fhir_client_for(ide_bernard)
    response = api.post(f"/fhir/Patient/{camille.pk}/$retirer-consentement")
    assert response.status_code == 200
    assert status_of(fhir_json(response, "Patient"))["authorisation"] == "none"
    assert Trace.objects.get(patient_id=camille.pk).action == TraceAction.REVOKE_PRO


def test_withdrawing_what_one_does_not_hold_is_422(fhir_client_for, dr_durand, camille):
    response = fhir_client_for(dr_durand).post(f"/fhir/Patient/{camille.pk}/$retirer-consentement")
    assert response.status_code == 422
    assert issue_codes(response) == ["processing"]


def test_consent_operations_need_their_scope(fhir_client_for, dr_durand, camille):
    from mes.fhir.core.access import SCOPE_PATIENT_READ

    api = fhir_client_for(dr_durand, scopes=[SCOPE_PATIENT_READ])
    response = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement", parameters())
    assert response.status_code == 403
    assert not ProfessionalAccess.objects.filter(professional=dr_durand).exists()
    assert len(mail.outbox) == 0
