"""Start-up refuses unsafe settings (issue 13 item 7).

Called at the end of config/base.py outside the demo and debug modes, and again by the WSGI/ASGI
entry points and `mes serve` on the final settings (a deployment's own settings module may change
them). Every problem is named, in French, with what to do.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_MIN_LENGTH = 50
# An estimate (length × Shannon entropy per character) that a random key of 50 characters or
# more passes with room to spare (token_urlsafe(50): ~340; 64 hex digits: ~250) and that words,
# repeated characters or a short key do not.
SECRET_KEY_MIN_BITS = 180
# Fragments of the keys that circulate in examples, tutorials and this project's own tests.
KNOWN_EXAMPLE_FRAGMENTS = (
    "insecure",
    "not-for-production",
    "changeme",
    "change-me",
    "change_me",
    "example",
    "your-secret",
    "secret-key",
    "secret_key",
    "dummy",
    "xxxxxxxx",
)
KEY_ADVICE = 'générez-en une : python -c "import secrets; print(secrets.token_urlsafe(50))"'


def estimated_bits(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    per_char = -sum(c / n * math.log2(c / n) for c in counts.values())
    return per_char * n


def secret_key_problem(key: str) -> str | None:
    lowered = key.lower()
    if any(fragment in lowered for fragment in KNOWN_EXAMPLE_FRAGMENTS):
        return f"MES_SECRET_KEY est une clé d'exemple connue : {KEY_ADVICE}."
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return (
            f"MES_SECRET_KEY est trop courte ({len(key)} caractères, il en faut au moins "
            f"{SECRET_KEY_MIN_LENGTH}) : {KEY_ADVICE}."
        )
    if estimated_bits(key) < SECRET_KEY_MIN_BITS:
        return (
            f"MES_SECRET_KEY n'est pas assez aléatoire (caractères répétés ou mots) : {KEY_ADVICE}."
        )
    return None


def trusted_networks(
    values: Iterable[str],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """MES_TRUSTED_PROXIES: addresses or networks (CIDR) of the reverse proxy."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"MES_TRUSTED_PROXIES : « {value} » n'est ni une adresse IP ni un réseau (CIDR)."
            ) from exc
    return networks


def problems(config: Mapping[str, Any]) -> list[str]:
    """What is unsafe in these settings (a settings module's names and values)."""
    found = []
    key_problem = secret_key_problem(str(config.get("SECRET_KEY", "")))
    if key_problem:
        found.append(key_problem)
    if config.get("SECURE_PROXY_SSL_HEADER") and not config.get("MES_TRUSTED_PROXIES"):
        found.append(
            "X-Forwarded-Proto serait cru sans proxy déclaré : n'importe quel client pourrait se "
            "dire en HTTPS. Déclarez l'adresse du proxy inverse dans MES_TRUSTED_PROXIES."
        )
    try:
        trusted_networks(config.get("MES_TRUSTED_PROXIES") or [])
    except ImproperlyConfigured as exc:
        found.append(str(exc))
    return found


def refuse_unsafe(config: Mapping[str, Any]) -> None:
    found = problems(config)
    if found:
        raise ImproperlyConfigured(
            "Réglages dangereux, démarrage refusé :\n" + "\n".join(f"- {p}" for p in found)
        )


def refuse_unsafe_settings() -> None:
    """The same check on the final, loaded Django settings (outside demo and debug)."""
    from django.conf import settings

    if settings.DEBUG or getattr(settings, "MES_DEMO", False):
        return
    refuse_unsafe({name: getattr(settings, name) for name in dir(settings) if name.isupper()})
