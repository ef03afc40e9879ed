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
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypedDict, TypeVar, Unpack

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


class RefusalDetails(TypedDict, total=False):
    """What a refusal's trace may say besides who, what, whose and why (trace.record's fields)."""

    document_title: str  # the document, rubric, measure, service... asked for
    document_id: uuid.UUID | None
    matrix_version: str  # the habilitation matrix that decided
    hidden_from_representatives: bool


def refusal_trace(
    actor: Actor,
    action: TraceAction,
    patient_id: uuid.UUID | None,
    reason: str,
    **details: Unpack[RefusalDetails],
) -> dict[str, Any]:
    """The arguments of trace.record for a refused `action`: `reason` says why (for operators
    and the patient's history), `patient_id` is None when the patient or the object asked for
    is unknown (the system chain); the details as for an allowed access."""
    return {
        "actor": actor,
        "action": action,
        "outcome": TraceOutcome.REFUSED,
        "patient_id": patient_id,
        "document_id": details.get("document_id"),
        "document_title": _fit("document_title", details.get("document_title", "")),
        "matrix_version": _fit("matrix_version", details.get("matrix_version", "")),
        "reason": _fit("reason", reason),
        "hidden_from_representatives": details.get("hidden_from_representatives", False),
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
        **details: Unpack[RefusalDetails],
    ) -> Self:
        """The refusal of `action` to `actor` on `patient_id` (None: unknown) for `reason`."""
        return cls(refusal_trace(actor, action, patient_id, reason, **details))


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
        **details: Unpack[RefusalDetails],
    ) -> Self:
        """Like Refused.because, with the `message` the actor is shown."""
        return cls(message, refusal_trace(actor, action, patient_id, reason, **details))


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
