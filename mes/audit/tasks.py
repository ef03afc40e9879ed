"""The scheduled checkpoint of the trace (mes.audit.checkpoints), run by `mes worker`."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import default_task_backend, task

from . import integrity

logger = logging.getLogger(__name__)


@task()
def write_checkpoint() -> dict[str, int]:
    """Publish a checkpoint, then plan the next one (MES_AUDIT_CHECKPOINT_INTERVAL)."""
    report = integrity.write_checkpoint()
    for link in report.broken:
        # Only the chain id (a patient's internal id) and the row number: no health data.
        logger.error(
            "Trace altérée, laissée hors du point de contrôle : %s n°%s : %s",
            link.chain,
            link.seq,
            link.problem,
        )
    schedule_next()
    return {"number": report.number, "chains": report.chains, "broken": len(report.broken)}


def schedule_next(*, after: timedelta | None = None) -> bool:
    """Plan one checkpoint after `after` (default: the interval), unless one is already planned.
    Needs a backend that runs tasks later (the database backend of `mes worker`, which calls
    this when it starts); says whether it planned one."""
    if not default_task_backend.supports_defer:
        return False
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    planned = DBTaskResult.objects.filter(
        task_path=write_checkpoint.module_path, status=TaskResultStatus.READY
    )
    if planned.exists():
        return False
    delay = settings.MES_AUDIT_CHECKPOINT_INTERVAL if after is None else after
    run_after = timezone.now() + delay
    write_checkpoint.using(run_after=run_after).enqueue()
    return True
