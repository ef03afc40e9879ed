"""The authorisation server's local rules, on top of django-oauth-toolkit.

- Only professionals authorize practice software: the authorize endpoint sends a professional
  who is not signed in to the Web PS login (`pro:login`), and refuses any other account (a
  citizen signed in to the portal gets a 403 page, no code).
- The ID token and userinfo describe the professional: idNat (« 8 » + RPPS) as `sub`, names,
  profession (TRE_G15), specialty (TRE_R38), structure.
- A structure's server may exchange a signed assertion of the acting professional for a token
  bound to them (RFC 7523 jwt-bearer grant, mes/fhir/auth/jwt_bearer.py).
- Refresh tokens live MES_FHIR_REFRESH_TOKEN_LIFETIME for practice software (12 h) and
  MES_CATALOGUE_REFRESH_TOKEN_LIFETIME for a catalogue's app (mes.catalogue.oauth); the
  django-oauth-toolkit setting is the longest of the two (its own check, its sweep).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from oauth2_provider.models import AccessToken, Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import (
    AuthorizationView,
    ConnectDiscoveryInfoView,
    IntrospectTokenView,
    OAuthServerMetadataView,
)
from oauthlib.oauth2.rfc6749 import errors

from mes.access.actors import professional_actor
from mes.audit import trace
from mes.audit.models import TraceAction, TraceOutcome
from mes.catalogue.oauth import (
    PairingValidatorMixin,
    refresh_token_lapsed,
    service_of_client_id,
)
from mes.fhir.models import FhirClient
from mes.identity.models import Organisation, Professional

from . import client_secrets
from . import scopes as smart_scopes
from .assertion import AssertionRefused, checked_assertion, trace_refusal
from .jwt_bearer import (
    ASSERTED_PROFESSIONAL,
    JWT_BEARER,
    bind,
    oauth_text,
    token_endpoint_audiences,
)

# Claims beyond the standard ones, all released with the `profile` scope.
PROFESSIONAL_CLAIMS = {
    "idnat": "profile",
    "rpps": "profile",
    "profession": "profile",
    "specialty": "profile",
    "organisation_finess": "profile",
    "organisation_name": "profile",
}


def _structure_client(client: Any) -> FhirClient | None:
    """The registered structure's server (client credentials, not an insurer) `client` is, or
    None: only such a client may present a professional's assertion."""
    if client is None or getattr(client, "pk", None) is None:
        return None
    fhir_client = (
        FhirClient.objects.select_related("organisation", "application")
        .filter(application_id=client.pk)
        .first()
    )
    if fhir_client is None or fhir_client.organisation is None:
        return None
    if fhir_client.organisation.kind == Organisation.Kind.INSURER:
        return None  # the Assurance Maladie's server acts for no professional
    if fhir_client.application.authorization_grant_type != "client-credentials":
        return None
    return fhir_client


def _professional_of(user: Any) -> Professional | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Professional.objects.select_related("organisation").filter(user_id=user.pk).first()


