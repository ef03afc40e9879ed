"""mes vault_rotate_master_key: re-wrap every data key under the first key of MES_MASTER_KEY."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.vault.rotation import left_to_rotate, rotate_master_key


class Command(BaseCommand):
    help = (
        "Rechiffre les clés des dossiers sous la clé maîtresse courante (la première de "
        "MES_MASTER_KEY) ; les anciennes clés restent nécessaires jusqu'à la fin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="dire seulement combien de clés restent sous une ancienne clé maîtresse",
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        if check:
            left = left_to_rotate()
            self.stdout.write(f"{left} clé(s) de dossier sous une ancienne clé maîtresse.")
            if left:
                raise CommandError("Rotation inachevée : gardez les anciennes clés maîtresses.")
            return
        report = rotate_master_key()
        self.stdout.write(f"{report.rewrapped} clé(s) de dossier rechiffrée(s).")
        if not report.done:
            raise CommandError(
                f"{len(report.unreadable)} clé(s) ne s'ouvrent avec aucune clé maîtresse "
                "configurée : ajoutez l'ancienne clé à MES_MASTER_KEY et relancez."
            )
        self.stdout.write("Plus aucune clé sous une ancienne clé maîtresse : elles peuvent partir.")
