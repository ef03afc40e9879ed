"""FHIR responses and errors: every body is a FHIR R4 resource in `application/fhir+json`.

Errors are OperationOutcome resources with a precise issue code (FHIR value set `issue-type`)
and a French diagnostic. The 404 body is the same whether the resource is absent or refused, so
that a refusal reveals nothing (DESIGN.md §4).

| status | issue code | when |
|---|---|---|
| 400 | invalid / required / value | malformed request: headers, parameters |
| 401 | login (+ `WWW-Authenticate: Bearer`) | no token, or an invalid, expired or revoked one |
| 403 | forbidden (+ `WWW-Authenticate` if a scope is missing) | what this actor may never do |
| 404 | not-found | absent, or not yours |
| 405 / 501 | not-supported | method or interaction not offered |
| 410 | deleted | a superseded or unavailable document (ITI-68) |
| 422 | processing / invalid / required / value / structure | content the domain refuses |
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json; charset=utf-8"
# Realm of the Bearer challenges (RFC 6750 §3).
REALM = "mes-dmp"


class IssueCode(StrEnum):
    """The subset of http://hl7.org/fhir/issue-type this API uses."""

    INVALID = "invalid"
    STRUCTURE = "structure"
    REQUIRED = "required"
    VALUE = "value"
    SECURITY = "security"
    LOGIN = "login"
    FORBIDDEN = "forbidden"
    PROCESSING = "processing"
    NOT_SUPPORTED = "not-supported"
    DUPLICATE = "duplicate"
    NOT_FOUND = "not-found"
    DELETED = "deleted"
    CONFLICT = "conflict"
    EXCEPTION = "exception"
    INFORMATIONAL = "informational"


NOT_FOUND_MESSAGE = "Ressource introuvable."


def operation_outcome(
    code: IssueCode | str,
    diagnostics: str,
    *,
    severity: str = "error",
    expression: str | None = None,
) -> dict[str, Any]:
    """One OperationOutcome with one issue. `expression` names the faulty element (FHIRPath,
    a search parameter name or an HTTP header)."""
    issue: dict[str, Any] = {"severity": severity, "code": str(code), "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(
    resource: Mapping[str, Any],
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A FHIR resource as `application/fhir+json; charset=utf-8`."""
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body.encode(), status=status, content_type=FHIR_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def outcome_response(
    status: int,
    code: IssueCode | str,
    diagnostics: str,
    *,
    expression: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    return fhir_response(
        operation_outcome(code, diagnostics, expression=expression), status, headers=headers
    )


def _quoted(value: str) -> str:
    # RFC 7230 quoted-string: escape backslashes and quotes, drop line breaks; headers are Latin-1
    # so the (French) description is reduced to ASCII.
    text = value.replace("\r", " ").replace("\n", " ").replace("\\", "\\\\").replace('"', '\\"')
    return text.encode("ascii", "replace").decode("ascii")


def bearer_challenge(error: str | None = None, description: str = "", scope: str = "") -> str:
    """The `WWW-Authenticate` value of a Bearer challenge (RFC 6750 §3)."""
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{_quoted(description)}"')
    if scope:
        parts.append(f'scope="{_quoted(scope)}"')
    return "Bearer " + ", ".join(parts)


def not_found() -> HttpResponse:
    """The one 404 body: identical for "absent" and "not allowed"."""
    return outcome_response(404, IssueCode.NOT_FOUND, NOT_FOUND_MESSAGE)


def unauthorized(diagnostics: str, *, error: str | None = "invalid_token") -> HttpResponse:
    """401: no usable token. `error` is None when the request carried no token (RFC 6750 §3.1)."""
    challenge = bearer_challenge(error, "Jeton d'acces absent ou invalide" if error else "")
    return outcome_response(
        401, IssueCode.LOGIN, diagnostics, headers={"WWW-Authenticate": challenge}
    )


def forbidden(diagnostics: str, *, missing_scopes: str = "") -> HttpResponse:
    """403: the actor may never do this. With `missing_scopes`, the token lacks a scope."""
    headers = {}
    if missing_scopes:
        headers["WWW-Authenticate"] = bearer_challenge(
            "insufficient_scope", "Portee (scope) insuffisante", missing_scopes
        )
    return outcome_response(403, IssueCode.FORBIDDEN, diagnostics, headers=headers)


def not_supported(diagnostics: str, *, status: int = 501, allow: str = "") -> HttpResponse:
    headers = {"Allow": allow} if allow else None
    return outcome_response(status, IssueCode.NOT_SUPPORTED, diagnostics, headers=headers)


class FhirError(Exception):
    """Raise from a FHIR view to answer with an OperationOutcome; `@fhir_endpoint` converts it.

    e.g. `raise FhirError(400, IssueCode.REQUIRED, "Le paramètre « status » est obligatoire.",
    expression="status")`.
    """

    def __init__(
        self,
        status: int,
        code: IssueCode | str,
        diagnostics: str,
        *,
        expression: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression
        self.headers = dict(headers or {})

    def response(self) -> HttpResponse:
        if self.status == 404:
            return not_found()
        return outcome_response(
            self.status,
            self.code,
            self.diagnostics,
            expression=self.expression,
            headers=self.headers,
        )
