"""`mes backup` and `mes restore` (issue 16 §6).

A backup is a folder holding the database (SQLite's online backup, or `pg_dump` in its custom
format), the vault's blobs exactly as stored (already encrypted by the vault: a backup holds no
readable health data) and a manifest with a SHA-256 of each part. The keys are NOT in it: they
are the secrets that make the blobs readable and the trace verifiable, so `--keys DIR` writes them
to a separate place (another medium, a safe), readable by their owner only. A restore checks
every checksum before it writes anything, and only into an empty instance.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection

from mes.vault.sweep import walk

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_SQLITE = "database.sqlite3"
DATABASE_POSTGRES = "database.pgdump"
BLOBS = "vault.tar"

# Settings naming a key (value or file). Each is exported by `--keys`, never into the backup.
KEY_SETTINGS = (
    ("MES_MASTER_KEY", "MES_MASTER_KEY_FILE", "master.key"),
    ("MES_AUDIT_KEY", "MES_AUDIT_KEY_FILE", "audit.key"),
    ("MES_OIDC_RSA_PRIVATE_KEY", "MES_OIDC_RSA_PRIVATE_KEY_FILE", "oidc-rsa.key"),
)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in French."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    blobs: int
    database_bytes: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = ["--host", str(db.get("HOST") or "localhost"), "--port", str(db.get("PORT") or 5432)]
    args += ["--username", str(db.get("USER") or "postgres"), "--dbname", str(db["NAME"])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    return args, env


def _tool(name: str) -> str:
    """pg_dump / pg_restore of the newest PostgreSQL installed (Debian keeps them apart)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise BackupError(f"{name} est introuvable : installez le client PostgreSQL.")
    return str(candidates[-1])


def _dump_database(folder: Path) -> str:
    if _is_postgres():
        args, env = _pg_env()
        target = folder / DATABASE_POSTGRES
        subprocess.run(  # noqa: S603 - fixed tool, arguments from our settings
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],
            check=True,
            env=env,
        )
        return DATABASE_POSTGRES
    target = folder / DATABASE_SQLITE
    source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
    try:
        with sqlite3.connect(str(target)) as copy:
            source.backup(copy)  # a consistent snapshot, even while the service writes
        copy.close()
    finally:
        source.close()
    return DATABASE_SQLITE


def _dump_blobs(folder: Path) -> int:
    vault = storages["vault"]
    count = 0
    with tarfile.open(folder / BLOBS, "w") as tar:
        for name in walk(vault):
            if name.startswith("readyz/"):
                continue
            with vault.open(name, "rb") as f:
                data = f.read()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            tar.addfile(info, ContentFile(data))
            count += 1
    return count


def export_keys(target: Path) -> list[str]:
    """Write each configured key to `target` (0600), for a safe kept apart from the backups."""
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for value_setting, file_setting, file_name in KEY_SETTINGS:
        value = str(getattr(settings, value_setting, "") or "")
        path = str(getattr(settings, file_setting, "") or os.environ.get(file_setting, ""))
        if not value and path and Path(path).exists():
            value = Path(path).read_text()
        if not value:
            continue
        out = target / file_name
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value.strip() + "\n")
        written.append(file_name)
    return written


def backup(destination: Path, *, keys: Path | None = None) -> BackupReport:
    """Write a new backup folder under `destination`; the keys only to `keys`, elsewhere."""
    if keys is not None and keys.resolve().is_relative_to(destination.resolve()):
        raise BackupError("Les clés doivent être écrites ailleurs que la sauvegarde.")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = destination / f"mes-backup-{stamp}"
    folder.mkdir(parents=True, mode=0o700)
    database = _dump_database(folder)
    blobs = _dump_blobs(folder)
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "created_at": stamp,
        "engine": connection.vendor,
        "database": database,
        "blobs": {"file": BLOBS, "count": blobs},
        "sha256": {name: _sha256(folder / name) for name in (database, BLOBS)},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if keys is not None:
        export_keys(keys)
    return BackupReport(folder, blobs, (folder / database).stat().st_size)


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} n'est pas une sauvegarde lisible ({MANIFEST}).") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError("Format de sauvegarde inconnu.")
    for name, expected in manifest["sha256"].items():
        if not (folder / name).exists() or _sha256(folder / name) != expected:
            raise BackupError(f"La sauvegarde est altérée ou incomplète : {name}.")
    if manifest["engine"] != connection.vendor:
        raise BackupError(
            f"Sauvegarde {manifest['engine']}, base cible {connection.vendor} : "
            "restaurez dans le même moteur."
        )
    return manifest


def _target_is_empty() -> bool:
    return not connection.introspection.table_names()


def _restore_database(folder: Path, manifest: dict[str, Any]) -> None:
    if _is_postgres():
        args, env = _pg_env()
        connection.close()
        subprocess.run(  # noqa: S603 - fixed tool, arguments from our settings
            [
                _tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                *args,
                str(folder / DATABASE_POSTGRES),
            ],
            check=True,
            env=env,
        )
        return
    connection.close()
    source = sqlite3.connect(str(folder / DATABASE_SQLITE))
    try:
        with sqlite3.connect(str(settings.DATABASES["default"]["NAME"])) as target:
            source.backup(target)
        target.close()
    finally:
        source.close()


def _restore_blobs(folder: Path) -> int:
    vault = storages["vault"]
    count = 0
    with tarfile.open(folder / BLOBS, "r") as tar:
        for member in tar:
            if not member.isfile() or member.name.startswith("/") or ".." in member.name:
                raise BackupError(f"Nom de fichier refusé dans la sauvegarde : {member.name!r}.")
            extracted = tar.extractfile(member)
            assert extracted is not None  # a regular file always has content
            if vault.exists(member.name):
                vault.delete(member.name)
            saved = vault.save(member.name, ContentFile(extracted.read()))
            if saved != member.name:
                raise BackupError(f"Le stockage a renommé {member.name} : restauration arrêtée.")
            count += 1
    return count


def restore(folder: Path) -> int:
    """Restore a backup into an empty instance (no table yet); returns the number of blobs.

    Precondition: the keys of the backed-up instance are configured (MES_MASTER_KEY_FILE ...).
    """
    manifest = _read_manifest(folder)
    if not _target_is_empty():
        raise BackupError(
            "La base cible n'est pas vide : une restauration se fait dans une instance neuve."
        )
    _restore_database(folder, manifest)
    return _restore_blobs(folder)
