"""What every FHIR view of this API needs from HTTP: the base URL, a body in FHIR JSON or FHIR
XML (415 otherwise; formats.py), a bounded body (413), one URL served by several methods with
their own scopes (405)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from itertools import islice
from typing import Any, TypeVar

from django.http import HttpResponse
from django.urls import reverse
from pydantic import ValidationError

from mes.lib.errors import NotFound

from .access import FhirRequest
from .formats import BODY_TYPES, JSON_TYPES, XML_TYPES, negotiated, parse_body
from .jsontypes import json_type_problems
from .outcome import MAX_ISSUES, FhirError, IssueCode, not_supported, together

__all__ = ["BODY_TYPES", "JSON_TYPES", "XML_TYPES", "parse_body"]
NIL = uuid.UUID(int=0)  # a patient nobody has: the policy refuses it (and traces it) as unknown
T = TypeVar("T")


def fhir_base(request: FhirRequest) -> str:
    """The absolute FHIR base URL, ending with « / »."""
    return request.build_absolute_uri(reverse("fhir:transaction"))


def resource_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None


def unsupported_media(request: FhirRequest) -> FhirError:
    return FhirError(
        415,
        IssueCode.NOT_SUPPORTED,
        f"Type de contenu « {request.content_type or 'absent'} » non pris en charge : envoyez "
        "application/fhir+json ou application/fhir+xml.",
        expression="Content-Type",
    )


def read_resource(request: FhirRequest, limit: int) -> Any:
    """The request's body, FHIR JSON or FHIR XML, as FHIR JSON: 415 for another type, 413
    above `limit` bytes, 400 when unreadable."""
    if request.content_type not in BODY_TYPES:
        raise unsupported_media(request)
    return parse_body(request.content_type, read_body(request, limit))


def conform(model: Any, resource: Any, name: str, read: Callable[[], T], *, status: int = 422) -> T:
    """`read()` (the reading of `resource`) once `resource` is FHIR R4: `status` (422 unless the
    endpoint answers its shape faults otherwise) `structure` when the FHIR R4 model refuses it,
    naming the first element it refuses; `status` `structure` (FHIR_INVALIDE) naming every
    element whose JSON type is not FHIR's (the models raise more than ValidationError on some,
    and accept some that FHIR JSON does not: jsontypes), before anything is read; the empty
    objects and arrays named beside the problem `read` finds."""
    errors = conforming(model, resource, name, status=status)
    return read_beside(errors, read)


def conforming(model: Any, resource: Any, name: str, *, status: int = 422) -> list[FhirError]:
    """The empty objects and arrays of `resource` (one FhirError each, for the caller to answer
    beside what its reading finds), once the FHIR R4 `model` accepts it and its JSON types are
    FHIR's: else `status` `structure`, every problem at once (conform)."""
    try:
        validated = model.model_validate(resource)
    except ValidationError as error:
        errors = error.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        raise FhirError(
            status,
            IssueCode.STRUCTURE,
            f"{name} non conforme à FHIR R4"
            + (f" : élément « {where} » invalide ou manquant." if where else "."),
            expression=f"{name}.{where}" if where else name,
        ) from None
    except Exception:
        raise FhirError(
            status,
            IssueCode.STRUCTURE,
            f"{name} non conforme à FHIR R4 : un élément n'a pas le type JSON attendu.",
            expression=name,
        ) from None
    return empty_elements(validated, resource, f"{name} non conforme à FHIR R4 —", status=status)


def read_conforming(validated: Any, resource: Any, title: str, read: Callable[[], T]) -> T:
    """`read()` once the JSON of `resource` (which the model accepted as `validated`) is in
    FHIR's own types, every problem in one 422: a wrong type or a null stops before the reading
    (the readers read the JSON, and would misread it: « 30 » for an integer, null for absent);
    an empty object or array, which the readers take for absent, is named beside what `read`
    then finds (a required element missing...)."""
    return read_beside(empty_elements(validated, resource, title), read)


def empty_elements(
    validated: Any, resource: Any, title: str, *, status: int = 422
) -> list[FhirError]:
    """The empty objects and arrays of `resource` (which the model accepted as `validated`),
    one FhirError each; raises `status` with every problem when one is more than empty (a
    wrong JSON type, a null)."""
    name = type(validated).__name__
    problems = list(islice(json_type_problems(validated, resource, name), MAX_ISSUES))
    errors = [
        FhirError(
            status,
            IssueCode.STRUCTURE,
            f"{title} {p.where} : {p.message}",
            expression=p.where,
            detail="FHIR_INVALIDE",
        )
        for p in problems
    ]
    if not all(p.empty for p in problems):
        raise together(errors)
    return errors


