"""Background entry points of the channels (thin: the work is in mes.notifications.channels)."""

from __future__ import annotations

from django_tasks import task

from .channels import dispatch_pending, print_letters


@task()
def dispatch_deliveries() -> int:
    """Send the pending e-mails and SMS (enqueued after each commit that wrote some)."""
    return dispatch_pending()


@task()
def print_letter_batch() -> int:
    """Print the pending letters into one PDF batch; run it daily."""
    batch = print_letters()
    return batch.count if batch else 0
