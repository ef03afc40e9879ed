"""Throttling of the OAuth endpoints that authenticate a client (token, revocation,
introspection): issue 13 item 5.

Guessing a client secret must stay slow for whoever tries: the check itself is now fast (a
salted SHA-256, mes/fhir/auth/client_secrets.py; an Argon2 check of about 370 ms before), so the
wait is the throttle's, not the hash's. Past a free allowance
of failed client authentications (or refused grants) per client address and per client id,
further requests wait a doubling delay and are answered 429 at once, before any hashing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse

from . import throttle

# Errors that mean "a secret, a code or a refresh token was guessed wrong" (RFC 6749 §5.2).
COUNTED_ERRORS = {"invalid_client", "invalid_grant"}


def client_id_of(request: HttpRequest) -> str:
    """The client id the request claims: HTTP Basic (RFC 6749 §2.3.1) or the form field."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote(decoded.partition(":")[0])
    return str(request.POST.get("client_id", "")) if request.method == "POST" else ""


def _failed(response: HttpResponse) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code != 400:
        return False
    try:
        error = json.loads(response.content or b"{}").get("error")
    except (ValueError, AttributeError):
        return False
    return error in COUNTED_ERRORS


def throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an OAuth endpoint: refuse at once while the client must wait, count failures."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address = throttle.client_address(request)
        client_id = client_id_of(request)
        wait = throttle.token_wait(address, client_id)
        if wait.required:
            refused = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": (
                        "Trop de tentatives d'authentification du client : réessayez dans "
                        f"{wait.seconds} s."
                    ),
                },
                status=429,
            )
            refused["Retry-After"] = str(wait.seconds)
            refused["Cache-Control"] = "no-store"
            return refused
        response = view(request, *args, **kwargs)
        if _failed(response):
            throttle.record_failure(throttle.Scope.TOKEN_ADDRESS, address)
            throttle.record_failure(throttle.Scope.TOKEN_CLIENT, client_id)
        return response

    return wrapper
