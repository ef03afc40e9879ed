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
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import orjson
from django.http import HttpResponse

FHIR_JSON = "application/fhir+json; charset=utf-8"
# Realm of the Bearer challenges (RFC 6750 §3).
REALM = "mes-dmp"
# An OperationOutcome lists at most this many problems of one request (a JSON or XML body).
MAX_ISSUES = 50


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
    TOO_LONG = "too-long"
    TOO_COSTLY = "too-costly"
    CODE_INVALID = "code-invalid"
    INVARIANT = "invariant"
    BUSINESS_RULE = "business-rule"


# `issue.details.coding`: a code a program can switch on, beside the French text.
# The XDS error codes of IHE ITI TF-3 Table 4.2.4.1-2 where MHD inherits them (MHD defines no
# FHIR CodeSystem for them: docs/decisions.md), our own documented codes elsewhere
# (docs/fhir-api.md « Codes d'erreur »).
XDS_ERROR_SYSTEM = "urn:mes:fhir:CodeSystem:xds-error"
MES_ERROR_SYSTEM = "urn:mes:fhir:CodeSystem:erreur"
XDS_CODES = frozenset(
    {
        "XDSUnknownPatientId",
        "XDSPatientIdDoesNotMatch",
        "XDSRegistryMetadataError",
        "XDSRepositoryMetadataError",
        "XDSNonIdenticalHash",
        "XDSNonIdenticalSize",
        "XDSDuplicateUniqueIdInRegistry",
        "XDSMissingDocument",
        "XDSMissingDocumentMetadata",
        "XDSUnknownRepositoryId",
        "XDSDocumentUniqueIdError",
        "XDSRegistryError",
        "XDSRepositoryError",
        "UnavailableRecipient",
        "PartialTransformContentNotProcessed",
        "PartialAppendContentNotProcessed",
        "PartialSignsContentNotProcessed",
        "PartialRelatesToContentNotProcessed",
        "PartialFolderContentNotProcessed",
    }
)


def details(code: str) -> dict[str, Any]:
    """`issue.details` for an error code: the XDS code system when MHD names it, ours else."""
    system = XDS_ERROR_SYSTEM if code in XDS_CODES else MES_ERROR_SYSTEM
    return {"coding": [{"system": system, "code": code}], "text": code}


NOT_FOUND_MESSAGE = "Ressource introuvable."


def issue(
    code: IssueCode | str,
    diagnostics: str,
    *,
    severity: str = "error",
    expression: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """One OperationOutcome.issue. `detail`: the code of `details.coding` (XDS or ours)."""
    out: dict[str, Any] = {"severity": severity, "code": str(code)}
    if detail:
        out["details"] = details(detail)
    out["diagnostics"] = diagnostics
    if expression:
        out["expression"] = [expression]
    return out


def operation_outcome(
    code: IssueCode | str,
    diagnostics: str,
    *,
    severity: str = "error",
    expression: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """One OperationOutcome with one issue. `expression` names the faulty element (FHIRPath,
    a search parameter name or an HTTP header)."""
    one = issue(code, diagnostics, severity=severity, expression=expression, detail=detail)
    return {"resourceType": "OperationOutcome", "issue": [one]}


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, as `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` writes
    it, by orjson (a search page of twenty DocumentReference in a fraction of the time); what
    orjson refuses (an integer beyond 64 bits, a key that is not a string) by the standard
    library."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def fhir_response(
    resource: Mapping[str, Any],
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A FHIR resource as `application/fhir+json; charset=utf-8`."""
    response = HttpResponse(json_bytes(resource), status=status, content_type=FHIR_JSON)
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
    detail: str | None = None,
) -> HttpResponse:
    return fhir_response(
        operation_outcome(code, diagnostics, expression=expression, detail=detail),
        status,
        headers=headers,
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
        detail: str | None = None,
        issues: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression
        self.headers = dict(headers or {})
        self.detail = detail
        # Every problem found, when the request had several (this one first).
        self.issues = issues or [issue(code, diagnostics, expression=expression, detail=detail)]

    def response(self) -> HttpResponse:
        if self.status == 404:
            return not_found()
        return fhir_response(
            {"resourceType": "OperationOutcome", "issue": self.issues},
            self.status,
            headers=self.headers,
        )


def together(errors: Sequence[FhirError], kind: type[FhirError] = FhirError) -> FhirError:
    """One FhirError answering every problem of `errors`, in their order (issue 12 §1): the
    first's code and text, every issue (at most MAX_ISSUES), 422 when any of them is."""
    if len(errors) == 1:
        return errors[0]
    first = errors[0]
    return kind(
        422 if any(e.status == 422 for e in errors) else first.status,
        first.code,
        first.diagnostics,
        expression=first.expression,
        detail=first.detail,
        issues=[i for e in errors for i in e.issues][:MAX_ISSUES],
    )
