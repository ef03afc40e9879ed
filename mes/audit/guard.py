"""Refusals are traced even though the work they interrupt is rolled back.

A policy that refuses raises `Refused` (a NotFound, so callers and views see "not found") with
the trace to write. `@traced_action` runs an action in a transaction; when a refusal escapes,
the outermost decorated call writes the refusal trace *after* the rollback, in a transaction of
its own, so no refused attempt is ever lost with the work it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.db import transaction

from mes.lib.errors import Forbidden, NotFound

P = ParamSpec("P")
R = TypeVar("R")

_depth: ContextVar[int] = ContextVar("mes_traced_action_depth", default=0)


class Refused(NotFound):
    def __init__(self, trace_kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.trace_kwargs = trace_kwargs


class RefusedForbidden(Forbidden):
    """A refusal the actor may be told about (403), traced like Refused."""

    def __init__(self, message: str, trace_kwargs: dict[str, Any]) -> None:
        super().__init__(message)
        self.trace_kwargs = trace_kwargs


def traced_action(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _depth.set(_depth.get() + 1)
        try:
            with transaction.atomic():
                return fn(*args, **kwargs)
        except (Refused, RefusedForbidden) as refused:
            if _depth.get() == 1:
                from . import trace

                with transaction.atomic():
                    trace.record(**refused.trace_kwargs)
            raise
        finally:
            _depth.reset(token)

    return wrapper
