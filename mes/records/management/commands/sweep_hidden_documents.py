from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mes.access.actors import system_actor
from mes.records.timers import SWEEP_ACTOR_NAME, hidden_documents_sweep


class Command(BaseCommand):
    help = (
        "Documents non visibles par le patient (R1111-53) : rappel au patient après 2 semaines, "
        "mise à disposition automatique 1 mois après le dépôt. À lancer chaque jour (cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = hidden_documents_sweep(actor=system_actor(SWEEP_ACTOR_NAME))
        self.stdout.write(
            f"{result.alerted} rappel(s) envoyé(s) au patient, "
            f"{result.released} document(s) rendu(s) visible(s) au patient."
        )
