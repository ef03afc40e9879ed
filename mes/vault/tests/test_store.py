from __future__ import annotations

import uuid

import pytest
from django.core.files.storage import storages

from mes.vault import store


def test_roundtrip_and_ciphertext_differs_from_plaintext(db):
    patient, blob = uuid.uuid4(), uuid.uuid4()
    name = store.put(patient, blob, b"%PDF-1.4 secret")
    with storages["vault"].open(name, "rb") as f:
        assert b"secret" not in f.read()
    assert store.get(patient, blob) == b"%PDF-1.4 secret"


def test_one_changed_byte_fails_loudly(db):
    patient, blob = uuid.uuid4(), uuid.uuid4()
    name = store.put(patient, blob, b"%PDF-1.4 content")
    path = storages["vault"].path(name)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[-1] ^= 0x01
    with open(path, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(store.VaultError, match="altéré"):
        store.get(patient, blob)


def test_blob_moved_to_another_document_does_not_decrypt(db):
    patient, blob, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    name = store.put(patient, blob, b"data")
    storage = storages["vault"]
    with storage.open(name, "rb") as f:
        sealed = f.read()
    with open(storage.path(name).replace(blob.hex, other.hex), "wb") as f:
        f.write(sealed)
    with pytest.raises(store.VaultError):
        store.get(patient, other)


def test_destroyed_key_makes_blobs_unreadable(db):
    patient, blob = uuid.uuid4(), uuid.uuid4()
    store.put(patient, blob, b"data")
    store.destroy_key(patient)
    with pytest.raises(store.VaultError, match="détruite"):
        store.get(patient, blob)
