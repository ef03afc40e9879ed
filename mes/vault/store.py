"""Encrypted blob store: AES-256-GCM with a per-patient data key (DESIGN.md §5).

Blob layout: b"MES1" | 12-byte nonce | ciphertext+tag; the associated data is the blob id (the
document id), so a blob moved onto another document fails to decrypt. Destroying a patient's key
makes every blob of theirs unreadable (crypto-shredding).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from mes.lib.secrets import fingerprint, parse_key_list, read_setting

from .models import PatientKey

MAGIC = b"MES1"
NONCE_BYTES = 12


class VaultError(Exception):
    """A blob could not be read back: tampered, moved, or its key destroyed."""


@dataclass(frozen=True)
class MasterKeys:
    """The master keys: the first wraps new data keys, the others are retired keys kept until a
    rotation (`mes vault_rotate_master_key`) has re-wrapped what they wrapped."""

    current: bytes
    retired: tuple[bytes, ...]

    @property
    def current_id(self) -> str:
        return master_key_id(self.current)

    def for_id(self, key_id: str) -> list[bytes]:
        """The key with this fingerprint, or every key (newest first) when unknown."""
        for key in (self.current, *self.retired):
            if key_id and master_key_id(key) == key_id:
                return [key]
        return [self.current, *self.retired]


def master_key_id(key: bytes) -> str:
    return fingerprint(key, domain=b"mes-master-key-id:")


@cache
def _keys_from(raw: str, path: str) -> MasterKeys:
    keys = parse_key_list(read_setting(raw, path), setting="MES_MASTER_KEY", sizes=(32, 32))
    return MasterKeys(current=keys[0], retired=tuple(keys[1:]))


def master_keys() -> MasterKeys:
    """The configured master keys (read once per distinct setting)."""
    return _keys_from(settings.MES_MASTER_KEY, settings.MES_MASTER_KEY_FILE)


def _wrap(patient_id: uuid.UUID, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_keys().current).encrypt(nonce, data_key, patient_id.bytes)


def _unwrap(patient_id: uuid.UUID, wrapped: bytes, wrapped_with: str = "") -> bytes:
    for key in master_keys().for_id(wrapped_with):
        try:
            return AESGCM(key).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], patient_id.bytes
            )
        except InvalidTag:
            continue
    raise VaultError("La clé du dossier est illisible (clé maîtresse erronée ?).")


def _data_key(patient_id: uuid.UUID, *, create: bool) -> bytes:
    row = PatientKey.objects.filter(patient_id=patient_id).first()
    if row is None:
        if not create:
            raise VaultError("Aucune clé pour ce dossier.")
        data_key = AESGCM.generate_key(bit_length=256)
        with transaction.atomic():
            row, created = PatientKey.objects.get_or_create(
                patient_id=patient_id,
                defaults={
                    "wrapped_key": _wrap(patient_id, data_key),
                    "wrapped_with": master_keys().current_id,
                },
            )
        if created:
            return data_key
    if row.destroyed_at or row.wrapped_key is None:
        raise VaultError("La clé de ce dossier a été détruite : ses documents sont illisibles.")
    return _unwrap(patient_id, bytes(row.wrapped_key), row.wrapped_with)


def _blob_name(patient_id: uuid.UUID, blob_id: uuid.UUID) -> str:
    # Names carry no filename from the user; two levels of fan-out keep directories small.
    p = patient_id.hex
    return f"{p[:2]}/{p}/{blob_id.hex}.bin"


def put(patient_id: uuid.UUID, blob_id: uuid.UUID, data: bytes) -> str:
    """Encrypt and store; returns the storage name."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = (
        MAGIC
        + nonce
        + AESGCM(_data_key(patient_id, create=True)).encrypt(nonce, data, blob_id.bytes)
    )
    name = _blob_name(patient_id, blob_id)
    storage = storages["vault"]
    if storage.exists(name):
        storage.delete(name)
    try:
        return storage.save(name, ContentFile(sealed))
    except OSError:
        # A full disk leaves a truncated file behind: never keep half a blob.
        with contextlib.suppress(OSError):
            storage.delete(name)
        raise


def get(patient_id: uuid.UUID, blob_id: uuid.UUID) -> bytes:
    """Read and decrypt, or raise VaultError: a changed byte never goes unnoticed."""
    with storages["vault"].open(_blob_name(patient_id, blob_id), "rb") as f:
        sealed = f.read()
    if not sealed.startswith(MAGIC):
        raise VaultError("Ce fichier chiffré n'a pas le format attendu.")
    nonce, ciphertext = (
        sealed[len(MAGIC) : len(MAGIC) + NONCE_BYTES],
        sealed[len(MAGIC) + NONCE_BYTES :],
    )
    try:
        return AESGCM(_data_key(patient_id, create=False)).decrypt(nonce, ciphertext, blob_id.bytes)
    except InvalidTag as exc:
        raise VaultError("Le contenu chiffré a été altéré : lecture refusée.") from exc


def delete(patient_id: uuid.UUID, blob_id: uuid.UUID) -> None:
    """Remove a blob written by a transaction that was then rolled back (the database forgets
    the row, not the file): nothing refers to it any more."""
    name = _blob_name(patient_id, blob_id)
    storage = storages["vault"]
    if storage.exists(name):
        storage.delete(name)


def destroy_key(patient_id: uuid.UUID) -> None:
    """Crypto-shredding: the wrapped key is erased; blobs stay but can never be decrypted."""
    PatientKey.objects.filter(patient_id=patient_id).update(
        wrapped_key=None, destroyed_at=timezone.now()
    )
