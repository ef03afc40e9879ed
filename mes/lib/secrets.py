"""Keys kept outside the database, given as one setting that lists them: the first seals what is
written now, the others are retired keys kept to read what they sealed (rotation = put a new key
first, keep the old ones after it, re-seal, then drop them). Used by the trace (mes.audit.keys)
and the vault's master key (mes.vault.store)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def read_setting(raw: str, path: str) -> str:
    """The setting's text, or the file's when only the file is given."""
    if not raw and path:
        return Path(path).read_text()
    return raw


def parse_key_list(raw: str, *, setting: str, sizes: tuple[int, int | None]) -> list[bytes]:
    """The base64 keys of `raw`, separated by commas or new lines, newest first; each must be
    between sizes[0] and sizes[1] bytes (None: no upper bound). Refuses anything else."""
    smallest, largest = sizes
    parts = [p.strip() for p in raw.replace("\n", ",").split(",") if p.strip()]
    if not parts:
        raise ImproperlyConfigured(
            f"{setting} (ou {setting}_FILE) doit contenir une clé : base64 de "
            f"{smallest} octets aléatoires{' ou plus' if largest is None else ''}."
        )
    keys = []
    for number, part in enumerate(parts, start=1):
        try:
            secret = base64.b64decode(part, validate=True)
        except binascii.Error as exc:
            raise ImproperlyConfigured(
                f"{setting} : la clé n°{number} n'est pas du base64 valide."
            ) from exc
        if len(secret) < smallest or (largest is not None and len(secret) > largest):
            wanted = f"{smallest}" if largest == smallest else f"au moins {smallest}"
            raise ImproperlyConfigured(
                f"{setting} : la clé n°{number} fait {len(secret)} octets ; il en faut {wanted}."
            )
        keys.append(secret)
    return keys


def fingerprint(secret: bytes, *, domain: bytes) -> str:
    """A short public id of a key: which key sealed a row, without revealing the key."""
    return hashlib.sha256(domain + secret).hexdigest()[:16]
