"""Removing orphan blobs: a blob is written before its row commits (the vault cannot join the
database's transaction), so a crash in between leaves ciphertext nothing refers to. The sweep
lists the store page by page, asks the registered owners which blobs they refer to, and removes
the others once they are older than MES_VAULT_SWEEP_GRACE (a younger one may belong to a
transaction still in flight). It never removes a blob that a committed row refers to."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.utils import timezone

from .references import referenced

logger = logging.getLogger("mes.vault")
PAGE = 1000


@dataclass
class SweepReport:
    seen: int = 0
    removed: int = 0
    kept_young: int = 0
    foreign: int = 0  # names the vault did not write (left alone)


def walk(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name under `folder`, through the storage API (folder or S3 alike)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for sub in folders:
        yield from walk(storage, f"{folder}/{sub}" if folder else sub)


def blob_id_of(name: str) -> uuid.UUID | None:
    """`ab/<patient hex>/<blob hex>.bin` → the blob id; anything else is not ours."""
    parts = name.split("/")
    if len(parts) != 3 or not parts[2].endswith(".bin"):
        return None
    try:
        uuid.UUID(hex=parts[1])
        return uuid.UUID(hex=parts[2].removesuffix(".bin"))
    except ValueError:
        return None


def _sweep_page(storage: Storage, page: dict[uuid.UUID, str], report: SweepReport) -> None:
    keep = referenced(set(page))
    oldest_allowed = timezone.now() - settings.MES_VAULT_SWEEP_GRACE
    for blob_id, name in page.items():
        if blob_id in keep:
            continue
        if storage.get_modified_time(name) > oldest_allowed:
            report.kept_young += 1
            continue
        storage.delete(name)
        report.removed += 1


def sweep_orphan_blobs() -> SweepReport:
    storage = storages["vault"]
    report = SweepReport()
    page: dict[uuid.UUID, str] = {}
    for name in walk(storage):
        blob_id = blob_id_of(name)
        if blob_id is None:
            report.foreign += 1
            continue
        report.seen += 1
        page[blob_id] = name
        if len(page) >= PAGE:
            _sweep_page(storage, page, report)
            page = {}
    if page:
        _sweep_page(storage, page, report)
    logger.info(
        "vault sweep: %d blobs, %d orphans removed, %d too recent",
        report.seen,
        report.removed,
        report.kept_young,
    )
    return report
