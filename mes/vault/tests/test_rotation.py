"""Master-key rotation: new key first, old key kept, re-wrap, then the old key may go."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from mes.vault import store
from mes.vault.models import PatientKey
from mes.vault.rotation import left_to_rotate, rotate_master_key

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def old_key(settings):
    key = new_key()
    settings.MES_MASTER_KEY = key
    settings.MES_MASTER_KEY_FILE = ""
    return key


def stored(n: int) -> list[tuple[uuid.UUID, uuid.UUID, bytes]]:
    blobs = []
    for i in range(n):
        patient, blob = uuid.uuid4(), uuid.uuid4()
        data = f"compte rendu n°{i}".encode()
        store.put(patient, blob, data)
        blobs.append((patient, blob, data))
    return blobs


def readable(blobs) -> bool:
    return all(store.get(p, b) == data for p, b, data in blobs)


def test_rotation_rewraps_every_key_and_the_old_key_can_then_go(settings, old_key):
    blobs = stored(3)
    key_ids = set(PatientKey.objects.values_list("wrapped_with", flat=True))
    assert key_ids == {store.master_key_id(base64.b64decode(old_key))}

    fresh = new_key()
    settings.MES_MASTER_KEY = f"{fresh},{old_key}"
    assert readable(blobs)  # old data keys still open with the retired key
    assert left_to_rotate() == 3
    more = stored(1)  # new data keys are wrapped by the new key at once
    assert left_to_rotate() == 3

    report = rotate_master_key()
    assert (report.rewrapped, report.unreadable) == (3, [])
    assert left_to_rotate() == 0
    assert rotate_master_key().rewrapped == 0  # idempotent

    settings.MES_MASTER_KEY = fresh  # the old key leaves the setting
    assert readable(blobs + more)


def test_keys_wrapped_before_fingerprints_were_recorded_are_found(settings, old_key):
    blobs = stored(2)
    PatientKey.objects.update(wrapped_with="")
    settings.MES_MASTER_KEY = f"{new_key()},{old_key}"
    assert readable(blobs)
    assert rotate_master_key().rewrapped == 2
    settings.MES_MASTER_KEY = settings.MES_MASTER_KEY.split(",")[0]
    assert readable(blobs)


def test_a_key_no_configured_master_key_opens_is_reported_and_left_alone(settings, old_key):
    blobs = stored(2)
    settings.MES_MASTER_KEY = new_key()  # the operator forgot to keep the old key
    report = rotate_master_key()
    assert report.rewrapped == 0
    assert sorted(report.unreadable) == sorted(str(p) for p, _, _ in blobs)
    with pytest.raises(store.VaultError):
        store.get(*blobs[0][:2])
    settings.MES_MASTER_KEY = f"{settings.MES_MASTER_KEY},{old_key}"  # put it back
    assert rotate_master_key().rewrapped == 2
    assert readable(blobs)


def test_destroyed_keys_are_not_rotated(settings, old_key):
    blobs = stored(2)
    store.destroy_key(blobs[0][0])
    settings.MES_MASTER_KEY = f"{new_key()},{old_key}"
    assert left_to_rotate() == 1
    assert rotate_master_key().rewrapped == 1


def test_the_command_reports_and_checks(settings, old_key, capsys):
    stored(2)
    settings.MES_MASTER_KEY = f"{new_key()},{old_key}"
    with pytest.raises(CommandError, match="Rotation inachevée"):
        call_command("vault_rotate_master_key", "--check")
    call_command("vault_rotate_master_key")
    assert "2 clé(s) de dossier rechiffrée(s)" in capsys.readouterr().out
    call_command("vault_rotate_master_key", "--check")
    assert "0 clé(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "doit contenir une clé"),
        ("pas-du-base64!", "n'est pas du base64 valide"),
        (base64.b64encode(b"court").decode(), "il en faut 32"),
    ],
)
def test_bad_master_key_settings_are_refused_clearly(settings, raw, message):
    settings.MES_MASTER_KEY = raw
    settings.MES_MASTER_KEY_FILE = ""
    with pytest.raises(ImproperlyConfigured, match=message):
        store.master_keys()