class MesOAuth2Validator(PairingValidatorMixin, OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, **PROFESSIONAL_CLAIMS}

    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        """django-oauth-toolkit's check (the hasher named by the stored hash's prefix), then a
        secret still under Argon2 moves to the fast hasher now that its owner proved it
        (mes/fhir/auth/client_secrets.py)."""
        valid = bool(super()._check_secret(provided_secret, stored_secret))
        if valid:
            client_secrets.rehash_if_needed(stored=stored_secret, secret=provided_secret)
        return valid

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        claims = super().get_claim_dict(request)
        professional = _professional_of(getattr(request, "user", None))
        if professional is not None:
            # A stable, meaningful subject: the professional's national identifier.
            claims["sub"] = professional.national_id
        return claims

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        professional = _professional_of(getattr(request, "user", None))
        if professional is None:
            return {}
        org = professional.organisation
        return {
            "name": professional.display_name,
            "given_name": professional.first_name,
            "family_name": professional.last_name,
            "idnat": professional.national_id,
            "rpps": professional.rpps,
            "profession": professional.profession,
            "specialty": professional.specialty,
            "organisation_finess": org.finess if org else "",
            "organisation_name": org.name if org else "",
        }

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        """SMART v1 / v2 scopes: the subset this client may have is granted (RFC 6749 §3.3), and
        the token response's `scope` says which; nothing grantable is `invalid_scope`."""
        for_service = self.service_scopes(scopes, request)
        if for_service is not None:  # a catalogue service (mes.catalogue.oauth)
            request.scopes = for_service
            return bool(for_service)
        fhir_client = (
            FhirClient.objects.select_related("organisation").filter(application=client).first()
        )
        organisation = fhir_client.organisation if fhir_client else None
        granted = smart_scopes.grantable(
            scopes,
            # A jwt-bearer token is a structure's server's token, naming its professional.
            client_credentials=request.grant_type in ("client_credentials", JWT_BEARER),
            insurer=organisation is not None and organisation.kind == Organisation.Kind.INSURER,
        )
        if not granted:
            return False
        request.scopes = granted
        return True

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """A catalogue app's refresh token lives its own lifetime (mes.catalogue.oauth); every
        other client's MES_FHIR_REFRESH_TOKEN_LIFETIME (12 h), django-oauth-toolkit's setting
        being the longest of the two."""
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        if self._service(request) is not None:
            return True
        return not refresh_token_lapsed(request, settings.MES_FHIR_REFRESH_TOKEN_LIFETIME)

    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        """The jwt-bearer grant for a structure's server only (client credentials, not the
        Assurance Maladie's); every other grant as django-oauth-toolkit allows it."""
        if grant_type == JWT_BEARER:
            return _structure_client(client) is not None
        return bool(
            super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)
        )

    def validate_jwt_bearer(self, request: Any) -> None:
        """RFC 7523 §3: the assertion checked by mes.fhir.auth.assertion's one rule, `aud` being the
        token endpoint. Refused: `invalid_grant`, traced on the system chain; accepted: the
        professional is kept on the request for save_bearer_token to bind the token to them."""
        client = _structure_client(request.client)
        if client is None or client.organisation is None:
            raise errors.UnauthorizedClientError(request=request)
        organisation = client.organisation
        try:
            professional = checked_assertion(
                str(request.assertion),
                client=client,
                organisation=organisation,
                audiences=token_endpoint_audiences(request),
            )
        except AssertionRefused as why:
            trace_refusal(client, organisation, why, door=" (jeton jwt-bearer)")
            raise errors.InvalidGrantError(
                description=f"{why.code}: {oauth_text(why.message)}", request=request
            ) from None
        setattr(request, ASSERTED_PROFESSIONAL, professional)
        request._mes_structure_client = client

    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        professional = vars(request).get(ASSERTED_PROFESSIONAL)
        if request.grant_type != JWT_BEARER:
            return super().save_bearer_token(token, request, *args, **kwargs)
        if not isinstance(professional, Professional):  # never issued unbound (fail closed)
            raise errors.InvalidGrantError(request=request)
        client: FhirClient = vars(request)["_mes_structure_client"]
        organisation = client.organisation
        assert organisation is not None  # validate_jwt_bearer admits a structure's server only
        with transaction.atomic():
            result = super().save_bearer_token(token, request, *args, **kwargs)
            access = AccessToken.objects.get(
                token_checksum=hashlib.sha256(token["access_token"].encode("utf-8")).hexdigest()
            )
            bind(access, professional)
            trace.record(
                actor=professional_actor(
                    professional,
                    software=f"{client.software_label} via {organisation.name}"[:200],
                ),
                action=TraceAction.LOGIN,
                outcome=TraceOutcome.ALLOWED,
                patient_id=None,
                reason="jeton délivré sur assertion signée de la structure (jwt-bearer)",
            )
        return result

    def get_discovery_claims(self, request: Any) -> list[str]:
        return [
            "sub",
            "name",
            "given_name",
            "family_name",
            *PROFESSIONAL_CLAIMS,
        ]


class ProfessionalAuthorizationView(AuthorizationView):
    """/o/authorize/: the Web PS login first; only a professional may authorize a client."""

    login_url = reverse_lazy("pro:login")
    template_name = "fhir/authorize.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated and _professional_of(user) is None:
            return render(request, "fhir/authorize_refused.html", status=403)
        return super().dispatch(request, *args, **kwargs)


