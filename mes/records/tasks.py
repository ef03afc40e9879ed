"""Background entry points over the records actions (thin: the rules live in the actions)."""

from __future__ import annotations

from django_tasks import task

from mes.access.actors import system_actor

from .timers import SWEEP_ACTOR_NAME, hidden_documents_sweep


@task()
def sweep_hidden_documents() -> dict[str, int]:
    """R1111-53 reminders and automatic releases; run it daily (or more often)."""
    result = hidden_documents_sweep(actor=system_actor(SWEEP_ACTOR_NAME))
    return {"alerted": result.alerted, "released": result.released}
