"""Querysets compiled to SQL once per process, then run with new values (issue 12 §6).

Django builds and compiles a queryset's SQL on every evaluation; on the API's hot path
(ITI-67: the dossier's facts, the page of documents) that compilation costs more than the
database's own work. `Prepared` compiles a queryset once per *shape* (what the caller says
decides the SQL: which filters, which standing, which order) and, for the next requests of the
same shape, binds the new values into the same SQL and builds the same model instances from
the rows (select_related and annotations included) as Django's ModelIterable does.

The queryset is always the ORM's: the rule that builds it stays where it is (the access
decision's document filter, the search's parameters); nothing here rewrites a condition.

How values are found in the compiled parameters, without trusting the caller's shape key:
the queryset is built and compiled twice, with two sets of random stand-in values (a UUID for
a UUID, an aware datetime for a datetime, a string for a string...). The two SQL texts must be
identical; each parameter that is the same in both is a constant of the shape; each one that
differs must be, in both compilations, the database's form of the same named stand-in (the
value itself, a UUID's hex on SQLite, a datetime adapted by the backend). Anything else (a
value derived from a stand-in, such as `now - 30 days`) makes the shape uncacheable: it is then
run by the ORM every time, exactly as before. A stale constant can therefore never be reused.
"""

from __future__ import annotations

import functools
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)
Adapter = Callable[[Any], Any]

# Shapes kept per Prepared (least recently used first out): a few per kind of search.
MAX_SHAPES = 256


def _identity(value: Any) -> Any:
    return value


def _hex(value: uuid.UUID) -> str:
    return value.hex


def _stand_in(value: Any) -> Any:
    """A random value of the same type, that no constant of a query can equal by chance."""
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, datetime):
        seconds = secrets.randbelow(10**9)
        return datetime(1990, 1, 1, tzinfo=UTC) + timedelta(
            seconds=seconds, microseconds=1 + seconds % 999_998
        )
    if isinstance(value, date):
        return date(1900, 1, 1) + timedelta(days=secrets.randbelow(50_000))
    if isinstance(value, str):
        return "prepared-" + secrets.token_hex(12)
    raise TypeError(f"Prepared: no stand-in for a value of type {type(value).__name__}")


def _forms(name: str, value: Any, using: str) -> dict[Any, tuple[str, Adapter]]:
    """The forms a stand-in may take among a compiled query's parameters, each with the
    function that gives a real value the same form."""
    ops = connections[using].ops
    forms: dict[Any, tuple[str, Adapter]] = {value: (name, _identity)}
    if isinstance(value, uuid.UUID):
        forms[value.hex] = (name, _hex)
        forms[str(value)] = (name, str)
    elif isinstance(value, datetime):
        forms[ops.adapt_datetimefield_value(value)] = (name, ops.adapt_datetimefield_value)
    elif isinstance(value, date):
        forms[ops.adapt_datefield_value(value)] = (name, ops.adapt_datefield_value)
    return forms


@dataclass(frozen=True)
class _Slot:
    """One parameter of the compiled SQL: a constant, or a named value in its database form."""

    constant: Any = None
    name: str | None = None
    adapt: Adapter = _identity


