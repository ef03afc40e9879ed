"""Refusals are traced even though the work they interrupt is rolled back.

A policy that refuses raises `Refused` (a NotFound, so callers and views see "not found") with
the trace to write, built by `Refused.because(actor, action, patient_id, reason, ...)`: the one
place that shapes a refusal's trace and cuts its texts to the trace's columns. `@traced_action`
runs an action in a transaction; when a refusal escapes, the outermost decorated call writes the
refusal trace *after* the rollback, in a transaction of its own, so no refused attempt is ever
lost with the work it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar

from django.db import transaction

from mes.lib.errors import Forbidden, NotFound

from .models import Trace, TraceAction, TraceOutcome

if TYPE_CHECKING:
    import uuid

    from mes.access.actors import Actor

P = ParamSpec("P")
R = TypeVar("R")

_depth: ContextVar[int] = ContextVar("mes_traced_action_depth", default=0)


def _fit(column: str, text: str) -> str:
    """`text` cut to the trace column's length: a long reason or title (a service's name, a
    message's subject) must never make the refusal's own trace fail."""
    length = getattr(Trace._meta.get_field(column), "max_length", None)
    return text[:length] if length else text


def refusal_trace(
    actor: Actor,
    action: TraceAction,
    patient_id: uuid.UUID | None,
    reason: str,
    *,
    document_title: str = "",
    document_id: uuid.UUID | None = None,
    matrix_version: str = "",
    hidden_from_representatives: bool = False,
) -> dict[str, Any]:
    """The arguments of trace.record for a refused `action`: `reason` says why (for operators
    and the patient's history), `patient_id` is None when the patient or the object asked for
    is unknown (the system chain); the other fields as for an allowed access."""
    return {
        "actor": actor,
        "action": action,
        "outcome": TraceOutcome.REFUSED,
        "patient_id": patient_id,
        "document_id": document_id,
        "document_title": _fit("document_title", document_title),
        "matrix_version": _fit("matrix_version", matrix_version),
        "reason": _fit("reason", reason),
        "hidden_from_representatives": hidden_from_representatives,
    }


class Refused(NotFound):
    """A refusal that looks like « not found », its trace written by @traced_action."""

    def __init__(self, trace_kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.trace_kwargs = trace_kwargs

    @classmethod
    def because(
        cls,
        actor: Actor,
        action: TraceAction,
        patient_id: uuid.UUID | None,
        reason: str,
        *,
        document_title: str = "",
        document_id: uuid.UUID | None = None,
        matrix_version: str = "",
        hidden_from_representatives: bool = False,
    ) -> Self:
        """The refusal of `action` to `actor` on `patient_id` (None: unknown) for `reason`, with
        what the trace may say besides (refusal_trace)."""
        return cls(
            refusal_trace(
                actor,
                action,
                patient_id,
                reason,
                document_title=document_title,
                document_id=document_id,
                matrix_version=matrix_version,
                hidden_from_representatives=hidden_from_representatives,
            )
        )


class RefusedForbidden(Forbidden):
    """A refusal the actor may be told about (403), traced like Refused."""

    def __init__(self, message: str, trace_kwargs: dict[str, Any]) -> None:
        super().__init__(message)
        self.trace_kwargs = trace_kwargs

    @classmethod
    def because(
        cls,
        message: str,
        actor: Actor,
        action: TraceAction,
        patient_id: uuid.UUID | None,
        reason: str,
        *,
        document_title: str = "",
    ) -> Self:
        """Like Refused.because, with the `message` the actor is shown."""
        return cls(
            message,
            refusal_trace(actor, action, patient_id, reason, document_title=document_title),
        )


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
