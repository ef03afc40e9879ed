"""The daily timers of the espace's life (lifecycle.sweep), run by `mes worker`: the task
plans its own next run at MES_ENROLMENT_SWEEP_AT, as the trace's checkpoint does
(mes.audit.tasks), and `mes worker` plans the first one when it starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import default_task_backend, task

from . import lifecycle


@task()
def sweep_timers() -> dict[str, int]:
    """Every due timer once (opposition window → creation, suspension → closure, archive or
    express deletion → purge, 18th birthdays), the majority letters as one PDF; then plan
    the next day's run. Safe with two workers: lifecycle.sweep lets one sweep in at a time
    and each transition re-checks the state under its row lock."""
    report = lifecycle.sweep()
    if report.letters:
        lifecycle.write_letters(report.letters, prefix="majorite")
    schedule_sweep()
    return {
        "created": report.created,
        "closed": report.closed,
        "purged": report.purged,
        "majorities": report.majorities,
        "skipped": int(report.skipped),
    }


def next_run(now: datetime | None = None) -> datetime:
    """The next MES_ENROLMENT_SWEEP_AT (local time) strictly after now."""
    local = timezone.localtime(now or timezone.now())
    at = local.replace(
        hour=settings.MES_ENROLMENT_SWEEP_AT.hour,
        minute=settings.MES_ENROLMENT_SWEEP_AT.minute,
        second=0,
        microsecond=0,
    )
    return at if at > local else at + timedelta(days=1)


def schedule_sweep(*, at: datetime | None = None) -> bool:
    """Plan one sweep (at the next MES_ENROLMENT_SWEEP_AT unless `at`), unless one is already
    planned. Needs a backend that runs tasks later (the database one of `mes worker`); says
    whether it planned one."""
    if not default_task_backend.supports_defer:
        return False
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    planned = DBTaskResult.objects.filter(
        task_path=sweep_timers.module_path, status=TaskResultStatus.READY
    )
    if planned.exists():
        return False
    sweep_timers.using(run_after=at or next_run()).enqueue()
    return True
