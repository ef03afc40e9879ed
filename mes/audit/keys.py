"""The trace's keys, kept outside the database (like the master key of mes.vault).

`MES_AUDIT_KEY` (or `MES_AUDIT_KEY_FILE`) holds one or more keys, base64 of at least 32 random
bytes, separated by commas or new lines. The first one seals new rows (HMAC-SHA256) and signs
the checkpoints (an Ed25519 key derived from it); the others are retired keys, kept only to
verify the rows and checkpoints they sealed. Each row carries the id of its key (a fingerprint,
never the key), so rotating means putting a new key first and keeping the old ones after it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from mes.lib.secrets import fingerprint, parse_key_list, read_setting

KEY_MIN_BYTES = 32
_CHECKPOINT_INFO = b"mes-audit-checkpoint-ed25519"


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes

    def mac(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def signing_key(self) -> Ed25519PrivateKey:
        """The checkpoints' signing key, derived from this key (one secret to keep, not two)."""
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_CHECKPOINT_INFO).derive(
            self.secret
        )
        return Ed25519PrivateKey.from_private_bytes(seed)

    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key().public_key()


@dataclass(frozen=True)
class Keyring:
    current: AuditKey
    by_id: dict[str, AuditKey]

    def get(self, key_id: str) -> AuditKey | None:
        return self.by_id.get(key_id)


def key_id_of(secret: bytes) -> str:
    """A short public fingerprint of a key: which key sealed a row, without revealing it."""
    return fingerprint(secret, domain=b"mes-audit-key-id:")


def parse_keys(raw: str) -> Keyring:
    """Read the setting's text; refuse anything but base64 keys of at least 32 bytes."""
    secrets = parse_key_list(raw, setting="MES_AUDIT_KEY", sizes=(KEY_MIN_BYTES, None))
    keys = [AuditKey(key_id_of(secret), secret) for secret in secrets]
    return Keyring(current=keys[0], by_id={k.key_id: k for k in keys})


@lru_cache(maxsize=4)
def _keyring_from(raw: str, path: str) -> Keyring:
    return parse_keys(read_setting(raw, path))


def keyring() -> Keyring:
    """The configured keys (read once per distinct setting, so a rotation in tests is seen)."""
    return _keyring_from(settings.MES_AUDIT_KEY, settings.MES_AUDIT_KEY_FILE)
