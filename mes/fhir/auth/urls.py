"""The OAuth2 / OpenID Connect provider, mounted at the site root (docs/fhir-api.md).

/o/authorize/ needs the professional's Web PS session (its own login redirect to `pro:login`), or
for a catalogue service's client the citizen's portal session (the pairing consent);
every other endpoint authenticates the client (token, revoke, introspect) or the bearer token
(userinfo), or is a public discovery document. None of them goes through the portal's
LoginRequiredMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, path, re_path
from oauth2_provider import views as oauth_views

from mes.identity.oauth_throttle import throttled

from .oauth import (
    HonestDiscoveryView,
    HonestServerMetadataView,
    OwnTokenIntrospectView,
    authorize,
)

app_name = "oauth2_provider"


def _declared(view: Callable[..., Any], access: str) -> Callable[..., Any]:
    wrapped = login_not_required(view)
    wrapped.mes_access = access  # type: ignore[attr-defined]
    return wrapped


urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "o/authorize/",
        # A professional's client: the Web PS login; a catalogue service's: the citizen's
        # pairing consent (mes/fhir/auth/oauth.py `authorize`).
        _declared(authorize, "professional"),
        name="authorize",
    ),
    path("o/token/", _declared(throttled(oauth_views.TokenView.as_view()), "public"), name="token"),
    path(
        "o/revoke_token/",
        _declared(throttled(oauth_views.RevokeTokenView.as_view()), "public"),
        name="revoke-token",
    ),
    path(
        "o/introspect/",
        _declared(throttled(OwnTokenIntrospectView.as_view()), "public"),
        name="introspect",
    ),
    path(
        "o/userinfo/",
        _declared(oauth_views.UserInfoView.as_view(), "public"),
        name="user-info",
    ),
    path(
        "o/.well-known/jwks.json",
        _declared(oauth_views.JwksInfoView.as_view(), "public"),
        name="jwks-info",
    ),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        _declared(HonestDiscoveryView.as_view(), "public"),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        _declared(HonestServerMetadataView.as_view(), "public"),
        name="oauth-server-metadata",
    ),
]
