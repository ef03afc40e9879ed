"""`@app_endpoint`: a FHIR view of the apps' API (mes-spec §8.2, §9.2).

On each request: the Bearer token is validated by django-oauth-toolkit (401 when absent,
invalid, expired or revoked — an unpaired service's tokens are revoked); it must be bound to a
pairing (mes.catalogue.PairingToken; a professional's token is refused, 403); the request then
acts as the pairing's service (`app_actor`: one espace, the purposes consented), decided in
mes.access.decision like every access. Errors become OperationOutcomes.

`require_exchange` is the per-request check of the data category: the paired espace named
(403 « idPe requested do not match authorized idPe »), the pairing still standing, the purpose
consented (403 « Consent not given, access refused. »), then the token's scope. Every refusal
is traced on the espace's chain.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from mes.access.actors import Actor
from mes.access.decision import Decision, decide_exchange
from mes.audit import trace
from mes.audit.models import TraceAction, TraceOutcome
from mes.catalogue.actors import app_actor
from mes.catalogue.models import Pairing, PairingToken
from mes.fhir.auth import scopes as smart_scopes
from mes.fhir.core.access import FhirRequest, _authenticate, error_response
from mes.fhir.core.formats import negotiated
from mes.fhir.core.outcome import FhirError, IssueCode, bearer_challenge, not_supported

View = Callable[..., HttpResponse]

IDPE_MISMATCH = "idPe requested do not match authorized idPe"
CONSENT_NOT_GIVEN = "Consent not given, access refused."


class AppRequest(FhirRequest):
    actor: Actor
    pairing: Pairing
    token_scope: str


def _pairing_of(request: HttpRequest) -> tuple[Pairing, str]:
    token = _authenticate(request)
    link = (
        PairingToken.objects.select_related("pairing__service", "pairing__patient")
        .filter(access_token=token)
        .first()
    )
    if link is None:
        raise FhirError(
            403,
            IssueCode.FORBIDDEN,
            "Cette API est réservée aux services du catalogue synchronisés avec un profil : ce "
            "jeton n'est lié à aucune synchronisation.",
        )
    return link.pairing, token.scope


def app_endpoint(*, methods: tuple[str, ...]) -> Callable[[View], View]:
    """Declare a view of the apps' API and the HTTP methods it answers (405 otherwise)."""

    def decorator(view: View) -> View:
        def _answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                areq: AppRequest = request  # type: ignore[assignment]
                areq.pairing, areq.token_scope = _pairing_of(request)
                areq.actor = app_actor(areq.pairing)
                return view(areq, *args, **kwargs)
            except Exception as error:
                return error_response(request, error)

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = not_supported(
                    f"Méthode {request.method} non prise en charge sur cette ressource.",
                    status=405,
                    allow=", ".join(methods),
                )
            else:
                # JSON or XML, like the professionals' API (mes/fhir/core/formats.py).
                response = negotiated(request, lambda: _answer(request, *args, **kwargs))
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
            return response

        wrapped = csrf_exempt(login_not_required(wrapper))
        wrapped.mes_access = "fhir"  # type: ignore[attr-defined]
        wrapped.fhir_scopes = ("patient/*",)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _refuse(request: AppRequest, action: TraceAction, reason: str, title: str = "") -> None:
    trace.record(
        actor=request.actor,
        action=action,
        outcome=TraceOutcome.REFUSED,
        patient_id=request.pairing.patient_id,
        document_title=title[:255],
        reason=reason[:200],
    )


def check_espace(request: AppRequest, named: str | None, action: TraceAction) -> None:
    """403 when the request names another espace than the paired one (traced)."""
    if named is not None and named != str(request.pairing.patient_id):
        _refuse(request, action, "profil demandé différent du profil synchronisé")
        raise FhirError(403, IssueCode.FORBIDDEN, IDPE_MISMATCH, expression="subject")


def require_exchange(
    request: AppRequest, category: str, action: str, trace_as: TraceAction
) -> Decision:
    """The pairing stands and allows this (category, action) now, and the token's scope covers
    it; else 403, traced. Returns the decision (decide_exchange on the paired espace), for a
    policy that applies the same rule to use rather than decide again (exchanged_agenda)."""
    decision = decide_exchange(request.actor, request.pairing.patient, category, action)
    if not decision.allowed:
        _refuse(request, trace_as, decision.reason)
        if decision.reason.startswith("finalité non consentie"):
            raise FhirError(
                403,
                IssueCode.FORBIDDEN,
                CONSENT_NOT_GIVEN,
                detail="CONSENTEMENT_ABSENT",
            )
        raise FhirError(
            403,
            IssueCode.FORBIDDEN,
            f"Échange refusé : {decision.reason}.",
            detail="SYNCHRONISATION_INACTIVE",
        )
    if not smart_scopes.covers_exchange(request.token_scope, category, action):
        _refuse(request, trace_as, "portée du jeton insuffisante")
        raise FhirError(
            403,
            IssueCode.FORBIDDEN,
            "Le jeton ne porte pas la portée nécessaire : demandez une nouvelle autorisation "
            "au citoyen.",
            headers={
                "WWW-Authenticate": bearer_challenge(
                    "insufficient_scope", "Portee (scope) insuffisante"
                )
            },
        )
    return decision
