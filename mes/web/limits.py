"""What every request of the portal and the Web PS must respect before any view reads it
(issue 13 items 4 and 6): a body no larger than MES_REQUEST_MAX_BYTES, refused on its declared
length before a byte of it is read (413); no NUL or other control character in the path, the
query string, a header or a form-encoded body, and no bytes that are not UTF-8 there (400).

The API paths (MES_WEB_LIMITS_EXEMPT: /fhir/, OAuth) answer in their own formats and set their
own limits; these pages are for people, in French.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat

from mes.lib.text import has_control
from mes.web.middleware import CSP

FORM_ENCODED = "application/x-www-form-urlencoded"


def _page(status: int, title: str, message: str) -> HttpResponse:
    """A page that needs nothing from the request (it may be the malformed part)."""
    body = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} – Mon espace santé</title></head>"
        f"<body><main><h1>{escape(title)}</h1><p>{escape(message)}</p>"
        '<p><a href="/">Revenir à l\'accueil</a></p></main></body></html>'
    )
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    # Answered before the inner middleware: the same protections as every other page.
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = CSP
    response["X-Frame-Options"] = "DENY"
    return response


def too_large() -> HttpResponse:
    limit = filesizeformat(settings.MES_REQUEST_MAX_BYTES)
    return _page(
        413,
        "Envoi trop volumineux",
        f"Ce que vous avez envoyé dépasse la taille maximale acceptée ({limit}). Pour un "
        f"document, la taille maximale est de {filesizeformat(settings.MES_UPLOAD_MAX_BYTES)} : "
        "réduisez-le (par exemple en le numérisant en noir et blanc) puis réessayez.",
    )


def refused_characters() -> HttpResponse:
    return _page(
        400,
        "Caractères non acceptés",
        "La demande contient des caractères invisibles ou de contrôle (comme le caractère nul) "
        "qui ne sont pas acceptés. Retapez le texte sans le copier-coller depuis un autre "
        "logiciel, puis réessayez.",
    )


def _decoded(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _clean_text(raw: str, *, form: bool = False) -> bool:
    """A path, query string or form body: percent-decoded, it is UTF-8 with no control."""
    if form:
        raw = raw.replace("+", " ")
    text = _decoded(unquote_to_bytes(raw))
    return text is not None and not has_control(text)


def _header_clean(value: str) -> bool:
    # WSGI gives headers as latin-1: NUL and the other C0 controls are the same bytes.
    return not any((ord(c) < 0x20 and c != "\t") or c == "\x7f" for c in value)


def _headers_clean(request: HttpRequest) -> bool:
    return all(
        _header_clean(value)
        for name, value in request.META.items()
        if name.startswith("HTTP_") and isinstance(value, str)
    )


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(tuple(settings.MES_WEB_LIMITS_EXEMPT)):
            return self.get_response(request)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = -1
        if declared < 0:
            return _page(400, "Demande incorrecte", "La taille annoncée de l'envoi est invalide.")
        if declared > settings.MES_REQUEST_MAX_BYTES:
            return too_large()
        path_ok = not has_control(request.path_info)
        query = request.META.get("QUERY_STRING", "")
        if not (path_ok and _clean_text(query) and _headers_clean(request)):
            return refused_characters()
        if (
            request.method == "POST"
            and request.content_type == FORM_ENCODED
            and not _clean_text(_decoded(request.body) or "\x00", form=True)
        ):
            return refused_characters()
        return self.get_response(request)
