"""Rows written before the trace had a key are sealed by migration 0008, unless their chain was
already broken; and the checkpoint is published on a schedule by the worker."""

from __future__ import annotations

import importlib
from typing import Any

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from mes.audit import integrity, tasks, trace
from mes.audit.models import Trace, TraceAction

migration = importlib.import_module("mes.audit.migrations.0009_trace_key_id")


def _make_legacy(chain: str) -> None:
    """Turn a chain into what an installation had before the key: unkeyed SHA-256 links."""
    prev = trace.GENESIS
    for row in Trace.objects.filter(chain=chain).order_by("seq"):
        row.key_id = ""
        row.prev_hash = prev
        row.hash = trace.legacy_row_hash(row, prev)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE audit_trace SET key_id = '', prev_hash = %s, hash = %s WHERE id = %s",
                [row.prev_hash, row.hash, row.pk],
            )
        prev = row.hash
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_chainhead SET hash = %s WHERE chain = %s", [prev, chain])


def _historical_apps() -> Any:
    loader = MigrationLoader(connection)
    return loader.project_state(("audit", "0009_trace_key_id")).apps


def test_the_migration_seals_intact_legacy_chains_and_leaves_broken_ones(
    camille, bob, camille_actor
):
    for patient in (camille, bob):
        for _ in range(3):
            trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=patient.pk)
        _make_legacy(str(patient.pk))
    tampered = Trace.objects.get(chain=str(bob.pk), seq=2)
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_trace SET actor_name = 'X' WHERE id = %s", [tampered.pk])
    assert {b.chain for b in integrity.verify_all()} == {str(camille.pk), str(bob.pk)}

    migration.seal_existing_rows(_historical_apps(), None)

    assert not Trace.objects.filter(chain=str(camille.pk), key_id="").exists()
    broken = list(integrity.verify_all())
    assert [(b.chain, b.seq) for b in broken] == [(str(bob.pk), 1)]
    assert "non scellée" in broken[0].problem


def test_the_scheduled_task_publishes_a_checkpoint(camille, camille_actor):
    trace.record(actor=camille_actor, action=TraceAction.LOGIN, patient_id=camille.pk)
    result = tasks.write_checkpoint.enqueue()  # the immediate backend of the tests
    assert result.return_value == {"number": 1, "chains": 1, "broken": 0}
    assert integrity.checkpoints.read_state().chains[str(camille.pk)].seq == 1
    # The immediate backend cannot run anything later: nothing is planned, nothing loops.
    assert tasks.schedule_next() is False


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}})
def test_the_worker_keeps_one_checkpoint_planned(db):
    from django_tasks_db.models import DBTaskResult

    assert tasks.schedule_next() is True
    assert tasks.schedule_next() is False  # already planned: no pile of checkpoints
    planned = DBTaskResult.objects.get()
    assert planned.task_path == tasks.write_checkpoint.module_path
    assert planned.run_after > planned.enqueued_at
