"""`mes enrolment import FILE` (population import), `mes enrolment notify` (notices still to
send), `mes enrolment sweep` (the daily timers of the espace's life)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.enrolment import importer, lifecycle


class Command(BaseCommand):
    help = "Vie des profils : import de la population, envoi des informations, échéances."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="operation", required=True)
        imp = sub.add_parser("import", help="importer un fichier d'affiliation (CSV)")
        imp.add_argument("file", type=Path)
        imp.add_argument("--batch", type=int, default=None, help="lignes par lot validé (reprise)")
        imp.add_argument(
            "--no-notices", action="store_true", help="charger sans envoyer les informations"
        )
        imp.add_argument("--letters-dir", type=Path, default=None)
        notify = sub.add_parser("notify", help="envoyer les informations en attente")
        notify.add_argument("--letters-dir", type=Path, default=None)
        sub.add_parser("sweep", help="appliquer les échéances (quotidien)")

    def handle(self, *args: Any, **options: Any) -> None:
        operation = options["operation"]
        if operation == "import":
            self._import(options)
        elif operation == "notify":
            self._notify(options["letters_dir"])
        else:
            report = lifecycle.sweep()
            if report.skipped:
                self.stdout.write("Un autre balayage est en cours : rien à faire ici.")
                return
            if report.letters:
                path = lifecycle.write_letters(report.letters, prefix="majorite")
                self.stdout.write(f"Courriers de majorité : {path}")
            self.stdout.write(
                f"Créés : {report.created} · clôturés : {report.closed} · supprimés : "
                f"{report.purged} · passages à la majorité : {report.majorities}"
            )

    def _import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        started = time.monotonic()
        try:
            run = importer.import_file(
                path, batch_size=options["batch"], progress_out=cast(IO[str], self.stderr._out)
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        elapsed = time.monotonic() - started
        report = path.with_name(path.name + ".rejets.csv")
        rejected = importer.write_rejection_report(run, report)
        self.stdout.write(
            f"Import terminé en {elapsed:.1f} s : {run.created} personne(s) créée(s), "
            f"{run.already_known} déjà connue(s), {run.rejected} ligne(s) rejetée(s)."
        )
        if rejected:
            self.stdout.write(f"Rapport des rejets : {report}")
        if not options["no_notices"]:
            self._notify(options["letters_dir"])

    def _notify(self, letters_dir: Path | None) -> None:
        target = letters_dir or settings.VAR_DIR / "enrolment" / "courriers"
        report = importer.send_notices(letters_dir=target)
        self.stdout.write(
            f"Informations envoyées : {report.emailed} par e-mail, {report.letters} par "
            f"courrier ({len(report.letter_files)} fichier(s) PDF dans {target})."
        )
