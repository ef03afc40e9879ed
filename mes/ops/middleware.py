"""One middleware for what every request owes the operators: an id, a log line, its metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import metrics
from .logging import request_id_var

logger = logging.getLogger("mes.requests")

# A caller's (or the reverse proxy's) id is kept only if it is a harmless token.
_INBOUND_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = "X-Request-ID"


def _request_id(request: HttpRequest) -> str:
    inbound = request.headers.get(REQUEST_ID_HEADER, "")
    return inbound if _INBOUND_ID.match(inbound) else uuid.uuid4().hex


def view_name(request: HttpRequest) -> str:
    """The route's name (« fhir:transaction »): paths are never logged, they carry ids."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else "-"


class RequestObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id(request)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            view = view_name(request)
            metrics.record(
                view=view,
                method=request.method or "-",
                status=response.status_code,
                seconds=seconds,
            )
            response[REQUEST_ID_HEADER] = request_id
            # The access line: route name, method, status and time; no path, no query, no user.
            logger.info(
                "%s %s %s %.1f ms", request.method, view, response.status_code, seconds * 1000
            )
        finally:
            request_id_var.reset(token)
        return response
