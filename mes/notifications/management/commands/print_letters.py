from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mes.notifications.channels.letters import print_letters


class Command(BaseCommand):
    help = "Imprime les courriers en attente dans un lot PDF (une page par courrier). Chaque jour."

    def handle(self, *args: Any, **options: Any) -> None:
        batch = print_letters()
        if batch is None:
            self.stdout.write("Aucun courrier en attente.")
            return
        self.stdout.write(f"{batch.count} courrier(s) dans {batch.file_name}.")
