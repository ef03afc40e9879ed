"""How OAuth client secrets are stored: a salted SHA-256 (HMAC), not the users' Argon2.

Every client secret is generated, never chosen by a person: django-oauth-toolkit's generator
(128 characters drawn from 62, about 760 bits) or `secrets.token_urlsafe(32)` (256 bits, the
demo). Such a value has no dictionary to try and no reuse elsewhere: what a memory-hard hash adds
for a password adds nothing here, while Argon2's 64 MiB and a third of a second of CPU on every
token request brought a web worker to 196 MB of its 200 MB under load. A salted HMAC-SHA256 is
as one-way for such a value and answers in microseconds (docs/decisions.md « Client secrets »),
like the SHA-256 the access and refresh tokens themselves are kept as.

Unkeyed on purpose: keyed by SECRET_KEY, replacing a leaked SECRET_KEY would lock out every
practice software and app at once, and a key adds nothing over 256 random bits. What makes this
hasher fit is the secret's length, so it refuses to hash anything shorter than MIN_LENGTH.

Registered in PASSWORD_HASHERS after the Argon2 hasher, so that Django identifies these hashes by
their prefix but never makes a user's password with it; django-oauth-toolkit uses it through
OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]. Secrets hashed before (Argon2) still verify, and are
re-hashed with this hasher at their next successful use (`rehash_if_needed`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.contrib.auth.hashers import (
    BasePasswordHasher,
    identify_hasher,
    make_password,
    mask_hash,
)
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes

ALGORITHM = "mes_client_secret_sha256"
# 32 characters: at least 190 bits from a 62-letter alphabet (token_urlsafe(32) gives 43).
MIN_LENGTH = 32


def _digest(salt: str, secret: str) -> str:
    return hmac.new(force_bytes(salt), force_bytes(secret), hashlib.sha256).hexdigest()


class ClientSecretHasher(BasePasswordHasher):
    """HMAC-SHA256 of an OAuth client secret under a random salt: `<algorithm>$<salt>$<hex>`.

    Fit only for long generated secrets: it has no work factor, on purpose, and refuses to hash
    a secret shorter than MIN_LENGTH (a person's choice, a typo) rather than store it weakly;
    the empty secret of a public client is hashed like any other."""

    algorithm = ALGORITHM

    def encode(self, password: str, salt: str) -> str:
        if password is None or not salt or "$" in salt:
            raise ValueError("Un secret et un sel sans « $ » sont nécessaires.")
        # Empty: a public client, which has no secret (django-oauth-toolkit hashes it anyway).
        if 0 < len(password) < MIN_LENGTH:
            raise ValueError(
                f"Un secret de client OAuth doit être généré aléatoirement et compter au moins "
                f"{MIN_LENGTH} caractères."
            )
        return f"{self.algorithm}${salt}${_digest(salt, password)}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError("Ce n'est pas un secret de client haché par ce hacheur.")
        return {"algorithm": algorithm, "salt": salt, "hash": digest}

    def verify(self, password: str, encoded: str) -> bool:
        """False for a wrong secret and for a malformed hash."""
        try:
            decoded = self.decode(encoded)
        except ValueError:
            return False
        return constant_time_compare(_digest(decoded["salt"], password), decoded["hash"])

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"], show=2),
            "hash": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        """No parameter to raise: a hash of this hasher stays as it is."""
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        """No work factor to even out between hashes: nothing to do."""


def needs_rehash(stored: str) -> bool:
    """Whether a stored client secret should be re-hashed once its owner proved it: made by
    another hasher (Argon2, before this one). A secret kept in clear on purpose
    (`hash_client_secret=False`: an HS256 signing key) is left as it is."""
    try:
        return identify_hasher(stored).algorithm != ALGORITHM
    except ValueError:
        return False


def rehash_if_needed(*, stored: str, secret: str) -> bool:
    """Re-hash with this hasher a client secret that was just checked right (`secret` matches
    `stored`); a legacy secret too short for it keeps its Argon2 hash.

    One UPDATE keyed on the old hash (unique: salted), so two token requests racing both write a
    valid hash and nothing else is touched. Returns whether a row was re-hashed."""
    # Imported here: Django loads this module through PASSWORD_HASHERS, maybe before the models.
    from oauth2_provider.models import Application

    if len(secret) < MIN_LENGTH or not needs_rehash(stored):
        return False
    fresh = make_password(secret, hasher=ALGORITHM)
    return Application.objects.filter(client_secret=stored).update(client_secret=fresh) > 0
