"""The FHIR API respects the espace's state (issue 14): an opposed espace never existed for
professionals (Patient search finds nobody), a closed one receives nothing."""

from __future__ import annotations

import pytest

from mes.access.actors import citizen_actor
from mes.enrolment import lifecycle
from mes.enrolment.models import Espace, EspaceState
from mes.fhir.tests.conftest import INS_NIR_SYSTEM, fhir_json
from mes.fhir.tests.test_patient import only_patient, search

pytestmark = pytest.mark.django_db


def test_an_opposed_espace_is_found_by_nobody(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    only_patient(search(api, INS_NIR_SYSTEM, camille.ins))
    Espace.objects.create(citizen=camille, state=EspaceState.OPPOSED, vitale_serial="12345678")
    bundle = fhir_json(search(api, INS_NIR_SYSTEM, camille.ins), "Bundle")
    assert bundle["total"] == 0


def test_a_closed_espace_is_found_by_nobody(fhir_client_for, dr_martin, camille):
    lifecycle.espace_close(actor=citizen_actor(camille), citizen=camille, channel="en ligne")
    bundle = fhir_json(search(fhir_client_for(dr_martin), INS_NIR_SYSTEM, camille.ins), "Bundle")
    assert bundle["total"] == 0


def test_a_closed_espace_receives_no_appointment(fhir_client_for, dr_martin, camille):
    from mes.agenda.models import Appointment
    from mes.audit.models import Trace, TraceAction, TraceOutcome
    from mes.fhir.tests.test_appointment import SCOPES, body

    api = fhir_client_for(dr_martin, scopes=SCOPES)
    lifecycle.espace_close(actor=citizen_actor(camille), citizen=camille, channel="en ligne")
    r = api.post("/fhir/Appointment", body(camille))
    assert r.status_code == 404 and not Appointment.objects.exists()
    refused = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
    assert (refused.action, refused.outcome) == (TraceAction.ADD_APPOINTMENT, TraceOutcome.REFUSED)


def test_an_opposed_espace_gets_no_appointment_either(fhir_client_for, dr_martin, camille):
    from mes.agenda.models import Appointment
    from mes.fhir.tests.test_appointment import SCOPES, body

    Espace.objects.create(citizen=camille, state=EspaceState.OPPOSED, vitale_serial="12345678")
    r = fhir_client_for(dr_martin, scopes=SCOPES).post("/fhir/Appointment", body(camille))
    assert r.status_code == 404 and not Appointment.objects.exists()


def test_iti67_answers_for_a_closed_espace_as_for_nobody(fhir_client_for, dr_martin, camille):
    """ITI-67 by INS: a closed espace's dossier is answered exactly as an INS nobody holds
    (same status, same body), and the refusal is traced on her chain."""
    from mes.audit.models import Trace, TraceOutcome
    from mes.conftest import make_pdf, pro
    from mes.lib.ins import with_key
    from mes.records import actions as records

    records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Compte rendu",
        type_code="11488-4",
    )
    api = fhir_client_for(dr_martin)

    def search_ins(ins):
        return api.get(
            "/fhir/DocumentReference",
            **{"patient.identifier": f"{INS_NIR_SYSTEM}|{ins}", "status": "current"},
        )

    assert fhir_json(search_ins(camille.ins), "Bundle")["total"] == 1
    lifecycle.espace_close(actor=citizen_actor(camille), citizen=camille, channel="en ligne")
    closed = search_ins(camille.ins)
    nobody = search_ins(with_key("2850575056999"))
    assert closed.status_code == nobody.status_code
    assert closed.json().get("total") == nobody.json().get("total")
    assert closed.json().get("resourceType") == nobody.json().get("resourceType")
    refused = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
    assert refused.outcome == TraceOutcome.REFUSED
