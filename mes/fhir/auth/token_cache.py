"""What does not change within an access token's life, kept per process (issue 12 §6).

Every FHIR request still reads its access token's row (one indexed query on the checksum, the
token's user's `is_active` joined in): a token revoked (django-oauth-toolkit deletes its row),
expired, or whose user was deactivated is refused at once, by every process, with no shared
cache to invalidate. What the row points to and does not change while the token lives is kept
here for MES_FHIR_TOKEN_CACHE_SECONDS: its application and registered FhirClient (with the
structure), the professional the token was issued to, and the professionals a structure's server
named. A change to any of them (or a revocation) in this process empties the cache at once
(signals below); in the other processes it lasts at most MES_FHIR_TOKEN_CACHE_SECONDS
(docs/decisions.md « API : vitesse »).

The access decision is never cached: the patient's choices (blocking, masking, authorisation)
are read on every request by mes.access.decision.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from mes.fhir.mhd import authors
from mes.fhir.models import FhirClient
from mes.identity.models import Organisation, Professional

# A process keeps at most this many tokens (a few thousand live tokens at most per process).
MAX_ENTRIES = 5000


@dataclass
class TokenEntry:
    deadline: float
    application: Application | None
    client: FhirClient | None
    # The professional the token was issued to (authorization code), when looked up.
    professional: Professional | None = None
    professional_loaded: bool = False
    # Structure servers (client credentials): the professionals named by RPPS.
    named: dict[str, Professional | None] = field(default_factory=dict)


_entries: dict[str, TokenEntry] = {}


def checksum(raw_token: str) -> str:
    """The token's lookup key, as django-oauth-toolkit stores it (SHA-256 of the raw token)."""
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def _token_sql() -> str:
    token = AccessToken._meta
    user = get_user_model()._meta
    q = connection.ops.quote_name
    t = q(token.db_table)
    u = q(user.db_table)
    user_pk = user.pk.column if user.pk is not None else "id"
    # Only the models' own table and column names are formatted in; the values are bound.
    return (
        f"SELECT {t}.{q('id')}, {t}.{q('user_id')}, {t}.{q('application_id')}, "  # noqa: S608
        f"{t}.{q('scope')}, {t}.{q('resource')}, {u}.{q('is_active')} "
        f"FROM {t} LEFT OUTER JOIN {u} ON ({t}.{q('user_id')} = {u}.{q(user_pk or 'id')}) "
        f"WHERE {t}.{q('token_checksum')} = %s AND {t}.{q('expires')} > %s"
    )


@dataclass(frozen=True)
class LiveToken:
    """An access token found valid now: the row's facts and what the cache keeps for it."""

    token: AccessToken
    entry: TokenEntry
    user_active: bool
    restricted: bool  # RFC 8707 resource indicators: the audience check is django-oauth-toolkit's


def live_token(raw_token: str) -> LiveToken | None:
    """The token if it exists and has not expired (None otherwise). One query, written in SQL
    rather than through the ORM: it runs on every request of the API."""
    key = checksum(raw_token)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [key, connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    if row is None:
        _entries.pop(key, None)
        return None
    token_id, user_id, application_id, scope, resource, is_active = row
    token = AccessToken(
        id=token_id, user_id=user_id, application_id=application_id, scope=scope or ""
    )
    entry = _entry(key, application_id)
    token.application = entry.application
    restricted = resource not in (None, "", "[]")
    return LiveToken(
        token=token,
        entry=entry,
        user_active=bool(is_active) if user_id is not None else True,
        restricted=restricted,
    )


def _entry(key: str, application_id: int | None) -> TokenEntry:
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and entry.deadline > now:
        return entry
    application = client = None
    if application_id is not None:
        client = (
            FhirClient.objects.select_related("organisation", "application")
            .filter(application_id=application_id)
            .first()
        )
        application = (
            client.application if client else Application.objects.filter(pk=application_id).first()
        )
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    entry = TokenEntry(
        deadline=now + settings.MES_FHIR_TOKEN_CACHE_SECONDS,
        application=application,
        client=client,
    )
    _entries[key] = entry
    return entry


def token_professional(entry: TokenEntry, user_id: int) -> Professional | None:
    """The professional an authorization-code token was issued to (kept with the token)."""
    if not entry.professional_loaded:
        entry.professional = (
            Professional.objects.select_related("organisation", "user")
            .filter(user_id=user_id)
            .first()
        )
        entry.professional_loaded = True
    return entry.professional


def named_professional(
    entry: TokenEntry, organisation: Organisation, rpps: str
) -> Professional | None:
    """The member of the client's structure with this RPPS (kept with the token)."""
    if rpps not in entry.named:
        entry.named[rpps] = (
            Professional.objects.select_related("organisation", "user")
            .filter(rpps=rpps, organisation=organisation)
            .first()
        )
    return entry.named[rpps]


def clear(**_: Any) -> None:
    """Forget everything (a professional, a client, a structure or a user changed)."""
    _entries.clear()


def forget_token(sender: Any, instance: AccessToken, **_: Any) -> None:
    """A revoked token (django-oauth-toolkit deletes its row) is forgotten at once."""
    _entries.pop(instance.token_checksum or "", None)


def connect() -> None:
    post_delete.connect(forget_token, sender=AccessToken, dispatch_uid="mes-fhir-token-forget")
    for model in (Professional, FhirClient, Organisation, Application, get_user_model()):
        for signal in (post_save, post_delete):
            signal.connect(clear, sender=model, dispatch_uid=f"mes-fhir-token-{model.__name__}")
    # The authors of the search pages (mhd/authors.py): same life, same invalidation.
    for model in (Professional, Organisation):
        for signal in (post_save, post_delete):
            signal.connect(
                authors.clear, sender=model, dispatch_uid=f"mes-fhir-authors-{model.__name__}"
            )
