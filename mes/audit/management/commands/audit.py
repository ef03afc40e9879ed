from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.audit import checkpoints, integrity, keys
from mes.audit.tasks import schedule_next


class Command(BaseCommand):
    help = (
        "Trace d'accès : « verify » vérifie chaque chaîne (clé et points de contrôle), "
        "« checkpoint » publie un point de contrôle signé des têtes de chaîne "
        "(--schedule : le planifie toutes les heures dans le worker)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", choices=["verify", "checkpoint"])
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="checkpoint : planifier les points de contrôle périodiques (mes worker)",
        )

    def handle(self, *args: Any, operation: str, schedule: bool, **options: Any) -> None:
        if operation == "checkpoint":
            self._checkpoint(schedule=schedule)
        else:
            self._verify()

    def _verify(self) -> None:
        state = checkpoints.read_state()
        chains = len(integrity.every_chain(state))
        broken = list(integrity.verify_all(state))
        for link in broken:
            if link.chain == integrity.CHECKPOINTS:
                self.stderr.write(f"Points de contrôle : {link.problem}")
            elif link.trace_id:
                self.stderr.write(
                    f"Chaîne {link.chain} : ligne n°{link.seq} (id {link.trace_id}) : "
                    f"{link.problem}"
                )
            else:
                self.stderr.write(f"Chaîne {link.chain} : ligne n°{link.seq} : {link.problem}")
        if broken:
            raise CommandError(f"{len(broken)} altération(s) sur {chains} chaîne(s).")
        last = (
            f" ; dernier point de contrôle : n°{state.last_number}"
            if state.last_number
            else " ; aucun point de contrôle publié"
        )
        self.stdout.write(f"{chains} chaîne(s) vérifiée(s) : aucune altération{last}.")

    def _checkpoint(self, *, schedule: bool) -> None:
        if schedule:
            planned = schedule_next()
            self.stdout.write(
                "Point de contrôle périodique planifié."
                if planned
                else "Point de contrôle périodique déjà planifié (ou file de tâches immédiate)."
            )
            return
        report = integrity.write_checkpoint()
        for link in report.broken:
            self.stderr.write(
                f"Chaîne {link.chain} : ligne n°{link.seq} : {link.problem} (laissée hors du "
                "point de contrôle)"
            )
        public = (
            keys.keyring()
            .current.public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        if report.path is not None:
            self.stdout.write(
                f"Point de contrôle n°{report.number} publié : {report.path} "
                f"({report.chains} chaîne(s) avancée(s))."
            )
        else:
            self.stdout.write(
                f"Aucune chaîne n'a avancé depuis le point de contrôle n°{report.number}."
            )
        self.stdout.write(f"Clé publique Ed25519 (base64) : {base64.b64encode(public).decode()}")
        if report.broken:
            raise CommandError(f"{len(report.broken)} chaîne(s) altérée(s).")
