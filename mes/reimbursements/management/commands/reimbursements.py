"""`mes reimbursements import FILE`: the Assurance Maladie's feed of Mon histoire de santé (the
file layout is in mes/reimbursements/actions.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.access.actors import Actor, ActorKind
from mes.lib.errors import InvalidInput
from mes.reimbursements.actions import import_file

INSURER = Actor(
    kind=ActorKind.INSURER, display_name="Assurance Maladie", national_id="assurance-maladie"
)


class Command(BaseCommand):
    help = "Charge un fichier de remboursements dans Mon histoire de santé (CSV ; séparé)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", choices=["import"])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--rejets",
            type=Path,
            help="écrit le rapport des lignes rejetées dans ce fichier (numéro et raison)",
        )
        parser.add_argument("--lot", type=int, default=None, help="lignes par transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            batch = import_file(actor=INSURER, path=options["file"], batch_size=options["lot"])
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{batch.lines} ligne(s) lue(s) : {batch.loaded} chargée(s), "
            f"{batch.duplicates} déjà chargée(s), {batch.withheld} non transmise(s) "
            f"(soins confidentiels d'un mineur, R1111-33), {batch.rejected} rejetée(s)."
        )
        if batch.report:
            if options["rejets"]:
                options["rejets"].write_text(batch.report + "\n", encoding="utf-8")
                self.stdout.write(f"Rapport des rejets : {options['rejets']}")
            else:
                self.stdout.write(batch.report)
