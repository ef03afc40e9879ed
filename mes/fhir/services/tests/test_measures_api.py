"""The measures write flow of mes-spec §9.2 and the measures read, for a paired service."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.models import Consent, Service, ServiceDevice
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.fhir.services.tests_support import glucose_bundle
from mes.measures import profiles
from mes.measures.models import Measurement

pytestmark = pytest.mark.django_db

URL = "/fhir/services/"
SCOPES = "patient/Observation.cruds"


def _post(token: str, bundle: dict, url: str = URL) -> tuple[int, dict]:
    response = Client().post(
        url,
        data=json.dumps(bundle),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    return response.status_code, json.loads(response.content)


def _refused(patient, action: TraceAction, reason: str = "") -> bool:
    rows = Trace.objects.filter(patient_id=patient.pk, action=action, outcome=TraceOutcome.REFUSED)
    if reason:
        rows = rows.filter(reason__contains=reason)
    return rows.exists()


@pytest.fixture
def service() -> Service:
    return glucose_service()


def test_a_glucose_measure_and_its_device_are_stored_as_the_apps(service, camille):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    status, body = _post(raw, glucose_bundle(str(camille.pk), service_oid=service.oid))
    assert status == 200, body
    assert body["type"] == "transaction-response"
    obs, device = body["entry"]
    assert obs["response"]["status"] == "201 Created"
    assert device["response"]["status"] == "201 Created"
    m = Measurement.objects.get(patient=camille)
    assert obs["response"]["location"] == f"Observation/{m.pk}"
    assert m.source == Measurement.Source.APP
    assert m.author_label == service.name
    assert m.moment == "53049-3"
    assert m.device_identifier == f"urn:oid:{service.oid}.1|LIBRE-3-0042"
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.ADD_MEASURE)
    assert trace.actor_kind == "app" and trace.actor_name == service.name
    # The same device again: found (200), not created twice.
    status, body = _post(raw, glucose_bundle(str(camille.pk), service_oid=service.oid, value=130))
    assert status == 200
    assert body["entry"][1]["response"]["status"] == "200 OK"
    assert ServiceDevice.objects.count() == 1
    assert Measurement.objects.filter(patient=camille).count() == 2


def test_the_base_without_its_slash_is_the_transaction_too(service, camille):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    status, body = _post(
        raw, glucose_bundle(str(camille.pk), service_oid=service.oid), "/fhir/services"
    )
    assert status == 200, body
    assert Measurement.objects.filter(patient=camille).count() == 1


def test_the_app_reads_the_measures_it_may_read(service, camille):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    _post(raw, glucose_bundle(str(camille.pk), service_oid=service.oid))
    client = Client()
    found = client.get(
        "/fhir/services/Observation",
        {"code": f"{profiles.LOINC}|2339-0"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert found.status_code == 200
    bundle = json.loads(found.content)
    assert bundle["total"] == 1
    resource = bundle["entry"][0]["resource"]
    assert resource["subject"] == {"reference": f"Patient/{camille.pk}"}  # never the INS
    assert camille.ins not in found.content.decode()
    one = client.get(
        f"/fhir/services/Observation/{resource['id']}", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert one.status_code == 200
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.CONSULT_MEASURES, actor_kind="app"
    ).exists()


def test_an_invalid_token_is_401(service, camille):
    status, body = _post("pas-un-jeton", glucose_bundle(str(camille.pk), service_oid=service.oid))
    assert status == 401
    assert body["resourceType"] == "OperationOutcome"


def test_another_espace_is_403_idpe(service, camille, bob):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    status, body = _post(raw, glucose_bundle(str(bob.pk), service_oid=service.oid))
    assert status == 403
    assert body["issue"][0]["diagnostics"] == "idPe requested do not match authorized idPe"
    assert not Measurement.objects.exists()
    assert _refused(camille, TraceAction.ADD_MEASURE, "profil demandé différent")
    assert not Trace.objects.filter(patient_id=bob.pk).exists()


def test_a_purpose_not_consented_is_403_consent_not_given(service, camille):
    raw, _ = paired_token(pair(service, camille, purposes=["31"]), scopes=SCOPES)
    status, body = _post(raw, glucose_bundle(str(camille.pk), service_oid=service.oid))
    assert status == 403
    assert body["issue"][0]["diagnostics"] == "Consent not given, access refused."
    assert _refused(camille, TraceAction.ADD_MEASURE, "finalité non consentie")
    # A withdrawn consent stops the next call at once.
    pairing = pair(glucose_service(slug="autre", oid="1.2.250.1.999.2"), camille)
    raw2, _ = paired_token(pairing, scopes=SCOPES)
    Consent.objects.filter(pairing=pairing).delete()
    status, body = _post(raw2, glucose_bundle(str(camille.pk), service_oid="1.2.250.1.999.2"))
    assert status == 403 and body["issue"][0]["diagnostics"].startswith("Consent not given")


def test_a_suspended_service_exchanges_nothing(service, camille):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    Service.objects.filter(pk=service.pk).update(status=Service.Status.SUSPENDED)
    status, body = _post(raw, glucose_bundle(str(camille.pk), service_oid=service.oid))
    assert status == 403
    assert "suspendu" in body["issue"][0]["diagnostics"]
    assert not Measurement.objects.exists()
    assert _refused(camille, TraceAction.ADD_MEASURE, "service suspendu")


def test_an_oid_outside_the_editors_root_is_409(service, camille):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    status, body = _post(raw, glucose_bundle(str(camille.pk), service_oid="1.2.250.1.777"))
    assert status == 409
    assert body["issue"][0]["code"] == "conflict"
    bundle = glucose_bundle(str(camille.pk), service_oid=service.oid)
    bundle["entry"][0]["resource"]["meta"]["source"] = "urn:oid:1.2.250.1.777"
    assert _post(raw, bundle)[0] == 409
    assert not Measurement.objects.exists()


def test_every_problem_is_told_at_once_with_422(service, camille):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    bundle = glucose_bundle(str(camille.pk), service_oid=service.oid, moment=False)
    del bundle["entry"][0]["resource"]["valueQuantity"]
    bundle["entry"][1]["resource"]["meta"] = {}
    bundle["entry"][1]["request"]["ifNoneExist"] = "identifier=LIBRE"
    status, body = _post(raw, bundle)
    assert status == 422
    said = [i["diagnostics"] for i in body["issue"]]
    assert "Observation value quantity not provided" in said
    assert "Observation.extension.moment is mandatory" in said
    assert "Device must provide meta.profile value" in said
    assert any("ifNoneExist" in s for s in said)
    assert not Measurement.objects.exists() and not ServiceDevice.objects.exists()


def test_a_bmi_cannot_be_created(service, camille):
    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    bmi = profiles.BY_CODE["BODY_MASS_INDEX"]
    bundle = glucose_bundle(str(camille.pk), service_oid=service.oid, profile=bmi.profile_url)
    bundle["entry"][0]["resource"]["code"]["coding"][0]["code"] = bmi.loinc
    status, body = _post(raw, bundle)
    assert status == 422
    assert body["issue"][0]["diagnostics"].startswith("Bmi observation cannot be created")


def test_a_professionals_token_is_refused(service, camille, dr_martin):
    from mes.fhir.tests.conftest import issue_token, practice_software

    raw, _ = issue_token(practice_software().application, user=dr_martin.user)
    status, body = _post(raw, glucose_bundle(str(camille.pk), service_oid=service.oid))
    assert status == 403
    assert "réservée aux services du catalogue" in body["issue"][0]["diagnostics"]
    assert not Measurement.objects.exists()


def test_the_portal_says_which_app_added_the_measure(service, camille):
    from django.urls import reverse

    raw, _ = paired_token(pair(service, camille), scopes=SCOPES)
    assert _post(raw, glucose_bundle(str(camille.pk), service_oid=service.oid))[0] == 200
    portal = Client()
    portal.force_login(camille.user)
    page = portal.get(reverse("portal:measure", args=["GLUCOSE"]))
    assert page.status_code == 200
    assert f"Ajoutée par {service.name}" in page.content.decode()
