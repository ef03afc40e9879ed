"""The task queue's at-least-once guarantee (issue 16 §4).

The database backend of django-tasks claims a task with `SELECT … FOR UPDATE SKIP LOCKED` and
marks it RUNNING; if its worker then dies (kill -9, a lost machine), the row stays RUNNING and
nobody would ever run it. `requeue_stale` hands such tasks out again once they have been
running for longer than any task may (`MES_TASK_STALE_AFTER`), which is safe because the
background work is idempotent (campaign slices, reminders and the outbox have unique keys).
`mes worker` calls it when it starts; `sweep_stale_tasks` then runs it periodically.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import default_task_backend, task
from django_tasks.base import Task

logger = logging.getLogger(__name__)


def requeue_stale(*, older_than: timedelta | None = None) -> int:
    """Put back to READY every task claimed longer than `older_than` ago (default
    MES_TASK_STALE_AFTER) and not finished; returns how many."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    limit = settings.MES_TASK_STALE_AFTER if older_than is None else older_than
    count = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=timezone.now() - limit
    ).update(status=TaskResultStatus.READY, started_at=None)
    if count:
        logger.warning("%d tâche(s) abandonnée(s) par un worker remise(s) en file", count)
    return count


@task()
def sweep_stale_tasks() -> int:
    """Requeue abandoned tasks, then plan the next sweep (a third of MES_TASK_STALE_AFTER)."""
    count = requeue_stale()
    schedule_sweep()
    return count


def enqueue_once(task: Task[[], Any]) -> bool:
    """Enqueue `task` (without arguments) unless one is already waiting to run: a task that
    reads its work from the database when it runs needs no twin in the queue. Backends that run
    tasks at once (tests) always run it. Returns whether it was enqueued."""
    if default_task_backend.supports_defer:
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=task.module_path, status=TaskResultStatus.READY
        )
        if waiting.exists():
            return False
    task.enqueue()
    return True


def schedule_sweep(*, after: timedelta | None = None) -> bool:
    """Plan one sweep unless one is already planned (a backend that runs tasks later only)."""
    if not default_task_backend.supports_defer:
        return False
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    planned = DBTaskResult.objects.filter(
        task_path=sweep_stale_tasks.module_path, status=TaskResultStatus.READY
    )
    if planned.exists():
        return False
    delay = settings.MES_TASK_STALE_AFTER / 3 if after is None else after
    sweep_stale_tasks.using(run_after=timezone.now() + delay).enqueue()
    return True
