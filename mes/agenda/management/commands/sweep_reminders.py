from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mes.agenda.tasks import sweep_reminders


class Command(BaseCommand):
    help = (
        "Rappels de l'agenda : rendez-vous (au délai choisi) et examens « bientôt dus » (la "
        "veille). Met la tâche en file pour `mes worker` ; à lancer chaque heure (cron)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--now", action="store_true", help="exécuter ici, sans le worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            result = sweep_reminders.call()
            self.stdout.write(
                f"{result['appointments']} rappel(s) de rendez-vous, "
                f"{result['prevention']} rappel(s) de prévention."
            )
            return
        sweep_reminders.enqueue()
        self.stdout.write("Balayage des rappels mis en file pour le worker.")
