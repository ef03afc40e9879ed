from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Every asset is served by the application itself: no third party sees a page view.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.user.is_authenticated:
            # Health data never sits in a shared cache or the browser's back-forward cache.
            response.setdefault("Cache-Control", "no-store")
        return response


def allow_form_action(response: HttpResponse, origin: str | None) -> HttpResponse:
    """Let this page's forms end, through redirects, at `origin` too.

    Browsers apply `form-action` to every redirect that answers a form post (Chromium blocks the
    whole navigation): a login whose last redirect goes back to an OAuth client's registered
    redirect URI must name that client's origin. `origin` comes from a validated redirect URI
    only (mes.fhir.auth.oauth.redirect_origin_of)."""
    if origin:
        response["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response
