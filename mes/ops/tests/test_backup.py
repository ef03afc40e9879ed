"""Back up a running demo instance and restore it into an empty one (issue 16 §6): the same
documents, readable with the keys kept apart, and trace chains that verify. Each instance is a
real `mes` process over its own database (SQLite, or PostgreSQL when the suite runs on it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

MES = str(Path(sys.executable).with_name("mes"))
DIGESTS = """
import hashlib, json
from mes.records.models import Document
from mes.vault import store
from mes.vault.store import VaultError
def digest(d):
    try:
        return hashlib.sha256(store.get(d.patient_id, d.pk)).hexdigest()
    except (VaultError, OSError) as exc:
        return type(exc).__name__
print(json.dumps({str(d.pk): digest(d) for d in Document.objects.all()}))
"""


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MES_", "DJANGO_", "PROMETHEUS_")) and k != "DATABASE_URL"
    }


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two empty databases: SQLite files, or two PostgreSQL databases on the suite's server."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield "", ""
        return
    names = [f"mes_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(url, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with psycopg.connect(url, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def mes(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [MES, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if ok:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_a_backup_restores_into_an_empty_instance(
    tmp_path: Path, databases: tuple[str, str]
) -> None:
    url_a, url_b = databases
    source = {**_clean_env(), "MES_VAR_DIR": str(tmp_path / "a"), "MES_DEMO": "1"}
    if url_a:
        source["DATABASE_URL"] = url_a
    mes(source, "demo", "--load-only")
    mes(source, "backup", str(tmp_path / "backups"), "--keys", str(tmp_path / "keys"))
    before = json.loads(mes(source, "shell", "-c", DIGESTS).stdout.splitlines()[-1])
    assert sum(len(v) == 64 for v in before.values()) >= 20

    (folder,) = (tmp_path / "backups").iterdir()
    # The keys are apart from the backup, owner-only; the backup itself holds none.
    assert {p.name for p in folder.iterdir()} == {
        "manifest.json",
        "vault.tar",
        "database.pgdump" if url_a else "database.sqlite3",
    }
    master = tmp_path / "keys" / "master.key"
    assert master.stat().st_mode & 0o077 == 0

    target = {
        **_clean_env(),
        "MES_VAR_DIR": str(tmp_path / "b"),
        "MES_DEBUG": "1",
        "MES_SECRET_KEY": "restauration-" + uuid.uuid4().hex * 2,
        "MES_MASTER_KEY_FILE": str(master),
        "MES_OIDC_RSA_PRIVATE_KEY_FILE": str(tmp_path / "keys" / "oidc-rsa.key"),
    }
    for name in ("audit.key",):  # present once the trace is keyed
        if (tmp_path / "keys" / name).exists():
            target["MES_AUDIT_KEY_FILE"] = str(tmp_path / "keys" / name)
    if url_b:
        target["DATABASE_URL"] = url_b
    (tmp_path / "b").mkdir()
    restored = mes(target, "restore", str(folder))
    assert "Restauration terminée" in restored.stdout

    after = json.loads(mes(target, "shell", "-c", DIGESTS).stdout.splitlines()[-1])
    assert after == before
    verify = mes(target, "audit", "verify")
    assert verify.returncode == 0
    # Nothing left to migrate: the restored schema is the code's.
    assert "No migrations to apply" in mes(target, "migrate", "--no-input").stdout

    # A second restore over the now-populated instance is refused, and changes nothing.
    again = mes(target, "restore", str(folder), ok=False)
    assert again.returncode != 0
    assert "n'est pas vide" in again.stderr


def test_an_altered_backup_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    source = {**_clean_env(), "MES_VAR_DIR": str(tmp_path / "a"), "MES_DEBUG": "1"}
    mes(source, "migrate", "--no-input")
    mes(source, "backup", str(tmp_path / "backups"))
    (folder,) = (tmp_path / "backups").iterdir()
    with (folder / "vault.tar").open("ab") as f:
        f.write(b"\0")
    target = {**_clean_env(), "MES_VAR_DIR": str(tmp_path / "b"), "MES_DEBUG": "1"}
    (tmp_path / "b").mkdir()
    refused = mes(target, "restore", str(folder), ok=False)
    assert refused.returncode != 0
    assert "altérée ou incomplète : vault.tar" in refused.stderr
    assert not (tmp_path / "b" / "db.sqlite3").exists() or (
        (tmp_path / "b" / "db.sqlite3").stat().st_size == 0
    )
