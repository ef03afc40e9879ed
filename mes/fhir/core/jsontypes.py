"""The JSON types FHIR R4 gives its primitives, checked on what the client actually sent.

The R4 models (fhir.resources, pydantic) are lenient: they take « 14 » or 14.0 for an unsignedInt,
« yes » or 1 for a boolean, a number for a dateTime, and `null` for an absent element. Our readers
then read the request's JSON, not the model's values (to say where each problem is, and because
the model rewrites what it coerces): a size of « 14.0 » or `null` made `int()` fail (a 500), a
dateTime of 0 was taken for « absent ». FHIR JSON (R4 §2.6.2) is strict, and so are we: after the
model accepted a request, `json_type_problems` walks the model and the JSON side by side and names
every element whose JSON type is not FHIR's (null included: an absent element is left out).
An array of primitives may hold null only where its `_element` twin holds something at the same
place, and the reverse, as FHIR allows (R4 §2.6.2.1); anywhere else a null is named.

It names the empty objects and arrays too (`{}`, `[]`: « empty objects and arrays are not
allowed », R4 §2.6.2), flagged `empty`: the readers take them for absent, which is what the
sender meant or not, so a request reports them beside what its readers then find (a required
element missing...), in one OperationOutcome, where a wrong type stops the reading (the readers
would misread it).
"""

from __future__ import annotations

import datetime
import decimal
import functools
import types
import typing
from collections.abc import Iterator
from typing import Any, NamedTuple

from pydantic import BaseModel

# The JSON type of each kind of FHIR primitive, as the problem message says it.
EXPECTED = {
    "boolean": "un booléen (true ou false)",
    "integer": "un nombre entier",
    "number": "un nombre",
    "string": "une chaîne de caractères",
}
_STRINGS = (str, bytes, datetime.datetime, datetime.date, datetime.time)


def _kind(annotation: Any) -> str | None:
    """The JSON kind of a model field's type: None for a complex type (a model, walked into)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        kinds = {_kind(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        kinds.discard(None)
        # Union[AnyUrl, str]: a string either way; fhir_comments: str or a list of them.
        return "string" if "string" in kinds else next(iter(kinds), None)
    if annotation is bool:  # before int: a bool is an int in Python, never in FHIR
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation in (decimal.Decimal, float):
        return "number"
    if isinstance(annotation, type) and issubclass(annotation, _STRINGS):
        return "string"
    if isinstance(annotation, type) and annotation.__module__.startswith("pydantic.networks"):
        return "string"  # AnyUrl
    return None


@functools.cache
def _fields(model: type[BaseModel]) -> tuple[tuple[str, str, str | None], ...]:
    """(attribute, JSON name, kind) of each element of a model class, computed once."""
    return tuple(
        (name, field.alias or name, _kind(field.annotation))
        for name, field in model.model_fields.items()
    )


def _fits(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, int | float):
        return "un nombre"
    if isinstance(value, str):
        return "une chaîne"
    return "un tableau" if isinstance(value, list) else "un objet"


class JsonProblem(NamedTuple):
    """One element of a request that is not FHIR JSON: where (FHIRPath), what, and whether it
    is only empty (`{}`, `[]`: read as absent, so the reading may go on)."""

    where: str
    message: str
    empty: bool = False


NULL = "null n'est pas une valeur FHIR : un élément absent est omis."
NULL_IN_ARRAY = (
    "null dans un tableau n'est admis que face à une extension de l'élément au même rang "
    "(tableau « _{key} »)."
)
UNEQUAL_TWINS = "les tableaux « {key} » et « _{key} » ont la même longueur (un rang par valeur)."
EMPTY_OBJECT = "objet vide : FHIR JSON n'en admet pas, un élément absent est omis."
EMPTY_ARRAY = "tableau vide : FHIR JSON n'en admet pas, un élément absent est omis."


def _twin(key: str) -> str:
    """The other half of a primitive's pair: `_given` for `given`, `given` for `_given`."""
    return key[1:] if key.startswith("_") else f"_{key}"


def _paired(json_node: dict[str, Any], key: str, n: int) -> bool:
    """Is there something at rank `n` of the twin array (a null's only licence)?"""
    twin = json_node.get(_twin(key))
    return isinstance(twin, list) and n < len(twin) and twin[n] is not None


def _primitives(
    json_node: dict[str, Any], key: str, kind: str, sent: Any, here: str
) -> Iterator[JsonProblem]:
    """The problems of a primitive element, or of each value of an array of them."""
    if type(sent) is not list:
        if not _fits(kind, sent):
            yield JsonProblem(here, _wrong_type(kind, sent))
        return
    for n, item in enumerate(sent):
        if item is None:
            if not _paired(json_node, key, n):
                yield JsonProblem(f"{here}[{n}]", NULL_IN_ARRAY.format(key=key))
        elif not _fits(kind, item):
            yield JsonProblem(f"{here}[{n}]", _wrong_type(kind, item))


def _extensions(json_node: dict[str, Any], key: str, sent: Any, here: str) -> Iterator[JsonProblem]:
    """The problems of an array of a primitive array's extensions (`_given`): one rank per
    value of its twin, a null only facing a value."""
    if type(sent) is not list:
        return
    twin = json_node.get(key[1:])
    if isinstance(twin, list) and len(twin) != len(sent):
        yield JsonProblem(here, UNEQUAL_TWINS.format(key=key[1:]))
    for n, item in enumerate(sent):
        if item is None and not _paired(json_node, key, n):
            yield JsonProblem(f"{here}[{n}]", NULL_IN_ARRAY.format(key=key[1:]))


def _wrong_type(kind: str, value: Any) -> str:
    return f"type JSON attendu : {EXPECTED[kind]} (reçu : {_json_name(value)})."


def json_type_problems(model: BaseModel, raw: Any, where: str) -> Iterator[JsonProblem]:
    """Every element of `raw` (the JSON `model` was validated from) whose JSON type is not the
    one FHIR R4 gives it, or that is empty. Walked without recursion; the rare cases (null,
    empty, an extension array) are tested only on what is falsy or begins with « _ »."""
    stack: list[tuple[BaseModel, Any, str]] = [(model, raw, where)]
    while stack:
        node, json_node, at = stack.pop()
        if not isinstance(json_node, dict):
            continue  # the model took something else for an object: nothing of it is read
        for name, key, kind in _fields(type(node)):
            if key not in json_node:
                continue
            sent, here = json_node[key], f"{at}.{key}"
            if not sent:
                if sent is None:
                    yield JsonProblem(here, NULL)
                    continue
                # (`{}` where a primitive is expected is a wrong type, below; 0, false and
                # "" are values.)
                if type(sent) is list or (type(sent) is dict and kind is None):
                    yield JsonProblem(here, EMPTY_ARRAY if sent == [] else EMPTY_OBJECT, True)
                    continue
            if kind is not None:
                yield from _primitives(json_node, key, kind, sent, here)
                continue
            if key[0] == "_":
                yield from _extensions(json_node, key, sent, here)
            value = getattr(node, name, None)
            if isinstance(value, BaseModel):
                stack.append((value, sent, here))
            elif isinstance(value, list) and type(sent) is list:
                for n, (child, json_child) in enumerate(zip(value, sent, strict=False)):
                    if not json_child and type(json_child) is dict:
                        yield JsonProblem(f"{here}[{n}]", EMPTY_OBJECT, True)
                    if isinstance(child, BaseModel):
                        stack.append((child, json_child, f"{here}[{n}]"))
