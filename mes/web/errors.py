"""Error pages of both web portals, in French and in the service's look (issue 8 item 4).

- 404 and 403 show the same « Page introuvable » page with the same 404 status: a refusal looks
  exactly like an absence (DESIGN.md §4), whatever raised it.
- 400, 405 and 500 say what happened and offer the way back.
- A CSRF failure (a form left open too long, cookies cleared) on a login form starts a fresh
  login with a short explanation instead of failing; elsewhere it says the page expired.
- The Web PS (/pro/...) gets its own look and its own way back; the APIs under /fhir/ and the
  OAuth endpoints answer JSON, never an HTML page.

The handlers are wired in config/urls.py (handler400...) and settings.CSRF_FAILURE_VIEW; the
405 page is put in place by MethodNotAllowedPageMiddleware since Django's
`require_http_methods` answers an empty body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

API_PREFIXES = ("/fhir/", "/o/", "/.well-known/")
LOGIN_URL_NAMES = {
    "portal": ("portal:login", "portal:login_code"),
    "pro": ("pro:login", "pro:login_code"),
}
STALE_LOGIN_MESSAGE = (
    "Votre page de connexion était restée ouverte trop longtemps\u00a0: par sécurité, la connexion "
    "recommence. Saisissez à nouveau votre identifiant et votre mot de passe."
)


@dataclass(frozen=True)
class ErrorPage:
    status: int
    title: str
    message: str
    hint: str = ""


NOT_FOUND = ErrorPage(
    404,
    "Page introuvable",
    "La page demandée n'existe pas ou n'est pas accessible avec ce compte.",
    "Si vous avez suivi un lien, il a pu expirer ou être mal copié. Vérifiez l'adresse, ou "
    "repartez de l'accueil.",
)
BAD_REQUEST = ErrorPage(
    400,
    "Demande incorrecte",
    "La demande envoyée au serveur est incomplète ou mal formée\u00a0: elle n'a pas été traitée et "
    "rien n'a été enregistré.",
    "Revenez à la page précédente et réessayez.",
)
METHOD_NOT_ALLOWED = ErrorPage(
    405,
    "Action impossible depuis cette adresse",
    "Cette adresse ne s'ouvre pas directement\u00a0: elle sert à envoyer un formulaire. "
    "Rien n'a été enregistré.",
    "Revenez à la page précédente et utilisez le bouton prévu.",
)
SERVER_ERROR = ErrorPage(
    500,
    "Le service rencontre un problème",
    "Une erreur inattendue est survenue de notre côté. L'incident a été enregistré ; vos "
    "données n'ont pas été modifiées par cette demande.",
    "Réessayez dans quelques minutes. Si le problème persiste, contactez le support.",
)
CSRF_EXPIRED = ErrorPage(
    403,
    "Cette page a expiré",
    "Par sécurité, le formulaire envoyé n'était plus valable (page restée ouverte longtemps, "
    "ou cookies effacés)\u00a0: rien n'a été enregistré.",
    "Revenez à la page, rechargez-la, puis recommencez votre saisie.",
)


def _portal_of(request: HttpRequest) -> str:
    try:
        pro_root = reverse("pro:home")
    except NoReverseMatch:  # pragma: no cover - the Web PS is always installed
        return "portal"
    return "pro" if request.path.startswith(pro_root) else "portal"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def _api_response(page: ErrorPage) -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "exception", "diagnostics": page.title}],
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=page.status,
        content_type="application/fhir+json; charset=utf-8",
    )


def _back_link(request: HttpRequest) -> str:
    """The page the visitor came from, if it is one of ours."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def render_error(
    request: HttpRequest, page: ErrorPage, *, with_request: bool = True
) -> HttpResponse:
    """The error page in the look of the portal the URL belongs to.

    Without the request (the 500 page), no context processor runs: a page about a failure must
    not need the database to show.
    """
    if _is_api(request):
        return _api_response(page)
    portal = _portal_of(request)
    context = {
        "page": page,
        "portal": portal,
        "base_template": "pro/base.html" if portal == "pro" else "portal/base.html",
        "home_url": reverse("pro:home" if portal == "pro" else "portal:home"),
        "back_url": _back_link(request),
        "help_url": reverse("portal:help"),
    }
    template = loader.get_template("web/errors/error.html")
    html = template.render(context, request) if with_request else template.render(context)
    return HttpResponse(html, status=page.status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A refusal looks like an absence: same page, same status (DESIGN.md §4)."""
    return render_error(request, NOT_FOUND)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return render_error(request, SERVER_ERROR, with_request=False)
    except Exception:  # the page itself failed: a plain French page, never Django's
        logger.exception("the 500 page could not be rendered")
        return HttpResponse(
            "<!doctype html><html lang='fr'><title>Le service rencontre un problème</title>"
            "<h1>Le service rencontre un problème</h1><p>Réessayez dans quelques minutes.</p>",
            status=500,
        )


def _login_url_names(request: HttpRequest) -> tuple[str, str]:
    return LOGIN_URL_NAMES[_portal_of(request)]


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW. On a login form, start a fresh login (nothing was sent that
    matters: the password is typed again); elsewhere, say the page expired, with the way back."""
    # The URL was resolved before the CSRF check ran (process_view), so its name is known.
    match = request.resolver_match
    login_names = _login_url_names(request)
    if match is not None and match.view_name in login_names:
        url = reverse(login_names[0])
        next_url = request.GET.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            url = f"{url}?{urlencode({'next': next_url})}"
        messages.info(request, STALE_LOGIN_MESSAGE)
        return HttpResponseRedirect(url)
    return render_error(request, CSRF_EXPIRED)


class MethodNotAllowedPageMiddleware:
    """Django's `require_http_methods` answers 405 with an empty body: a blank page. Web pages
    get the French 405 page instead (the Allow header is kept); the APIs keep their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content or _is_api(request):
            return response
        page = render_error(request, METHOD_NOT_ALLOWED)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page