class _Reader:
    """What turns the rows of one compiled shape into model instances, worked out once: the
    select list's positions, the related objects' populators, the columns' converters."""

    def __init__(self, compiler: SQLCompiler, using: str) -> None:
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None and select is not None
        self.compiler = compiler
        self.using = using
        self.model = klass_info["model"]
        select_fields = klass_info["select_fields"]
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        # Django 5.2's signature (django-stubs already describes 6.0's fetch_mode).
        self.populators = get_related_populators(klass_info, select, using)  # type: ignore[call-arg]
        self.annotations = list(compiler.annotation_col_map.items())
        self.converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])

    def instances(self, rows: list[Any]) -> list[Any]:
        """The model instances of these rows, as Django's ModelIterable builds them."""
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        out = []
        for row in rows:
            obj = self.model.from_db(self.using, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for attr, position in self.annotations:
                setattr(obj, attr, row[position])
            out.append(obj)
        return out


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: tuple[_Slot, ...]
    reader: _Reader  # from the first compilation

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        return [s.constant if s.name is None else s.adapt(values[s.name]) for s in self.slots]


def _lookup(forms: Mapping[Any, tuple[str, Adapter]], param: Any) -> tuple[str, Adapter] | None:
    try:
        return forms.get(param)
    except TypeError:  # an unhashable parameter (a JSON value): never a stand-in
        return None


def _compile(
    build: Callable[[Mapping[str, Any]], QuerySet[M]], values: Mapping[str, Any], using: str
) -> _Compiled | None:
    """The shape's SQL and its parameter slots, or None when it cannot be reused safely."""
    runs = []
    for _ in range(2):
        stand_ins = {name: _stand_in(value) for name, value in values.items()}
        compiler = build(stand_ins).query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # a condition that matches nothing: left to the ORM
            return None
        forms: dict[Any, tuple[str, Adapter]] = {}
        for name, value in stand_ins.items():
            forms |= _forms(name, value, using)
        runs.append((sql, list(params), forms, compiler))
    (sql, params, forms, compiler), (sql2, params2, forms2, _) = runs
    if sql != sql2 or len(params) != len(params2):
        return None
    slots = []
    for first, second in zip(params, params2, strict=True):
        one, two = _lookup(forms, first), _lookup(forms2, second)
        if one is None and two is None and first == second:
            slots.append(_Slot(constant=first))
        elif one is not None and two is not None and one[0] == two[0] and one[1] is two[1]:
            slots.append(_Slot(name=one[0], adapt=one[1]))
        else:
            return None  # a value derived from a stand-in: not reusable
    return _Compiled(sql=sql, slots=tuple(slots), reader=_Reader(compiler, using))


class Prepared(Generic[M]):
    """Querysets of one model, each compiled once per shape and process.

    `fetch(shape, build, values)`: `build(values)` returns the queryset for these values, the
    same queryset for the same `shape` (a hashable description of everything but the values:
    which filters, which constants, which order and page); it is called only to compile a new
    shape, or every time for a shape that cannot be reused. `values` holds the request's own
    values (UUIDs, datetimes, dates, strings), never None: what is absent belongs in the shape.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._shapes: OrderedDict[Hashable, _Compiled | None] = OrderedDict()
        self._lock = threading.Lock()

    def fetch(
        self,
        shape: Hashable,
        build: Callable[[Mapping[str, Any]], QuerySet[M]],
        values: Mapping[str, Any],
    ) -> list[M]:
        using = router.db_for_read(self.model) or DEFAULT_DB_ALIAS
        key = (using, connections[using].vendor, shape)
        with self._lock:  # threaded servers and tests: one cache per process
            known = key in self._shapes
            compiled = self._shapes.get(key)
            if known:
                self._shapes.move_to_end(key)
        if not known:
            compiled = _compile(build, values, using)
            with self._lock:
                while len(self._shapes) >= MAX_SHAPES:
                    self._shapes.popitem(last=False)
                self._shapes[key] = compiled
        if compiled is None:
            return list(build(values).using(using))
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(values))
            rows = cursor.fetchall()
        return compiled.reader.instances(rows)

    def clear(self) -> None:
        with self._lock:
            self._shapes.clear()


# --- one new row ------------------------------------------------------------------------------


@functools.cache
def _insert_sql(
    model: type[Model], using: str, vendor: str, returning: bool
) -> tuple[str, tuple[Field[Any, Any], ...]]:
    """The INSERT of one row of `model`, written once per process and database: the model's own
    table and columns (the automatic key left to the database and returned), every value bound."""
    meta = model._meta
    q = connections[using].ops.quote_name
    table = str(meta.db_table)
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    sql = (
        f"INSERT INTO {q(table)} ({', '.join(q(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning and meta.auto_field is not None:
        sql += f" RETURNING {q(str(meta.auto_field.column))}"
    return sql, fields


def insert(obj: Model) -> None:
    """Save a new instance in one INSERT compiled once per process, as `obj.save()` would store
    it (each field's pre_save and database preparation: defaults, auto_now_add...), for the rows
    the API writes on every request. A model with a parent model or a pre_save / post_save
    receiver is saved by `obj.save()` instead: nothing it expects is skipped."""
    model = type(obj)
    meta = model._meta
    if meta.parents or pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save()
        return
    using = router.db_for_write(model, instance=obj) or DEFAULT_DB_ALIAS
    connection = connections[using]
    returning = bool(connection.features.can_return_columns_from_insert)
    sql, fields = _insert_sql(model, using, connection.vendor, returning)
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if meta.auto_field is not None:
            row = cursor.fetchone() if returning else None
            setattr(obj, meta.auto_field.attname, row[0] if row else cursor.lastrowid)
    obj._state.adding = False
    obj._state.db = using


@functools.cache
def _exists_sql(model: type[Model], column: str, using: str, vendor: str) -> str:
    q = connections[using].ops.quote_name
    return f"SELECT 1 FROM {q(str(model._meta.db_table))} WHERE {q(column)} = %s LIMIT 1"  # noqa: S608


def exists(model: type[Model], field_name: str, value: Any) -> bool:
    """`model.objects.filter(<field_name>=value).exists()`, in one statement compiled once per
    process (the value prepared as the ORM's exact lookup prepares it)."""
    using = router.db_for_read(model) or DEFAULT_DB_ALIAS
    connection = connections[using]
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field)
    sql = _exists_sql(model, str(field.column), using, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [field.get_db_prep_value(value, connection, prepared=False)])
        return cursor.fetchone() is not None
