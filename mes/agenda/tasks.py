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
    """One batch of a prevention campaign; enqueues the next batch until nobody is left."""
    from .campaigns import campaign_batch

    return campaign_batch(campaign_id=campaign_id)


@task()
def send_user_reminder(reminder_id: str) -> bool:
    """A « Rappel » at its time: notified once (False: not due, deleted or already sent)."""
    import uuid

    from .reminders import user_reminder_due

    return user_reminder_due(reminder_id=uuid.UUID(reminder_id))
