"""Probes and metrics for the operators' tools (load balancer, orchestrator, Prometheus).

/healthz says the process answers; /readyz says it can serve (database, blob storage and task
queue reachable), so a load balancer sends no traffic to an instance that would fail; /metrics
is for Prometheus and reveals counts only, to loopback or to the bearer of MES_METRICS_TOKEN.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mes.web.access import public_view

from . import metrics

logger = logging.getLogger("mes.ops")


@public_view
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _storage() -> None:
    """Write, read and delete a probe: a store that lists but cannot write is not ready."""
    vault = storages["vault"]
    name = vault.save(f"readyz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with vault.open(name) as f:
            if f.read() != b"ok":
                raise OSError("probe read back differently")
    finally:
        vault.delete(name)


def _queue() -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.only("pk").first()


CHECKS = {"database": _database, "storage": _storage, "queue": _queue}


@public_view
@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready", and says which part
            logger.warning("readyz: %s indisponible (%s)", name, type(exc).__name__)
            results[name] = "indisponible"
    ready = all(v == "ok" for v in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "indisponible", "checks": results},
        status=200 if ready else 503,
    )


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.MES_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@public_view
@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        # Like every refusal of the service: it looks like nothing is here.
        return HttpResponse("Introuvable.", status=404, content_type="text/plain; charset=utf-8")
    return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
