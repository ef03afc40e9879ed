"""What every FHIR view of this API needs from HTTP: the base URL, JSON only (415 / 406), a
bounded body (413), one URL served by several methods with their own scopes (405)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from mes.lib.errors import NotFound

from .access import FhirRequest
from .outcome import FhirError, IssueCode, not_supported

JSON_TYPES = ("application/fhir+json", "application/json")
NIL = uuid.UUID(int=0)  # a patient nobody has: the policy refuses it (and traces it) as unknown


def fhir_base(request: FhirRequest) -> str:
    """The absolute FHIR base URL, ending with « / »."""
    return request.build_absolute_uri(reverse("fhir:transaction"))


def resource_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None


def unsupported_media(request: FhirRequest) -> FhirError:
    if "xml" in (request.content_type or ""):
        message = (
            "Seul le format JSON (application/fhir+json) est pris en charge : le XML FHIR "
            "(application/fhir+xml) ne l'est pas."
        )
    else:
        message = (
            f"Type de contenu « {request.content_type or 'absent'} » non pris en charge : "
            "envoyez application/fhir+json."
        )
    return FhirError(415, IssueCode.NOT_SUPPORTED, message, expression="Content-Type")


def accepts_json(request: FhirRequest) -> None:
    """406 when the client accepts only XML: this server speaks FHIR JSON alone."""
    accept = request.headers.get("Accept", "").lower()
    wants_xml = ("xml" in accept and "json" not in accept and "*/*" not in accept) or (
        "xml" in request.GET.get("_format", "").lower()
    )
    if wants_xml:
        raise FhirError(
            406,
            IssueCode.NOT_SUPPORTED,
            "Seul le format JSON (application/fhir+json) est disponible : le XML FHIR ne l'est "
            "pas.",
            expression="Accept",
        )


def read_body(request: FhirRequest, limit: int) -> bytes:
    # Read from the stream: request.body would refuse anything above Django's form limit.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise FhirError(
            413,
            IssueCode.VALUE,
            f"Requête trop volumineuse (plus de {limit // (1024 * 1024)} Mo) : déposez les "
            "documents en plusieurs lots.",
        )
    return raw


def by_method(**views: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """One URL, one @fhir_endpoint per method (each with its own scopes)."""

    methods = list(views)

    def dispatch(request: FhirRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        view = views.get(request.method or "")
        if view is None:
            return not_supported(
                f"Méthode {request.method} non prise en charge sur cette ressource.",
                status=405,
                allow=", ".join(methods),
            )
        return view(request, *args, **kwargs)

    dispatch.mes_access = "fhir"  # type: ignore[attr-defined]
    dispatch.fhir_scopes = tuple(  # type: ignore[attr-defined]
        sorted({s for m in methods for s in views[m].fhir_scopes})  # type: ignore[attr-defined]
    )
    dispatch.csrf_exempt = True  # type: ignore[attr-defined]
    dispatch.login_required = False  # type: ignore[attr-defined]
    return dispatch
