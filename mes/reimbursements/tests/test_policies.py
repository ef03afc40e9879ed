"""Who reads Camille's care history: she and her representatives and aidants, professionals the
matrix lets read reimbursement data unless she masked it, never the Assurance Maladie."""

from __future__ import annotations

import pytest

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import authorise, pro
from mes.lib.errors import NotFound
from mes.reimbursements.actions import care_history_set_masked
from mes.reimbursements.policies import access_care_history, care_history_readable

CONSULT = TraceAction.CONSULT_CARE_HISTORY


def _refused(patient):
    return Trace.objects.filter(patient_id=patient.pk, action=CONSULT, outcome=TraceOutcome.REFUSED)


def test_the_holder_reads_and_it_is_traced(camille, history):
    access_care_history(citizen_actor(camille), camille.pk, trace_action=CONSULT)
    assert Trace.objects.get(patient_id=camille.pk, action=CONSULT).outcome == TraceOutcome.ALLOWED


def test_the_insurer_writes_but_never_reads(camille, history, assurance_maladie):
    with pytest.raises(NotFound):
        access_care_history(assurance_maladie, camille.pk, trace_action=CONSULT)
    assert "ne la lit pas" in _refused(camille).get().reason
    assert not care_history_readable(assurance_maladie, camille)


def test_an_authorised_doctor_reads_an_unrelated_one_does_not(
    camille, history, dr_martin, dr_durand
):
    access_care_history(pro(dr_martin), camille.pk, trace_action=CONSULT)
    with pytest.raises(NotFound):
        access_care_history(pro(dr_durand), camille.pk, trace_action=CONSULT)
    assert _refused(camille).count() == 1


def test_the_matrix_decides_for_each_profession(camille, history, ide_bernard, podo_petit):
    # Nurses (60) read reimbursement data (class 60 of the matrix); podiatrists do not.
    assert care_history_readable(pro(ide_bernard), camille)
    assert not care_history_readable(pro(podo_petit), camille)
    with pytest.raises(NotFound):
        access_care_history(pro(podo_petit), camille.pk, trace_action=CONSULT)
    assert "matrice" in _refused(camille).get().reason


def test_masked_from_professionals_except_the_medecin_traitant(
    camille, history, dr_martin, cabinet
):
    from mes.conftest import make_professional

    other = make_professional("10009999999", "Jules", "Autre", "10", "SM54", cabinet)
    authorise(camille, other)
    care_history_set_masked(actor=citizen_actor(camille), patient_id=camille.pk, masked=True)
    assert not care_history_readable(pro(other), camille)
    assert care_history_readable(pro(dr_martin), camille)  # the médecin traitant
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.CARE_HISTORY_PRIVACY
    ).exists()


def test_another_patient_reads_nothing(camille, history, bob):
    with pytest.raises(NotFound):
        access_care_history(citizen_actor(bob), camille.pk, trace_action=CONSULT)
    with pytest.raises(NotFound):
        care_history_set_masked(actor=citizen_actor(bob), patient_id=camille.pk, masked=True)


def test_a_parent_reads_the_childs_history(camille, louis):
    access_care_history(citizen_actor(camille), louis.pk, trace_action=CONSULT)
