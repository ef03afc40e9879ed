"""Prometheus metrics (issue 16 §5): requests per view with their latency, refusals, deposits,
and the task queue's depth and age.

Labels are the view's route name and the status class, never a path (a path can carry an id)
and never anything about a person. Under gunicorn each worker is a process: when
PROMETHEUS_MULTIPROC_DIR is set (`mes serve` sets it, one fresh folder per instance), the
counters live in shared files and /metrics aggregates every worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from django.db.models import Min
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

REQUESTS = Counter(
    "mes_http_requests_total",
    "HTTP requests answered, by view and status class.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "mes_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# A refusal is a 401, 403 or 404 answered by a view that exists: the access decision at work.
REFUSALS = Counter("mes_refusals_total", "Requests refused (401, 403, 404), by view.", ["view"])
DEPOSITS = Counter(
    "mes_deposits_total",
    "Document deposits (ITI-65, Web PS, portal upload), by outcome.",
    ["view", "outcome"],
)
DEPOSIT_VIEWS = frozenset(
    {"fhir:transaction", "pro:document_deposit", "portal:document_add"},
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class TaskQueueCollector(Collector):
    """The queue as the database sees it at scrape time: one indexed count and one min()."""

    def collect(self) -> Iterator[Metric]:
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        depth = GaugeMetricFamily("mes_task_queue_depth", "Tasks waiting to run.", labels=[])
        age = GaugeMetricFamily(
            "mes_task_queue_oldest_age_seconds", "Age of the oldest waiting task.", labels=[]
        )
        oldest: datetime | None = ready.aggregate(m=Min("enqueued_at"))["m"]
        depth.add_metric([], ready.count())
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield depth
        yield age


def record(*, view: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(view=view, method=method, status=f"{status // 100}xx").inc()
    LATENCY.labels(view=view).observe(seconds)
    if status in (401, 403, 404) and view != "-":
        REFUSALS.labels(view=view).inc()
    if view in DEPOSIT_VIEWS and method == "POST":
        DEPOSITS.labels(view=view, outcome="accepted" if status < 400 else "refused").inc()


def exposition() -> bytes:
    """Every worker's counters (multiprocess mode) or this process's, plus the queue."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    queue = CollectorRegistry()
    queue.register(TaskQueueCollector())
    return generate_latest(registry) + generate_latest(queue)
