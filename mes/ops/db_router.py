"""Read-only work on a replica, with read-your-writes (issue 16 item 2).

Two aliases: `default`, the primary (PgBouncer's `mes`, which follows Patroni's leader), and,
when DATABASE_REPLICA_URL is set, `replica` (a streaming standby). Without a replica the router
answers None everywhere and Django uses `default`, exactly as before.

A read goes to the replica only when all of these hold:

- the work marked itself as tolerating replica lag (`with replica_reads():` around the reads,
  or `@reads_from_replica` on a view); nothing is sent there by default;
- the model is one whose lagging copy is harmless (MES_DB_REPLICA_MODELS: traces, documents'
  metadata, messages, notifications...). Access rules, consents, sessions, OAuth tokens and
  users are always read on the primary: a revoked access or a token just issued must be seen
  at once, and a stale copy must never grant anything;
- the unit of work (the request, or a task wrapped in `unit_of_work()`) has not written yet:
  once it wrote, its later reads go to the primary (read-your-writes). Writes to
  MES_DB_ROUTER_UNREAD_WRITES (the audit trace of the consultation itself) do not count;
- no transaction is open on the primary (reads inside it belong to it);
- the request does not carry the sticky cookie: a response to a request that wrote sets it for
  MES_DB_REPLICA_STICKY_SECONDS, so that the page shown after a form's redirect reads the
  primary too, whatever the replica's lag.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

PRIMARY = "default"
REPLICA = "replica"
STICKY_COOKIE = "mes_primaire"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Scope:
    """One unit of work: a request or a task."""

    wrote: bool = False  # wrote during this unit of work
    sticky: bool = False  # wrote a moment ago (the sticky cookie)
    replica_ok: bool = False


_scope: ContextVar[Scope | None] = ContextVar("mes_db_scope", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def current_scope() -> Scope | None:
    return _scope.get()


@contextlib.contextmanager
def unit_of_work(*, sticky: bool = False) -> Iterator[Scope]:
    """A request or a task: its writes send its later reads to the primary."""
    scope = Scope(sticky=sticky)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def replica_reads() -> Iterator[Scope]:
    """Mark reads that tolerate replica lag (lists, searches, history pages)."""
    outer = _scope.get()
    if outer is None:
        with unit_of_work() as scope, replica_reads():
            yield scope
        return
    before = outer.replica_ok
    outer.replica_ok = True
    try:
        yield outer
    finally:
        outer.replica_ok = before


def reads_from_replica(view: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of replica_reads() for a read-only view."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


def _label(model: type[Model]) -> str:
    return str(model._meta.label)


class PrimaryReplicaRouter:
    """Django database router; see the module's docstring for the rules."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if not replica_configured():
            return None
        scope = _scope.get()
        if (
            scope is None
            or not scope.replica_ok
            or scope.wrote
            or scope.sticky
            or _label(model) not in settings.MES_DB_REPLICA_MODELS
            or connections[PRIMARY].in_atomic_block
        ):
            return PRIMARY
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        scope = _scope.get()
        if scope is not None and _label(model) not in settings.MES_DB_ROUTER_UNREAD_WRITES:
            scope.wrote = True
        return PRIMARY if replica_configured() else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != REPLICA


class ReadYourWritesMiddleware:
    """Each request is a unit of work; one that wrote sends the next few to the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sticky = bool(request.COOKIES.get(STICKY_COOKIE))
        with unit_of_work(sticky=sticky) as scope:
            response = self.get_response(request)
        if scope.wrote and replica_configured():
            response.set_cookie(
                STICKY_COOKIE,
                "1",
                max_age=settings.MES_DB_REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
