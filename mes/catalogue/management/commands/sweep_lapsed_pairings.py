from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mes.catalogue.tasks import sweep_lapsed_pairings


class Command(BaseCommand):
    help = (
        "Services synchronisés : arrête les synchronisations dont la mise à jour des "
        "autorisations n'a pas été approuvée avant la date limite (jetons révoqués, titulaires "
        "prévenus). Met la tâche en file pour `mes worker` ; à lancer chaque heure (cron)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--now", action="store_true", help="exécuter ici, sans le worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            stopped = sweep_lapsed_pairings.call()
            self.stdout.write(f"{stopped} synchronisation(s) arrêtée(s).")
            return
        sweep_lapsed_pairings.enqueue()
        self.stdout.write("Balayage des synchronisations mis en file pour le worker.")
