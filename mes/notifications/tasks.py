"""Background entry points of the channels (thin: the work is in
mes.notifications.channels.dispatch and mes.notifications.channels.letters)."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from .channels.dispatch import dispatch_batch, enqueue_dispatch
from .channels.letters import print_letters


@task()
def dispatch_deliveries() -> int:
    """Send a batch of pending e-mails and SMS (planned after each commit that wrote some);
    when the batch was full and went out, plan the next one, so that the outbox is drained
    whatever its size (a national campaign writes millions of rows)."""
    done = dispatch_batch()
    if done.sent and done.claimed == settings.MES_DISPATCH_BATCH:
        enqueue_dispatch()
    return done.sent


@task()
def print_letter_batch() -> int:
    """Print the pending letters into one PDF batch; run it daily."""
    batch = print_letters()
    return batch.count if batch else 0
