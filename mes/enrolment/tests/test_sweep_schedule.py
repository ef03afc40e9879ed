"""The timers of the espace's life run by the worker: the task runs the sweep and plans the
next night's run (one planned at a time, like the trace's checkpoint); two sweeps at once do
each transition once; a transition no longer due is skipped, not a crash."""

from __future__ import annotations

from datetime import UTC, datetime, time

import psycopg
import pytest
import time_machine
from django.db import connection
from django.test import override_settings

from mes.access.actors import system_actor
from mes.enrolment import lifecycle, tasks
from mes.enrolment.models import Espace, EspaceEvent, EspaceState
from mes.enrolment.tests.test_lifecycle import T0, enrol

S = EspaceState
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}


@pytest.fixture
def due(db, settings):
    """Inès, notified at T0; her opposition window is over at T0 + 6 weeks."""
    ines = enrol()
    with time_machine.travel(T0, tick=False):
        lifecycle.espace_notify(actor=system_actor("test"), citizen_id=ines.pk)
    return ines


def after_window(settings):
    return time_machine.travel(T0 + settings.MES_ENROLMENT_OPPOSITION_WINDOW, tick=False)


def test_the_worker_task_runs_the_sweep_once(due, settings):
    with after_window(settings):
        result = tasks.sweep_timers.enqueue()  # the immediate backend of the tests
        assert result.return_value["created"] == 1
        assert tasks.sweep_timers.enqueue().return_value["created"] == 0  # nothing left due
    assert Espace.objects.get(pk=due.pk).state == S.CREATED
    assert EspaceEvent.objects.filter(espace_id=due.pk, to_state=S.CREATED).count() == 1
    # The immediate backend cannot run anything later: nothing planned, nothing loops.
    assert tasks.schedule_sweep() is False


@override_settings(TASKS=DB_TASKS, MES_ENROLMENT_SWEEP_AT=time(2, 30))
def test_the_worker_keeps_one_sweep_planned_for_the_night(db):
    from django_tasks_db.models import DBTaskResult

    # 7 December 2026, 10:00 in Paris (09:00 UTC): the next run is the 8th at 02:30, Paris.
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), tick=False):
        assert tasks.schedule_sweep() is True
        assert tasks.schedule_sweep() is False  # already planned: no pile of sweeps
    planned = DBTaskResult.objects.get()
    assert planned.task_path == tasks.sweep_timers.module_path
    assert planned.run_after == datetime(2026, 12, 8, 1, 30, tzinfo=UTC)


@override_settings(MES_ENROLMENT_SWEEP_AT=time(2, 30))
def test_the_next_run_is_the_next_sweep_time_strictly_after_now():
    # Paris is UTC+1 in winter, UTC+2 in summer.
    assert tasks.next_run(datetime(2026, 12, 7, 1, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 1, 30, tzinfo=UTC
    )
    assert tasks.next_run(datetime(2026, 12, 7, 1, 30, tzinfo=UTC)) == datetime(
        2026, 12, 8, 1, 30, tzinfo=UTC
    )
    assert tasks.next_run(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == datetime(
        2026, 7, 2, 0, 30, tzinfo=UTC
    )


def test_a_transition_no_longer_due_is_skipped(due, settings, monkeypatch):
    """Between the sweep's selection and its transition the person opposed (or another
    sweep got there): the transition re-checks under its lock, the sweep goes on."""
    original = lifecycle.espace_create

    def opposed_meanwhile(*, actor, espace):
        Espace.objects.filter(pk=espace.pk).update(state=S.OPPOSED)
        return original(actor=actor, espace=espace)

    monkeypatch.setattr(lifecycle, "espace_create", opposed_meanwhile)
    with after_window(settings):
        assert lifecycle.sweep().created == 0
    assert Espace.objects.get(pk=due.pk).state == S.OPPOSED


@pytest.mark.django_db(transaction=True)
def test_a_second_sweep_while_one_runs_does_nothing(settings):
    """Two workers: the second sweep finds the first one's lock and stands aside."""
    if connection.vendor != "postgresql":
        pytest.skip("the sweep's lock is PostgreSQL's (SQLite lets one writer in at a time)")
    ines = enrol()
    with time_machine.travel(T0, tick=False):
        lifecycle.espace_notify(actor=system_actor("test"), citizen_id=ines.pk)
    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [lifecycle._SWEEP_LOCK])
        with after_window(settings):
            report = lifecycle.sweep()
        assert report.skipped and report.created == 0
        assert Espace.objects.get(pk=ines.pk).state == S.NOTIFIED
        other.execute("SELECT pg_advisory_unlock(%s)", [lifecycle._SWEEP_LOCK])
        with after_window(settings):
            assert lifecycle.sweep().created == 1
    finally:
        other.close()
