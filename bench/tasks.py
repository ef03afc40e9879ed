"""The task the queue benchmark enqueues by the thousand: it does nothing, so what is measured
is the queue itself (enqueue, claim with SKIP LOCKED, run, mark done)."""

from __future__ import annotations

from django_tasks import task


@task()
def nothing(n: int) -> int:
    """Return its argument: the cheapest task a worker can run."""
    return n
