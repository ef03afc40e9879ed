"""Background entry points over the agenda (thin: the rules live in mes.agenda.reminders)."""

from __future__ import annotations

from django_tasks import task

from .reminders import reminders_sweep


@task()
def sweep_reminders() -> dict[str, int]:
    """Appointment and « bientôt dû » reminders; run it every hour (1-hour reminders)."""
    result = reminders_sweep()
    return {
        "appointments": result.appointments,
        "prevention": result.prevention,
        "people": result.people,
        "user": result.user,
    }


@task()
def run_campaign_batch(campaign_id: int) -> int:
    """Hand out the next slice of a prevention campaign (and plan the one after) until nobody
    is left; returns 1 when it handed one out."""
    from .campaigns import campaign_plan

    return 0 if campaign_plan(campaign_id=campaign_id) is None else 1


@task()
def run_campaign_slice(campaign_id: int, after: str, last: str) -> int:
    """Notify one slice of a campaign's audience (idempotent: safe to run twice)."""
    from .campaigns import campaign_slice

    return campaign_slice(campaign_id=campaign_id, after=after, last=last)


@task()
def send_user_reminder(reminder_id: str) -> bool:
    """A « Rappel » at its time: notified once (False: not due, deleted or already sent)."""
    import uuid

    from .reminders import user_reminder_due

    return user_reminder_due(reminder_id=uuid.UUID(reminder_id))
