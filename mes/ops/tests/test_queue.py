"""The task queue keeps its promises (issue 16 §4): a task abandoned by a dead worker is handed
out again (at-least-once), and two real `mes worker` processes on PostgreSQL share a campaign's
slices through SKIP LOCKED, each slice run whole, nobody notified twice even when a slice is
handed out twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from mes.agenda.models import Campaign
from mes.agenda.tasks import run_campaign_slice
from mes.conftest import make_citizen
from mes.notifications.models import Delivery, Notification
from mes.ops.queue import enqueue_once, requeue_stale

MES = str(Path(sys.executable).with_name("mes"))
QUEUE = DatabaseBackend("default", {})  # what `mes worker` reads, whatever the test settings


def seniors(count: int) -> list:
    return [
        make_citizen(
            f"senior{n}",
            first13=f"1500175056{n:03d}",
            first_name=f"Senior{n}",
            birth_name="Martin",
            birth_date=date(1950, 1, 1),
            sex="M",
            email=f"s{n}@example.org",
        )
        for n in range(count)
    ]


def flu() -> Campaign:
    return Campaign.objects.create(
        title="Grippe 2026",
        label="La campagne de vaccination contre la grippe est ouverte",
        reason="vous avez 65 ans ou plus",
        code=Campaign.Code.VACCINATION,
        age_min=65,
        started_on=date(2026, 12, 7),
    )


def test_a_task_left_running_by_a_dead_worker_is_handed_out_again(db):
    c = flu()
    dead = QUEUE.enqueue(run_campaign_slice, (c.pk, "", "ffffffff-ffff-ffff-ffff-ffffffffffff"), {})
    alive = QUEUE.enqueue(
        run_campaign_slice, (c.pk, "", "00000000-0000-0000-0000-000000000001"), {}
    )
    long_ago = timezone.now() - timedelta(hours=1)
    DBTaskResult.objects.filter(pk=dead.id).update(
        status=TaskResultStatus.RUNNING, started_at=long_ago
    )
    DBTaskResult.objects.filter(pk=alive.id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now()
    )
    assert requeue_stale(older_than=timedelta(minutes=15)) == 1
    assert DBTaskResult.objects.get(pk=dead.id).status == TaskResultStatus.READY
    # A task still within its time is its worker's: never handed out twice at once.
    assert DBTaskResult.objects.get(pk=alive.id).status == TaskResultStatus.RUNNING


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}})
def test_a_task_already_waiting_is_not_enqueued_twice(db):
    from mes.notifications.tasks import dispatch_deliveries

    assert enqueue_once(dispatch_deliveries)
    assert not enqueue_once(dispatch_deliveries)  # the one waiting will read the outbox
    waiting = DBTaskResult.objects.filter(task_path=dispatch_deliveries.module_path)
    assert waiting.count() == 1
    # Once a worker took it, rows committed after may come after its read: a new one.
    waiting.update(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    assert enqueue_once(dispatch_deliveries)
    assert waiting.count() == 2


def _worker_env() -> dict[str, str]:
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MES_", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.base",
            "DATABASE_URL": url,
            "MES_DEBUG": "1",
            "MES_LOG_LEVEL": "WARNING",
            "MES_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            # One key for both workers (a debug run would have each generate its own file).
            "MES_OIDC_RSA_PRIVATE_KEY": _rsa_pem(),
        }
    )
    return env


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _backends_polling() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return int(cur.fetchone()[0])


@contextmanager
def _campaign_row_locked(campaign_id: int) -> Iterator[Callable[[], None]]:
    """The campaign's row locked FOR UPDATE by another connection (a thread's) until the
    returned function is called (or the block ends)."""
    locked, released = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Campaign.objects.select_for_update().get(pk=campaign_id)
                locked.set()
                released.wait(timeout=120)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        yield released.set
    finally:
        released.set()
        holder.join(timeout=30)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_a_campaign_and_nobody_is_told_twice(tmp_path):
    people = seniors(24)
    c = flu()
    ids = sorted(str(p.pk) for p in people)
    slices = [("" if i == 0 else ids[i - 1], ids[i + 1]) for i in range(0, 24, 2)]
    env = {**_worker_env(), "MES_VAR_DIR": str(tmp_path)}
    log = tmp_path / "workers.log"
    workers = []
    with log.open("ab") as out:
        for _ in range(2):
            workers.append(
                subprocess.Popen(
                    [MES, "worker", "--interval", "0.05", "--no-reload"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    try:
        deadline = time.monotonic() + 120
        while _backends_polling() < 2:  # both workers connected and polling
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(2)  # past the worker's random start-up delay (at most 1 s)
        # A slice takes a few milliseconds: one worker could drain them all before the other
        # polls. The campaign's row is held locked (each slice counts what it sent on it) until
        # both workers are inside a slice, so that both provably take part.
        with _campaign_row_locked(c.pk) as release:
            # Every slice twice, as if each had been handed out again after a worker's death;
            # all committed at once so that both workers find work waiting.
            with transaction.atomic():
                results = [
                    QUEUE.enqueue(run_campaign_slice, (c.pk, after, last), {})
                    for after, last in slices * 2
                ]
            rows = DBTaskResult.objects.filter(pk__in=[r.id for r in results])
            while rows.filter(status=TaskResultStatus.RUNNING).count() < 2:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            release()
        while rows.exclude(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
    assert not rows.filter(status=TaskResultStatus.FAILED).exists(), log.read_text()
    assert len({tuple(r.worker_ids) for r in rows}) == 2, log.read_text()  # both took slices
    notified = Notification.objects.filter(code=Notification.Code.VACCINATION_DUE)
    assert sorted(str(n.profile_id) for n in notified) == ids
    mails = Delivery.objects.filter(key__startswith=f"camp:{c.pk}:")
    assert sorted(str(d.recipient_id) for d in mails) == ids
    assert sum(r.return_value for r in rows) == 24
    c.refresh_from_db()
    assert c.sent == 24
