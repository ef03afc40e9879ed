"""mes vault_sweep: remove the blobs no committed row refers to (mes/vault/sweep.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mes.vault.sweep import sweep_orphan_blobs


class Command(BaseCommand):
    help = "Supprime les fichiers chiffrés orphelins (aucune ligne validée ne s'y réfère)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sweep_orphan_blobs()
        self.stdout.write(
            f"{report.seen} fichiers examinés, {report.removed} orphelins supprimés, "
            f"{report.kept_young} trop récents conservés, {report.foreign} noms étrangers ignorés."
        )
