"""CORS for registered browser apps (issue 12 §2): django-cors-headers asks, for each request
with an `Origin`, whether it may answer it; it may when that origin is one a registered OAuth
client declared (django-oauth-toolkit's `Application.allowed_origins`, space-separated). No
origin is allowed by settings, no cookie crosses (CORS_ALLOW_CREDENTIALS False): a browser app
calls with its bearer token only."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from oauth2_provider.models import Application


def registered_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """django-cors-headers' `check_request_enabled` signal: the origin is a registered one."""
    # The signal also enables CORS on any path: only the API and token endpoints are opened.
    if not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return False
    origin = request.headers.get("Origin", "").strip()
    if not origin or origin == "null" or any(c.isspace() for c in origin):
        return False
    declared = Application.objects.filter(allowed_origins__contains=origin).values_list(
        "allowed_origins", flat=True
    )
    # `contains` pre-selects; the exact origin must be one of the declared ones.
    return any(origin in origins.split() for origins in declared)
