"""X-Forwarded-Proto is believed only from the declared reverse proxy (issue 13 item 7).

Django's SECURE_PROXY_SSL_HEADER believes the header from whoever sends it; a client that
reaches the application directly could then pass for HTTPS. This middleware, first in the
chain, drops the header unless the peer is one of MES_TRUSTED_PROXIES.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.safety import trusted_networks


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks = trusted_networks(settings.MES_TRUSTED_PROXIES)

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_FORWARDED_PROTO" in request.META and not self._trusted(
            request.META.get("REMOTE_ADDR", "")
        ):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)
