"""The acting professional's signed assertion as an authorization grant (RFC 7523 §2.1).

A structure's confidential client (client credentials), authenticated as for any grant
(`client_secret_basic` or `client_secret_post`), posts to the token endpoint

    grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>[&scope=…]

where the JWT is the assertion of mes/fhir/auth/assertion.py (`iss` its client_id, `sub` the
professional's idNat, `exp`/`iat`/`jti`, signed with a key registered for the client), its `aud`
the token endpoint's URL. The access token issued (no refresh token: the server signs a new
assertion when it needs one, RFC 7523 §3.1 style) is bound to that professional (AssertedToken):
every request made with it acts for them exactly as the `X-Mes-Professionnel` header would,
membership of the structure checked again on each request (mes/fhir/core/access.py). One assertion,
one token: its `jti` is spent (a replay is refused, at this door or at the header's).

Every refusal of the assertion is `invalid_grant` (RFC 6749 §5.2) with the refusal's code at the
head of `error_description`, and is traced on the system chain like the header's refusals; the
token issued is traced too (CONNEXION of the professional via the structure).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.base import GrantTypeBase
from oauthlib.openid import Server as OpenIdServer

from mes.fhir.models import AssertedToken
from mes.identity.models import Professional

from .token_cache import TokenEntry

log = logging.getLogger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Set on the oauthlib request by the validator once the assertion passed: read back with vars()
# only, since oauthlib answers attribute reads from the request's own (client-chosen) parameters.
ASSERTED_PROFESSIONAL = "mes_asserted_professional"


def oauth_text(message: str) -> str:
    """`message` within what RFC 6749 §5.2 allows in `error_description` (printable ASCII, no
    `"` nor `\\`): the accents dropped, the French quotation marks as plain ones."""
    quoted = message.replace("« ", "'").replace(" »", "'").replace("«", "'").replace("»", "'")
    folded = unicodedata.normalize("NFKD", quoted.replace("’", "'"))
    text = "".join(c for c in folded if not unicodedata.combining(c))
    text = text.replace('"', "'").replace("\\", "/")
    return "".join(c for c in text if 0x20 <= ord(c) <= 0x7E).strip()


def token_endpoint_audiences(request: Any) -> set[str]:
    """The `aud` values accepted at the token endpoint (RFC 7523 §3 item 3): its URL exactly as
    the discovery documents advertise it (django-oauth-toolkit's issuer's scheme and host, the
    fixed MES_OIDC_ISSUER behind a proxy), with or without its slash."""
    issuer = urlsplit(oauth2_settings.oidc_issuer(request))
    url = f"{issuer.scheme}://{issuer.netloc}{reverse('oauth2_provider:token')}"
    return {url, url.rstrip("/")}


class JwtBearerGrant(GrantTypeBase):
    """RFC 7523 §2.1 for oauthlib: a confidential client exchanges its signed assertion of the
    acting professional for an access token bound to them. The assertion itself is checked by
    the request validator's `validate_jwt_bearer` (mes.fhir.auth.oauth), which reuses
    mes.fhir.auth.assertion.checked_assertion."""

    def create_token_response(self, request: Any, token_handler: Any) -> tuple[Any, str, int]:
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as e:
            headers.update(e.headers)
            return headers, e.json, e.status_code
        token = token_handler.create_token(request, refresh_token=False)
        for modifier in self._token_modifiers:
            token = modifier(token)
        self.request_validator.save_token(token, request)
        return headers, json.dumps(token), 200

    def validate_token_request(self, request: Any) -> None:
        for validator in self.custom_validators.pre_token:
            validator(request)
        if request.grant_type != JWT_BEARER:
            raise errors.UnsupportedGrantTypeError(request=request)
        for param in ("grant_type", "scope", "assertion"):
            if param in request.duplicate_params:
                raise errors.InvalidRequestError(
                    description=f"Duplicate {param} parameter.", request=request
                )
        if not getattr(request, "assertion", None):
            raise errors.InvalidRequestError(
                description="Missing assertion parameter (RFC 7523 2.1).", request=request
            )
        # Only a confidential client, authenticated: the assertion proves who acts, not who calls.
        self.validate_client_confidential(request)
        self.validate_grant_type(request)
        # The scope before the assertion: a request refused for its scope spends no jti.
        self.validate_scopes(request)
        self.request_validator.validate_jwt_bearer(request)
        request.user = None  # no resource owner's account: the binding is AssertedToken's
        for validator in self.custom_validators.post_token:
            validator(request)


class MesServer(OpenIdServer):
    """oauthlib's OpenID Connect server (what django-oauth-toolkit uses with OIDC enabled) with
    the jwt-bearer grant added at the token endpoint."""

    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        self.jwt_bearer_grant = JwtBearerGrant(request_validator)
        self._grant_types[JWT_BEARER] = self.jwt_bearer_grant


def bound_professional(entry: TokenEntry, token_id: int) -> Professional | None:
    """The professional a client-credentials token was bound to by the jwt-bearer grant, or
    None (a plain client-credentials token). Looked up once per token and process, kept in the
    token's cache entry (its `professional` slot, unused for tokens without a user)."""
    if not entry.professional_loaded:
        entry.professional = (
            Professional.objects.select_related("organisation", "user")
            .filter(asserted_tokens__access_token_id=token_id)
            .first()
        )
        entry.professional_loaded = True
    return entry.professional


def bind(access_token: Any, professional: Professional) -> AssertedToken:
    """Bind a freshly issued access token to the asserted professional."""
    return AssertedToken.objects.create(access_token=access_token, professional=professional)
