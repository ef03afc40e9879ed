"""« Histoire de santé » from the Web PS: read only, for the professions the matrix lets read the
reimbursement data, unless the patient masked it; traced either way."""

from __future__ import annotations

from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import TraceAction, TraceOutcome
from mes.reimbursements.actions import care_history_set_masked
from mes.reimbursements.tests.conftest import history as history

from .conftest import body, traces


def _url(patient):
    return reverse("pro:care_history", args=[patient.pk])


def test_the_medecin_traitant_reads_it(as_martin, camille, history):
    page = as_martin.get(_url(camille))
    assert page.status_code == 200
    assert "METFORMINE 1000 MG CPR" in body(page) and "Antidiabétiques" in body(page)
    assert "Histoire de santé" in body(page)
    assert traces(camille, TraceAction.CONSULT_CARE_HISTORY, outcome=TraceOutcome.ALLOWED)
    drugs = as_martin.get(_url(camille), {"categorie": "VACCIN"})
    assert "METFORMINE" not in body(drugs) and "VAXIGRIPTETRA" in body(drugs)


def test_an_unrelated_doctor_is_refused_and_traced(as_durand, camille, history):
    assert as_durand.get(_url(camille)).status_code == 404
    assert traces(camille, TraceAction.CONSULT_CARE_HISTORY, outcome=TraceOutcome.REFUSED)


def test_a_profession_outside_the_matrix_is_refused(as_podo, camille, history):
    assert as_podo.get(_url(camille)).status_code == 404


def test_masked_it_is_refused_to_an_authorised_nurse(as_bernard, camille, history):
    assert as_bernard.get(_url(camille)).status_code == 200
    care_history_set_masked(actor=citizen_actor(camille), patient_id=camille.pk, masked=True)
    assert as_bernard.get(_url(camille)).status_code == 404


def test_anonymous_and_patients_are_sent_away(client, camille, history):
    assert client.get(_url(camille)).status_code in (302, 404)
    client.force_login(camille.user)
    assert client.get(_url(camille)).status_code == 404
