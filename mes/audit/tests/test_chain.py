from __future__ import annotations

import pytest
from django.db import connection

from mes.audit import trace
from mes.audit.models import Trace, TraceAction


def _three_rows(actor, patient_id):
    for action in (TraceAction.LOGIN, TraceAction.CONSULT_DOSSIER, TraceAction.CONSULT_HISTORY):
        trace.record(actor=actor, action=action, patient_id=patient_id)


def test_chain_verifies_then_one_changed_byte_is_named(camille, camille_actor):
    _three_rows(camille_actor, camille.pk)
    assert trace.verify_chain(str(camille.pk)) is None
    second = Trace.objects.get(chain=str(camille.pk), seq=2)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_trace SET actor_name = %s WHERE id = %s", ["Camille Lefevre", second.pk]
        )
    broken = trace.verify_chain(str(camille.pk))
    assert broken is not None and broken.seq == 2 and broken.problem == "contenu modifié"


def test_deleted_row_is_detected(camille, camille_actor):
    _three_rows(camille_actor, camille.pk)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_trace WHERE chain = %s AND seq = 3", [str(camille.pk)])
    broken = trace.verify_chain(str(camille.pk))
    assert broken is not None and broken.problem == "fin de chaîne tronquée"


def test_rows_cannot_be_updated_or_deleted_through_the_orm(camille, camille_actor):
    row = trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=camille.pk)
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        Trace.objects.filter(pk=row.pk).delete()
    with pytest.raises(PermissionError):
        Trace.objects.filter(pk=row.pk).update(actor_name="x")
