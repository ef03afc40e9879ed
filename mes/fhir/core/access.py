"""Who may call each FHIR endpoint: `@fhir_endpoint(scopes=[...])` (DESIGN.md §4).

Every FHIR view declares the OAuth scopes it needs; a view declared without scopes refuses to
start (fail closed, like django-oauth-toolkit's ScopedResourceMixin). On each request the
decorator:

1. validates the Bearer access token with django-oauth-toolkit (401 + `WWW-Authenticate` when
   absent, invalid, expired or revoked) and checks the scopes (403 `insufficient_scope`);
2. builds `request.actor`:
   - a token obtained through the authorization code flow is bound to the professional who
     signed in (the token's user) and their structure;
   - a token obtained by a structure's server (client credentials) names the acting
     professional on each request in `X-Mes-Professionnel: 8<RPPS>`, or in a signed assertion
     `X-Mes-Assertion` (auth/assertion.py, RFC 7523 style), or is bound to them once for all by the
     jwt-bearer grant (auth/jwt_bearer.py, RFC 7523 §2.1); they must be a member of
     that structure, which is traced as vouching for them (`software` = « <LPS> via <structure>
     »); an Assurance Maladie client gets an INSURER actor, which may never read (403);
3. reads the access mode explicitly on every request (`X-Mes-Mode-Acces`) and the justification
   (`X-Mes-Justification`, percent-encoded UTF-8 because HTTP headers are Latin-1);
4. converts domain errors: NotFound -> 404, Forbidden -> 403, InvalidInput -> 422, FhirError ->
   its own status, all as OperationOutcome.

Patient-scoped views call `open_emergency_access(request, patient_id)` before reading: in an
emergency mode it opens (or goes on with) the emergency session, which `decide` requires.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import unquote

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import (
    ImproperlyConfigured,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_backends import OAuthLibCore, get_oauthlib_core
from oauth2_provider.settings import oauth2_settings

from mes.access.actions import emergency_access_open
from mes.access.actors import AccessMode, Actor, ActorKind, professional_actor
from mes.audit import trace
from mes.audit.models import TraceAction, TraceOutcome
from mes.fhir.auth import scopes as smart_scopes
from mes.fhir.auth import token_cache
from mes.fhir.auth.assertion import (
    ASSERTION_HEADER,
    AssertionRefused,
    asserted_professional,
    trace_refusal,
)
from mes.fhir.auth.jwt_bearer import bound_professional
from mes.fhir.models import FhirClient
from mes.identity.models import Citizen, Organisation, Professional
from mes.lib import ins as ins_lib
from mes.lib.errors import Forbidden, InvalidInput

from .formats import negotiated
from .outcome import (
    FhirError,
    IssueCode,
    bearer_challenge,
    forbidden,
    not_found,
    not_supported,
    outcome_response,
)

View = Callable[..., HttpResponse]
logger = logging.getLogger(__name__)

# --- Headers (documented in docs/fhir-api.md) -------------------------------------------------
# The access mode of this request (VIHF purposeofuse, mes-spec §5.7): normal (default),
# bris_de_glace or centre_15.
MODE_HEADER = "X-Mes-Mode-Acces"
# Why the emergency access: free text, percent-encoded UTF-8 (RFC 3986), mandatory for
# bris_de_glace.
JUSTIFICATION_HEADER = "X-Mes-Justification"
# Client credentials only: the professional acting, as their idNat « 8 » + RPPS.
ACTING_PROFESSIONAL_HEADER = "X-Mes-Professionnel"
JUSTIFICATION_MAX_LENGTH = 500

# --- Scopes (SMART App Launch v1 syntax; described in settings.OAUTH2_PROVIDER["SCOPES"]) ---
SCOPE_OPENID = "openid"
SCOPE_PROFILE = "profile"
SCOPE_PATIENT_READ = "user/Patient.read"
SCOPE_CONSENT_WRITE = "user/Consent.write"
SCOPE_DOCUMENT_READ = "user/DocumentReference.read"
SCOPE_DOCUMENT_WRITE = "user/DocumentReference.write"
SCOPE_BINARY_READ = "user/Binary.read"
SCOPE_IMMUNIZATION_READ = "user/Immunization.read"
SCOPE_IMMUNIZATION_WRITE = "user/Immunization.write"
SCOPE_RELATED_PERSON_READ = "user/RelatedPerson.read"

_IDNAT_PS = re.compile(r"^8(\d{11})$")


class FhirRequest(HttpRequest):
    """A request that passed `@fhir_endpoint`."""

    actor: Actor
    access_token: AccessToken
    live_token: token_cache.LiveToken
    fhir_client: FhirClient | None
    professional: Professional | None  # None for an insurer


_core: OAuthLibCore | None = None


def _oauthlib_core() -> OAuthLibCore:
    global _core
    if _core is None:
        _core = get_oauthlib_core()
    return _core


def _known_scopes() -> set[str]:
    return set(oauth2_settings.SCOPES)


def _authenticate(request: HttpRequest) -> AccessToken:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise FhirError(
            401,
            IssueCode.LOGIN,
            "Authentification requise : présentez un jeton d'accès OAuth 2.0 dans l'en-tête "
            "« Authorization: Bearer … ».",
            headers={"WWW-Authenticate": bearer_challenge()},
        )
    # One indexed query on every request: revoked, expired or deactivated is refused at once;
    # what the token points to comes from the per-token cache (mes.fhir.auth.token_cache).
    live = token_cache.live_token(header[7:].strip())
    token = live.token if live is not None else None
    if live is not None and live.restricted:
        # RFC 8707 resource indicators: the audience check is django-oauth-toolkit's own.
        valid, oauth_request = _oauthlib_core().verify_request(request, scopes=[])
        token = getattr(oauth_request, "access_token", None) if valid else None
    if token is None or live is None:
        raise FhirError(
            401,
            IssueCode.LOGIN,
            "Jeton d'accès invalide, expiré ou révoqué.",
            headers={
                "WWW-Authenticate": bearer_challenge(
                    "invalid_token", "Jeton d'acces invalide, expire ou revoque"
                )
            },
        )
    request.live_token = live  # type: ignore[attr-defined]
    return token


def _check_header_text(value: str, header: str) -> None:
    from .http import check_text  # http imports this module

    check_text(value, header)


def _check_query(request: HttpRequest) -> None:
    """Control characters and bidirectional overrides refused in every query parameter (a NUL
    reaches PostgreSQL as an error otherwise)."""
    for name, values in request.GET.lists():
        _check_header_text(name, name[:40])
        for value in values:
            _check_header_text(value, name[:40])


def _read_mode(request: HttpRequest) -> tuple[AccessMode, str]:
    raw_mode = request.headers.get(MODE_HEADER, AccessMode.NORMAL.value).strip()
    try:
        mode = AccessMode(raw_mode)
    except ValueError:
        raise FhirError(
            400,
            IssueCode.VALUE,
            f"Mode d'accès inconnu « {raw_mode[:40]} » : valeurs possibles normal, "
            "bris_de_glace, centre_15.",
            expression=MODE_HEADER,
        ) from None
    raw = request.headers.get(JUSTIFICATION_HEADER, "")
    try:
        justification = unquote(raw, encoding="utf-8", errors="strict").strip()
    except UnicodeDecodeError:
        raise FhirError(
            400,
            IssueCode.VALUE,
            "La justification doit être encodée en UTF-8 puis en pourcentage (RFC 3986).",
            expression=JUSTIFICATION_HEADER,
        ) from None
    _check_header_text(justification, JUSTIFICATION_HEADER)
    if len(justification) > JUSTIFICATION_MAX_LENGTH:
        raise FhirError(
            400,
            IssueCode.VALUE,
            f"La justification ne doit pas dépasser {JUSTIFICATION_MAX_LENGTH} caractères.",
            expression=JUSTIFICATION_HEADER,
        )
    if mode is AccessMode.BREAK_GLASS and not justification:
        raise FhirError(
            400,
            IssueCode.REQUIRED,
            "Un accès en mode bris de glace doit être justifié (en-tête X-Mes-Justification).",
            expression=JUSTIFICATION_HEADER,
        )
    return mode, justification


def _asserted_professional(request: FhirRequest, organisation: Organisation) -> Professional:
    """The professional named by a signed assertion (auth/assertion.py), who must also be the one
    X-Mes-Professionnel names when both are sent."""
    base = request.build_absolute_uri(reverse("fhir:transaction"))
    assert request.fhir_client is not None  # a structure is known only through its client
    professional = asserted_professional(
        request,
        client=request.fhir_client,
        organisation=organisation,
        audiences={base, base.rstrip("/")},
    )
    named = request.headers.get(ACTING_PROFESSIONAL_HEADER, "").strip()
    if named and named != professional.national_id:
        raise FhirError(
            403,
            IssueCode.FORBIDDEN,
            "X-Mes-Professionnel et l'assertion (X-Mes-Assertion) nomment deux professionnels "
            "différents.",
            expression=ACTING_PROFESSIONAL_HEADER,
        )
    return professional


def _acting_professional(request: FhirRequest, organisation: Organisation) -> Professional:
    if request.headers.get(ASSERTION_HEADER):  # RFC 7523 style, beside the plain header
        return _asserted_professional(request, organisation)
    raw = request.headers.get(ACTING_PROFESSIONAL_HEADER, "").strip()
    if not raw:
        raise FhirError(
            400,
            IssueCode.REQUIRED,
            "Un serveur de structure doit nommer le professionnel qui agit : en-tête "
            "X-Mes-Professionnel (« 8 » suivi du numéro RPPS) ou assertion signée "
            "X-Mes-Assertion.",
            expression=ACTING_PROFESSIONAL_HEADER,
        )
    match = _IDNAT_PS.match(raw)
    if match is None:
        raise FhirError(
            400,
            IssueCode.VALUE,
            "X-Mes-Professionnel attend l'identifiant national du professionnel : « 8 » suivi "
            "des 11 chiffres du RPPS.",
            expression=ACTING_PROFESSIONAL_HEADER,
        )
    professional = token_cache.named_professional(
        request.live_token.entry,
        organisation,
        match.group(1),
    )
    if professional is None or (professional.user and not professional.user.is_active):
        raise FhirError(
            403,
            IssueCode.FORBIDDEN,
            f"Ce professionnel n'est pas rattaché à la structure « {organisation.name} » : elle "
            "ne peut pas agir en son nom.",
            expression=ACTING_PROFESSIONAL_HEADER,
        )
    return professional


def _bound_acting(
    request: FhirRequest, organisation: Organisation, bound: Professional
) -> Professional:
    """A token of the jwt-bearer grant (auth/jwt_bearer.py): the professional its assertion named
    acts, still a member of the structure (checked on each request, as the header's); a header
    or an assertion sent beside it must name them."""
    if bound.organisation_id != organisation.pk or (bound.user and not bound.user.is_active):
        why = AssertionRefused(
            "PROFESSIONNEL_HORS_STRUCTURE",
            f"Le professionnel de ce jeton n'est plus rattaché à la structure "
            f"« {organisation.name} » : elle ne peut plus agir en son nom.",
        )
        assert request.fhir_client is not None
        trace_refusal(request.fhir_client, organisation, why, door=" (jeton jwt-bearer)")
        raise FhirError(403, IssueCode.FORBIDDEN, why.message, detail=why.code)
    if request.headers.get(ASSERTION_HEADER) or request.headers.get(ACTING_PROFESSIONAL_HEADER):
        named = _acting_professional(request, organisation)
        if named.pk != bound.pk:
            raise FhirError(
                403,
                IssueCode.FORBIDDEN,
                "Ce jeton est lié à un autre professionnel que celui nommé dans "
                "X-Mes-Professionnel ou X-Mes-Assertion.",
                expression=ACTING_PROFESSIONAL_HEADER,
            )
    return bound


def _client_of(request: HttpRequest) -> FhirClient | None:
    """The token's registered client and its structure (kept with the token)."""
    return request.live_token.entry.client  # type: ignore[attr-defined]


def _resolve_actor(request: FhirRequest, token: AccessToken, allow_insurer: bool) -> Actor:
    client = _client_of(request)
    request.fhir_client = client
    if client is not None:
        software = client.software_label
    else:
        software = token.application.name if token.application is not None else ""
    mode, justification = _read_mode(request)

    if token.user_id is not None:
        # Authorization code: the token is bound to the professional who signed in.
        professional = token_cache.token_professional(request.live_token.entry, token.user_id)
        # The user's is_active is read fresh with the token's row (_authenticate).
        if professional is None or professional.user is None or not request.live_token.user_active:
            raise FhirError(
                403,
                IssueCode.FORBIDDEN,
                "Ce jeton n'a pas été délivré à un professionnel de santé.",
            )
        named = request.headers.get(ACTING_PROFESSIONAL_HEADER, "").strip()
        if named and named != professional.national_id:
            raise FhirError(
                403,
                IssueCode.FORBIDDEN,
                "Ce jeton est lié à un autre professionnel que celui nommé dans "
                "X-Mes-Professionnel.",
                expression=ACTING_PROFESSIONAL_HEADER,
            )
        request.professional = professional
        return professional_actor(
            professional, mode=mode, justification=justification, software=software[:200]
        )

    # Client credentials: the structure's server acts for a professional it vouches for.
    organisation = client.organisation if client else None
    if organisation is None:
        raise FhirError(
            403,
            IssueCode.FORBIDDEN,
            "Ce client n'est rattaché à aucune structure : connectez le professionnel par le "
            "flux « authorization code ».",
        )
    if organisation.kind == Organisation.Kind.INSURER:
        request.professional = None
        if mode is not AccessMode.NORMAL:
            raise FhirError(
                403, IssueCode.FORBIDDEN, "L'Assurance Maladie n'a pas d'accès en urgence."
            )
        insurer = Actor(
            kind=ActorKind.INSURER,
            display_name=organisation.name,
            national_id=organisation.national_id,
            organisation_id=organisation.pk,
            organisation_name=organisation.name,
            software=software[:200],
        )
        if not allow_insurer:
            # Refused before any dossier is reached: traced on the system chain, so that even
            # this attempt is on record for the operators (DESIGN.md §4).
            trace.record(
                actor=insurer,
                action=TraceAction.CONSULT_DOSSIER,
                outcome=TraceOutcome.REFUSED,
                patient_id=None,
                reason=f"l'Assurance Maladie ne lit pas le dossier ({request.path[:120]})",
            )
            raise FhirError(
                403,
                IssueCode.FORBIDDEN,
                "L'Assurance Maladie alimente le dossier mais ne le consulte jamais "
                "(mes-spec §1.2).",
            )
        return insurer
    bound = bound_professional(request.live_token.entry, token.pk)
    professional = (
        _bound_acting(request, organisation, bound)
        if bound is not None
        else _acting_professional(request, organisation)
    )
    request.professional = professional
    return professional_actor(
        professional,
        mode=mode,
        justification=justification,
        software=f"{software} via {organisation.name}"[:200],
    )


def fhir_endpoint(
    *,
    scopes: Iterable[str],
    methods: Iterable[str] | None = None,
    allow_insurer: bool = False,
) -> Callable[[View], View]:
    """Declare a FHIR view: the OAuth scopes it requires (all of them), optionally the HTTP
    methods it answers (405 otherwise), and whether an Assurance Maladie client may call it
    (never for a read: the insurer never reads a dossier).

    Raises ImproperlyConfigured at import when `scopes` is empty or names an unknown scope.
    """
    required = tuple(scopes)
    if not required:
        raise ImproperlyConfigured("@fhir_endpoint exige au moins un scope OAuth (fail closed).")
    unknown = set(required) - _known_scopes()
    if unknown:
        raise ImproperlyConfigured(f"Scopes inconnus de OAUTH2_PROVIDER['SCOPES'] : {unknown}")
    if allow_insurer and any(scope.endswith(".read") for scope in required):
        raise ImproperlyConfigured("L'Assurance Maladie ne lit jamais un dossier.")
    allowed_methods = tuple(m.upper() for m in methods) if methods else None

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # FHIR JSON or FHIR XML, as the client asked (formats.py, issue 12 §5).
            response = negotiated(request, lambda: _answer(request, *args, **kwargs))
            # Health data: never kept by a browser or a shared cache, bearer requests included.
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
            return response

        def _answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if allowed_methods and request.method not in allowed_methods:
                return not_supported(
                    f"Méthode {request.method} non prise en charge sur cette ressource.",
                    status=405,
                    allow=", ".join(allowed_methods),
                )
            freq: FhirRequest = request  # type: ignore[assignment]
            try:
                token = _authenticate(request)
                missing = [s for s in required if not smart_scopes.grants(token.scope, s)]
                if missing:
                    return forbidden(
                        "Le jeton ne porte pas la portée nécessaire : " + " ".join(missing) + ".",
                        missing_scopes=" ".join(required),
                    )
                freq.access_token = token
                _check_query(request)
                freq.actor = _resolve_actor(freq, token, allow_insurer)
                return view(freq, *args, **kwargs)
            except Exception as error:
                return error_response(request, error)

        wrapped = csrf_exempt(login_not_required(wrapper))
        wrapped.mes_access = "fhir"  # type: ignore[attr-defined]
        wrapped.fhir_scopes = required  # type: ignore[attr-defined]
        return wrapped

    return decorator


def error_response(request: HttpRequest, error: Exception) -> HttpResponse:
    """Any exception of a FHIR view as an OperationOutcome: the domain's errors with their
    status, the request's faults as 400 / 413, and an unforeseen one as a 500 OperationOutcome
    (logged with its place, never with its message: it may quote health data)."""
    if isinstance(error, FhirError):
        return error.response()
    if isinstance(error, Http404):  # NotFound, Refused: absent or not yours, one answer
        return not_found()
    if isinstance(error, InvalidInput):
        return outcome_response(422, IssueCode.PROCESSING, str(error), expression=error.field)
    if isinstance(error, Forbidden):  # RefusedForbidden included
        return forbidden(error.message)
    if isinstance(error, PermissionDenied):
        return forbidden("Action non autorisée.")
    if isinstance(error, RequestDataTooBig):
        return outcome_response(413, IssueCode.TOO_LONG, "Requête trop volumineuse.")
    if isinstance(error, (MultiPartParserError, TooManyFieldsSent, UnreadablePostError)):
        return outcome_response(
            400, IssueCode.STRUCTURE, "Corps de requête illisible (formulaire mal formé)."
        )
    if isinstance(error, SuspiciousOperation):
        return outcome_response(400, IssueCode.INVALID, "Requête refusée.")
    frames = traceback.extract_tb(error.__traceback__)
    place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    logger.error(
        "FHIR: erreur interne %s (%s) sur %s %s",
        type(error).__name__,
        place,
        request.method,
        request.path[:200],
    )
    return outcome_response(
        500,
        IssueCode.EXCEPTION,
        "Erreur interne du serveur : rien n'a été enregistré par cette requête. Réessayez ; si "
        "l'erreur persiste, signalez-la avec l'heure de la requête.",
        detail="ERREUR_INTERNE",
    )


def fhir_public(view: View) -> View:
    """A FHIR document anyone may read without a token: the CapabilityStatement and the
    discovery documents (SMART App Launch requires them unauthenticated)."""

    @wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Exception as error:
            return error_response(request, error)

    def negotiated_answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return negotiated(request, lambda: answer(request, *args, **kwargs))

    wrapped = csrf_exempt(login_not_required(wraps(view)(negotiated_answer)))
    wrapped.mes_access = "public"  # type: ignore[attr-defined]
    return wrapped


def open_emergency_access(request: FhirRequest, patient_id: uuid.UUID) -> None:
    """Before reading a patient's dossier: in an emergency mode (bris de glace, Centre 15), open
    the emergency session or go on with it (idempotent while it lasts); `decide` reads only
    within one. Refused (404, traced) when the patient opposed it or masked everything. Nothing
    happens in normal mode."""
    if request.actor.mode is not AccessMode.NORMAL:
        emergency_access_open(actor=request.actor, patient_id=patient_id)


def parse_ins_token(token: str, *, expression: str = "identifier") -> ins_lib.Ins:
    """A FHIR token search value `system|value` naming an INS: system urn:oid:1.2.250.1.213.1.4.8
    (NIR) or urn:oid:1.2.250.1.213.1.4.9 (NIA). Raises InvalidInput (422) otherwise."""
    system, sep, value = token.partition("|")
    if not sep:
        raise InvalidInput(
            "Précisez le système de l'identifiant : urn:oid:1.2.250.1.213.1.4.8|<NIR> ou "
            "urn:oid:1.2.250.1.213.1.4.9|<NIA>.",
            field=expression,
        )
    kinds = {
        f"urn:oid:{ins_lib.OID_INS_NIR}": ins_lib.InsKind.NIR,
        f"urn:oid:{ins_lib.OID_INS_NIA}": ins_lib.InsKind.NIA,
    }
    kind = kinds.get(system.strip())
    if kind is None:
        raise InvalidInput(
            "Seul l'INS est accepté comme identifiant du patient (OID 1.2.250.1.213.1.4.8 pour "
            "le NIR, 1.2.250.1.213.1.4.9 pour le NIA).",
            field=expression,
        )
    try:
        return strict_ins(value, kind)
    except ins_lib.InvalidIns as error:
        raise InvalidInput(str(error), field=expression) from None


_INS_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")


def strict_ins(value: str, kind: ins_lib.InsKind) -> ins_lib.Ins:
    """An INS as a program sends it: exactly 15 characters, no space, dash or dot (the portal's
    lenient reading is for people typing). Raises InvalidIns."""
    if not _INS_SHAPE.fullmatch(value):
        raise ins_lib.InvalidIns(
            "L'INS s'écrit en 15 caractères sans espace ni séparateur : 15 chiffres (2A ou 2B "
            "pour un département de naissance en Corse)."
        )
    return ins_lib.parse_ins(value, kind)


def patient_by_ins(ins: ins_lib.Ins) -> Citizen | None:
    """The citizen with this INS (NIR or NIA, as named), or None. Reveals nothing by itself:
    callers decide and trace what the actor may learn."""
    return Citizen.objects.filter(ins=ins.value, ins_kind=ins.kind.value).first()
