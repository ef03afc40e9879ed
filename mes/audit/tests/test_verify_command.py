import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from mes.audit import trace
from mes.audit.models import Trace, TraceAction


def test_verify_command_names_the_first_altered_row(camille, camille_actor, capsys):
    for _ in range(3):
        trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=camille.pk)
    call_command("audit", "verify")
    assert "aucune altération" in capsys.readouterr().out
    row = Trace.objects.get(chain=str(camille.pk), seq=2)
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_trace SET action = 'CONSULT_DOC' WHERE id = %s", [row.pk])
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    assert f"ligne n°2 (id {row.pk})" in capsys.readouterr().err