def authorize(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """/o/authorize/, one endpoint for both kinds of clients (OIDC discovery advertises one):
    a catalogue service's client sends the citizen to the pairing consent (the portal's login),
    any other client the professional to the Web PS."""
    if service_of_client_id(request.GET.get("client_id", "")) is not None:
        from mes.portal.catalogue.pairing_views import PairingAuthorizationView

        return PairingAuthorizationView.as_view()(request, *args, **kwargs)
    return ProfessionalAuthorizationView.as_view()(request, *args, **kwargs)


def redirect_origin_of(next_url: str) -> str | None:
    """Where a sign-in that goes on to `next_url` ends, when `next_url` is an authorization
    request: the origin of the client's registered redirect URI it names (or of its only one),
    else None. The login pages allow it in their `form-action` (mes.web.middleware)."""
    parts = urlsplit(next_url or "")
    if parts.netloc or parts.path != reverse("oauth2_provider:authorize"):
        return None
    params = parse_qs(parts.query)
    application = Application.objects.filter(client_id=params.get("client_id", [""])[0]).first()
    if application is None:
        return None
    redirect_uri = params.get("redirect_uri", [""])[0]
    registered = application.redirect_uris.split()
    if not redirect_uri and len(registered) == 1:
        redirect_uri = registered[0]
    if not redirect_uri or not application.redirect_uri_allowed(redirect_uri):
        return None
    target = urlsplit(redirect_uri)
    return f"{target.scheme}://{target.netloc}"


def _calling_client_id(request: HttpRequest) -> str:
    """The client_id of the client that authenticated the request (RFC 6749 §2.3.1: HTTP Basic,
    or client_id in the body). Called once DOT has authenticated it."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])
    return str(request.POST.get("client_id") or request.GET.get("client_id") or "")


def introspection_allowed(caller_client_id: str, token_client_id: str | None) -> bool:
    """RFC 7662 §4: a client learns only about its own tokens; a resource server declared in
    MES_OAUTH_INTROSPECTION_CLIENTS (client ids) about any token."""
    if not caller_client_id:
        return False
    if caller_client_id in getattr(settings, "MES_OAUTH_INTROSPECTION_CLIENTS", ()):
        return True
    return token_client_id is not None and caller_client_id == token_client_id


class OwnTokenIntrospectView(IntrospectTokenView):
    """/o/introspect/: DOT's introspection, answering `{"active": false}` for a token of
    another client (issue 13 §6: a registered client could read any token's scope and user)."""

    def _answer(self, request: HttpRequest, token_value: str | None) -> HttpResponse:
        if token_value:
            checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
            owner = (
                AccessToken.objects.filter(token_checksum=checksum)
                .values_list("application__client_id", flat=True)
                .first()
            )
            if not introspection_allowed(_calling_client_id(request), owner):
                return JsonResponse({"active": False})
        response: HttpResponse = self.get_token_response(token_value)
        response["Cache-Control"] = "no-store"
        return response

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._answer(request, request.GET.get("token"))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._answer(request, request.POST.get("token"))


def _honest(data: dict[str, Any]) -> JsonResponse:
    """What both discovery documents must say, or not leave to defaults that promise more
    (issue 12 §2): the grants and the scopes really offered (SMART v1/v2 forms and
    `offline_access` included, as in /fhir/.well-known/smart-configuration), the query response
    mode only (no implicit flow, so no fragment), no request objects."""
    data["scopes_supported"] = smart_scopes.supported()
    data["grant_types_supported"] = list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED)
    data["response_types_supported"] = ["code"]
    data["response_modes_supported"] = ["query"]
    honest = JsonResponse(data)
    honest["Access-Control-Allow-Origin"] = "*"
    return honest


class HonestDiscoveryView(ConnectDiscoveryInfoView):
    """/.well-known/openid-configuration advertising only what is supported (issue 12 §2): the
    ID tokens are signed RS256 only (every client is registered RS256), so HS256 is not
    offered; OpenID Connect Discovery's defaults that would promise more are said explicitly
    (grant types default to the implicit one, `request_uri_parameter_supported` to true)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["id_token_signing_alg_values_supported"] = ["RS256"]
        data["request_parameter_supported"] = False
        data["request_uri_parameter_supported"] = False
        data["claims_parameter_supported"] = False
        return _honest(data)


class HonestServerMetadataView(OAuthServerMetadataView):
    """/.well-known/oauth-authorization-server (RFC 8414), in agreement with the OpenID
    discovery document: public clients (`none`, PKCE alone) at the token and revocation
    endpoints, the same scopes."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        methods = list(oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED)
        data["token_endpoint_auth_methods_supported"] = methods
        data["revocation_endpoint_auth_methods_supported"] = methods
        return _honest(data)
