"""mes restore BACKUP_FOLDER: see mes/ops/backup.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restaure une sauvegarde dans une instance neuve (base vide, clés configurées)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)

    def handle(self, *args: Any, folder: Path, **options: Any) -> None:
        try:
            blobs = restore(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restauration terminée : {blobs} fichiers chiffrés remis en place.")
