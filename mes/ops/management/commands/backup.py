"""mes backup DEST [--keys KEYS_DIR]: see mes/ops/backup.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Sauvegarde la base et les fichiers chiffrés ; les clés seulement avec --keys, à part."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination", type=Path)
        parser.add_argument(
            "--keys", type=Path, help="dossier (hors sauvegarde) où écrire les clés, en 0600"
        )

    def handle(self, *args: Any, destination: Path, keys: Path | None, **options: Any) -> None:
        try:
            report = backup(destination, keys=keys)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Sauvegarde écrite dans {report.folder} : base {report.database_bytes} octets, "
            f"{report.blobs} fichiers chiffrés."
        )
        if keys is None:
            self.stdout.write(
                "Les clés ne sont pas dans la sauvegarde : conservez-les à part (--keys)."
            )
