"""The web half of passkeys, shared by the citizen portal and the Web PS: the relying party of
a request, the ceremony challenge kept in the session (single use, short-lived), and the JSON
body the browser script posts. The checks themselves live in mes.identity.passkeys."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from mes.identity.models import User
from mes.identity.passkeys import RelyingParty

CHALLENGE_KEY = "mes_webauthn_challenge"
MAX_BODY = 64 * 1024  # a WebAuthn answer is a few kilobytes


def relying_party(request: HttpRequest) -> RelyingParty:
    """The site's domain and origins: from settings when a deployment fixes them (several
    hosts, a proxy), else the request's own host (already checked against ALLOWED_HOSTS)."""
    origin = f"{request.scheme}://{request.get_host()}"
    rp_id = settings.MES_WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0].strip("[]")
    origins = list(settings.MES_WEBAUTHN_ORIGINS) or [origin]
    return RelyingParty(rp_id=rp_id, origins=origins)


def keep_challenge(request: HttpRequest, purpose: str, challenge: bytes) -> None:
    """Remember this ceremony's challenge; a new ceremony replaces the previous one."""
    request.session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "challenge": base64.b64encode(challenge).decode(),
        "expires": (timezone.now() + settings.MES_WEBAUTHN_TIMEOUT).isoformat(),
    }


def take_challenge(request: HttpRequest, purpose: str) -> bytes | None:
    """The challenge of the ceremony under way, forgotten as it is taken (an answer can be
    checked once only); None when there is none, it expired, or it was for something else."""
    kept = request.session.pop(CHALLENGE_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    try:
        expires = datetime.fromisoformat(str(kept["expires"]))
        challenge = base64.b64decode(str(kept["challenge"]))
    except (KeyError, ValueError):
        return None
    if expires <= timezone.now():
        return None
    return challenge


def posted_json(request: HttpRequest) -> dict[str, Any] | None:
    """The JSON object the script posted, or None when the body is not one (or too large)."""
    if len(request.body) > MAX_BODY:
        return None
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def options_response(options_json: str) -> JsonResponse:
    """The ceremony's options as the browser script expects them (never cached)."""
    response = JsonResponse(json.loads(options_json))
    response["Cache-Control"] = "no-store"
    return response


def refusal(message: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"ok": False, "message": message}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def signed_in_user(request: HttpRequest) -> User:
    """The login behind a view that requires one (patient_view, professional_view)."""
    user = request.user
    if not isinstance(user, User):  # the decorators guarantee it; fail closed regardless
        raise PermissionDenied
    return user