def read_beside(errors: list[FhirError], read: Callable[[], T]) -> T:
    """`read()`, and the problems it finds after `errors` (the empty elements) in one answer;
    `errors` alone when the reading finds nothing (nothing read is kept)."""
    try:
        found = read()
    except FhirError as error:
        raise together([*errors, error]) from None
    if errors:
        raise together(errors)
    return found


def _too_large(limit: int) -> FhirError:
    size = f"{limit // (1024 * 1024)} Mo" if limit >= 1024 * 1024 else f"{limit // 1024} Ko"
    return FhirError(
        413,
        IssueCode.TOO_LONG,
        f"Requête trop volumineuse (plus de {size}) : déposez les documents en plusieurs lots.",
        detail="TROP_VOLUMINEUX",
    )


def read_body(request: FhirRequest, limit: int) -> bytes:
    """The body, at most `limit` bytes: refused (413) on its announced length before anything
    is read, then on what actually arrives (a chunked body announces nothing)."""
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise FhirError(400, IssueCode.INVALID, "En-tête Content-Length invalide.") from None
    if announced > limit:
        raise _too_large(limit)
    # Read from the stream: request.body would refuse anything above Django's form limit.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(limit)
    return raw


# --- JSON bodies --------------------------------------------------------------------------------

# Deeper than any FHIR resource this API takes (a Bundle of DocumentReference with contained
# resources nests about 12 levels): beyond, refused before the FHIR models recurse into it.
MAX_JSON_DEPTH = 64
# C0 controls but TAB, LF, CR; DEL and the C1 controls; the bidirectional embeddings, overrides
# and isolates, which make a title read differently from what is stored (« Trojan Source »).
FORBIDDEN_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def forbidden_character(text: str) -> str | None:
    """The first forbidden character of `text` as « U+XXXX », or None."""
    found = FORBIDDEN_CHARACTERS.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def check_text(text: str, expression: str) -> None:
    """400 for a control character or a bidirectional override in a request value."""
    bad = forbidden_character(text)
    if bad:
        raise FhirError(
            400,
            IssueCode.VALUE,
            f"Caractère interdit ({bad}) : les caractères de contrôle et les inversions du sens "
            "d'écriture ne sont pas acceptés.",
            expression=expression,
            detail="CARACTERE_INTERDIT",
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} n'est pas un nombre JSON")


def check_tree(data: Any) -> None:
    """Depth and characters of a parsed JSON value, walked without recursion."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise FhirError(
                400,
                IssueCode.STRUCTURE,
                f"JSON trop profond (plus de {MAX_JSON_DEPTH} niveaux).",
                detail="JSON_ILLISIBLE",
            )
        if isinstance(value, dict):
            for key, item in value.items():
                check_text(key, where or "$")
                stack.append((item, depth + 1, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}[{n}]") for n, item in enumerate(value))
        elif isinstance(value, str):
            check_text(value, where or "$")


def parse_json(raw: bytes) -> Any:
    """A request body as JSON: 400 (`structure`) when unreadable (bad UTF-8 or JSON, NaN,
    nesting deeper than MAX_JSON_DEPTH), 400 (`value`) for a forbidden character in any
    string. Never lets an exception of the decoder escape (a RecursionError on deep input)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FhirError(
            400, IssueCode.STRUCTURE, "Corps illisible : UTF-8 invalide.", detail="JSON_ILLISIBLE"
        ) from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise FhirError(
            400,
            IssueCode.STRUCTURE,
            f"Corps illisible : JSON invalide ({error})."[:300],
            detail="JSON_ILLISIBLE",
        ) from None
    check_tree(data)
    return data


def by_method(**views: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """One URL, one @fhir_endpoint per method (each with its own scopes)."""

    methods = list(views)

    def dispatch(request: FhirRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        view = views.get(request.method or "")
        if view is None:
            return negotiated(
                request,
                lambda: not_supported(
                    f"Méthode {request.method} non prise en charge sur cette ressource.",
                    status=405,
                    allow=", ".join(methods),
                ),
            )
        return view(request, *args, **kwargs)

    dispatch.mes_access = "fhir"  # type: ignore[attr-defined]
    dispatch.fhir_scopes = tuple(  # type: ignore[attr-defined]
        sorted({s for m in methods for s in views[m].fhir_scopes})  # type: ignore[attr-defined]
    )
    dispatch.csrf_exempt = True  # type: ignore[attr-defined]
    dispatch.login_required = False  # type: ignore[attr-defined]
    return dispatch
