"""Background entry points over the messaging actions (thin: the rules live in the actions)."""

from __future__ import annotations

import uuid

from django_tasks import default_task_backend, task

from mes.access.actors import system_actor

from .models import Message

DELIVERY_ACTOR = "relais-mssante"


@task()
def deliver_message(message_id: str) -> str:
    """Send one citizen message through the relay; on a temporary failure, enqueue the next
    attempt after a doubling wait (at-least-once: an already sent message is left alone)."""
    from .actions import _enqueue_delivery, message_deliver, retry_at

    outcome = message_deliver(actor=system_actor(DELIVERY_ACTOR), message_id=uuid.UUID(message_id))
    if outcome == "retry" and default_task_backend.supports_defer:
        attempts = Message.objects.get(pk=message_id).delivery_attempts
        _enqueue_delivery(uuid.UUID(message_id), run_after=retry_at(attempts))
    return outcome
