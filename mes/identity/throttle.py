"""Slowing down sign-in guessing without ever locking the owner out (issue 13 item 5).

Two counters of recent failures, kept in the database so that every worker process shares them:

- per client address: past a free allowance, each further attempt from that address must wait
  a delay that doubles with every failure (bounded): a guessing script slows to a crawl while
  people elsewhere are untouched;
- per identifier typed (known or not, so that it says nothing about which accounts exist):
  past a free allowance the password is no longer checked on its own; it is checked only
  together with a one-time code asked for first (« Recevoir un code d'abord ») that only the
  owner receives, or the owner uses a passkey. An attacker can make the owner take that other
  road, never shut the door on them.

Why not django-axes or django-ratelimit: see docs/decisions.md (sign-in section).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import SignInFailure

_KEY_SALT = "mes.identity.throttle"
Scope = SignInFailure.Scope


def client_address(request: HttpRequest) -> str:
    """The address the request came from, IPv6 taken by its /64 (one subscriber's network).

    REMOTE_ADDR only: a reverse proxy must hand the real address to the application server
    (gunicorn's --forwarded-allow-ips), never an X-Forwarded-For header anyone can forge.
    """
    raw = str(request.META.get("REMOTE_ADDR") or "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "inconnue"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(scope: str, value: str) -> str:
    return salted_hmac(_KEY_SALT, f"{scope}:{value}", algorithm="sha256").hexdigest()


def normalised_identifier(identifier: str) -> str:
    return identifier.strip().casefold()


def record_failure(scope: str, value: str, *, now: datetime | None = None) -> None:
    """Count one failure; forget those older than the window (the table stays small)."""
    now = now or timezone.now()
    SignInFailure.objects.create(scope=scope, key=_key(scope, value), at=now)
    SignInFailure.objects.filter(at__lt=now - settings.MES_SIGNIN_WINDOW).delete()


def clear_failures(scope: str, value: str) -> None:
    """The owner got in: their identifier starts afresh (the address keeps its count)."""
    SignInFailure.objects.filter(scope=scope, key=_key(scope, value)).delete()


def recent_failures(scope: str, value: str, *, now: datetime | None = None) -> list[datetime]:
    """The times of the failures within the window, oldest first."""
    now = now or timezone.now()
    return list(
        SignInFailure.objects.filter(
            scope=scope, key=_key(scope, value), at__gte=now - settings.MES_SIGNIN_WINDOW
        )
        .order_by("at")
        .values_list("at", flat=True)
    )


@dataclass(frozen=True)
class Wait:
    """How long the client must still wait before its next attempt (zero: go ahead)."""

    seconds: int

    @property
    def required(self) -> bool:
        return self.seconds > 0


def wait_before_next(scope: str, value: str, *, free: int, now: datetime | None = None) -> Wait:
    """Past `free` failures, the next attempt waits BASE_DELAY × 2^(failures beyond free − 1)
    after the last failure, at most MAX_DELAY."""
    now = now or timezone.now()
    failures = recent_failures(scope, value, now=now)
    beyond = len(failures) - free
    if beyond <= 0:
        return Wait(0)
    base = settings.MES_SIGNIN_BASE_DELAY.total_seconds()
    delay = min(base * 2 ** min(beyond - 1, 30), settings.MES_SIGNIN_MAX_DELAY.total_seconds())
    remaining = (failures[-1] + timedelta(seconds=delay) - now).total_seconds()
    return Wait(max(0, math.ceil(remaining)))


def address_wait(address: str, *, now: datetime | None = None) -> Wait:
    return wait_before_next(
        Scope.ADDRESS, address, free=settings.MES_SIGNIN_ADDRESS_FREE_FAILURES, now=now
    )


def identifier_needs_code_first(identifier: str, *, now: datetime | None = None) -> bool:
    """True once the identifier collected too many wrong passwords within the window."""
    failures = recent_failures(Scope.ACCOUNT, normalised_identifier(identifier), now=now)
    return len(failures) >= settings.MES_SIGNIN_ACCOUNT_FREE_FAILURES


class Attempt(StrEnum):
    """What was being tried, for the wait message: the sign-in, or the enrolment pages' entry
    of a provisional code or of the carte Vitale data (they share the address counter)."""

    SIGN_IN = "de connexion"
    CODE = "de saisie de code"
    CARD = "de saisie de carte Vitale"


def wait_message(wait: Wait, attempt: Attempt = Attempt.SIGN_IN) -> str:
    """« Trop de tentatives de connexion… Réessayez dans N secondes / minutes. »"""
    if wait.seconds < 60:
        amount = f"{wait.seconds} seconde{'s' if wait.seconds > 1 else ''}"
    else:
        minutes = math.ceil(wait.seconds / 60)
        amount = f"{minutes} minute{'s' if minutes > 1 else ''}"
    return f"Trop de tentatives {attempt} depuis votre connexion internet. Réessayez dans {amount}."


def token_wait(address: str, client_id: str, *, now: datetime | None = None) -> Wait:
    """The OAuth endpoints that authenticate a client: the longer of the address's and the
    client id's waits (an unknown client id counts like a known one)."""
    by_address = wait_before_next(
        Scope.TOKEN_ADDRESS, address, free=settings.MES_TOKEN_ADDRESS_FREE_FAILURES, now=now
    )
    by_client = wait_before_next(
        Scope.TOKEN_CLIENT, client_id, free=settings.MES_TOKEN_CLIENT_FREE_FAILURES, now=now
    )
    return max(by_address, by_client, key=lambda wait: wait.seconds)
