from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.audit import trace
from mes.audit.models import ChainHead


class Command(BaseCommand):
    help = "Vérifie l'intégrité des traces d'accès (chaînes de hachage par dossier)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        chains = ChainHead.objects.count()
        broken = list(trace.verify_all())
        for link in broken:
            self.stderr.write(
                f"Chaîne {link.chain} : ligne n°{link.seq} (id {link.trace_id}) : {link.problem}"
            )
        if broken:
            raise CommandError(f"{len(broken)} chaîne(s) altérée(s) sur {chains}.")
        self.stdout.write(f"{chains} chaîne(s) vérifiée(s) : aucune altération.")
