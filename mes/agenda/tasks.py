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
    }


@task()
def run_campaign_batch(campaign_id: int) -> int:
    """One batch of a prevention campaign; enqueues the next batch until nobody is left."""
    from .campaigns import campaign_batch

    return campaign_batch(campaign_id=campaign_id)
