"""SQL statements per request, for the benchmark's report (config.bench only).

A request carrying `X-Bench-Count-Queries: 1` gets back `X-Bench-Queries: <n>`, the number of
statements its handling sent to the database (savepoints, BEGIN-less autocommit statements and
all). Other requests are left alone, so the timed series pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse

REQUEST_HEADER = "X-Bench-Count-Queries"
RESPONSE_HEADER = "X-Bench-Queries"


class QueryCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get(REQUEST_HEADER) != "1":
            return self.get_response(request)
        count = 0

        def counted(
            execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
        ) -> Any:
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response[RESPONSE_HEADER] = str(count)
        return response
