"""`mes demo`: prepare everything on this machine and serve it on localhost.

First run: migrate the SQLite database under var/, keys generated under var/ (by the demo block
of config/base.py, before anything else reads them), demo dataset, static files. Every later run
finds all of it in place and changes nothing. Then the web server and the task worker run as
child processes until Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mes.demo import dataset, loading
from mes.demo.story_enrolment import AGENT
from mes.demo.story_partner_app import PARTNER_PORT, PARTNER_URL
from mes.demo.story_secret_care import MOTHER, TEENAGER

STOP_GRACE_SECONDS = 10


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _uv() -> str:
    """The uv to type in the printed commands: `uv` when it is on the PATH, else the one `make`
    installed under .tools/ (which `uv run` names in $UV): a fresh machine has no other."""
    if shutil.which("uv"):
        return "uv"
    return os.environ.get("UV") or "uv"


class Command(BaseCommand):
    help = "Prépare la démonstration (base, clés, jeu de données) et la sert sur localhost."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--load-only",
            action="store_true",
            help="préparer seulement (base, jeu de données, fichiers statiques), sans servir",
        )
        parser.add_argument("--port", type=int, default=8000, help="port HTTP (8000)")
        parser.add_argument(
            "--smtp-port",
            type=int,
            default=settings.MES_MSSANTE_GATEWAY_PORT,
            help=f"port SMTP de la passerelle MSSanté ({settings.MES_MSSANTE_GATEWAY_PORT})",
        )

    def handle(
        self, *args: Any, load_only: bool, port: int, smtp_port: int, **options: Any
    ) -> None:
        if not settings.MES_DEMO and not load_only:
            raise CommandError("La démonstration se lance avec MES_DEMO=1 (ou : make demo).")
        if not (settings.MES_MASTER_KEY or settings.MES_MASTER_KEY_FILE):
            raise CommandError(
                "Aucune clé maîtresse : lancez la démonstration avec MES_DEMO=1 (la clé est "
                "alors créée dans var/demo-master.key)."
            )
        self.stdout.write("Base de données : migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        # The e-mails and SMS written while loading carry the address the demo serves.
        report = loading.load_all(portal_url=_portal_url(port))
        elapsed = time.monotonic() - started
        if report.nothing_new:
            self.stdout.write("Jeu de démonstration : déjà en place, rien à ajouter.")
        else:
            detail = ", ".join(f"{n} {what}" for what, n in report.created.items() if n)
            self.stdout.write(f"Jeu de démonstration chargé en {elapsed:.1f} s : {detail}.")
        call_command("collectstatic", interactive=False, verbosity=0)
        if load_only:
            self.stdout.write(self.style.SUCCESS("Démonstration prête (--load-only)."))
            return
        self._check_port_free(port)
        self._check_port_free(smtp_port)
        self._check_port_free(PARTNER_PORT)
        self._serve(port, smtp_port)

    def _check_port_free(self, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                raise CommandError(
                    f"Le port {port} est déjà utilisé : arrêtez l'autre serveur ou choisissez "
                    f"un autre port (mes demo --port {port + 1})."
                ) from exc

    def _serve(self, port: int, smtp_port: int) -> None:
        env = {
            **os.environ,
            "MES_DEMO": "1",
            # The gateway and the Web PS (which sends to it over SMTP) agree on the port.
            "MES_MSSANTE_GATEWAY_PORT": str(smtp_port),
            "MES_BIND": f"127.0.0.1:{port}",
            "MES_PORTAL_URL": _portal_url(port),
            "MES_WEB_WORKERS": os.environ.get("MES_WEB_WORKERS", "2"),
        }
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
        mes = [sys.executable, "-m", "mes.cli"]
        # gunicorn (`mes serve`) serves the collected static files through whitenoise, exactly
        # as in production; the worker runs the background tasks.
        children = {
            "serveur web": subprocess.Popen([*mes, "serve"], env=env),  # noqa: S603
            "worker": subprocess.Popen([*mes, "worker"], env=env),  # noqa: S603
            "passerelle MSSanté": subprocess.Popen(  # noqa: S603
                [*mes, "smtp-gateway", "--port", str(smtp_port)], env=env
            ),
            # A separate program that only speaks HTTP to the service, like an editor's app.
            "application partenaire": subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "partner_app",
                    "--port",
                    str(PARTNER_PORT),
                    "--mes-url",
                    f"http://127.0.0.1:{port}",
                    "--state-dir",
                    str(settings.VAR_DIR / "partner_app"),
                ],
                env=env,
            ),
        }
        self._banner(port, smtp_port)
        # A `kill` (SIGTERM) stops the demo as cleanly as Ctrl-C: the children go down with it.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            while True:
                for name, child in children.items():
                    code = child.poll()
                    if code is not None:
                        raise CommandError(f"Le {name} s'est arrêté (code {code}).")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nArrêt de la démonstration…")
        finally:
            self._stop(list(children.values()))

    def _stop(self, children: list[subprocess.Popen[bytes]]) -> None:
        # Ctrl-C reaches us twice under `uv run` (from the terminal and forwarded by uv): the
        # stop, once begun, is not interrupted; a child that hangs is killed after the grace.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _banner(self, port: int, smtp_port: int) -> None:
        base = f"http://127.0.0.1:{port}"
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS("Mon espace santé – démonstration"))
        out(f"  Portail de l'usager : {base}/")
        out(f"  Connexion           : {base}/connexion/")
        out(f"  Boîte d'envoi démo  : {base}/demo/boite-d-envoi/")
        out(f"  Espace professionnel: {base}/pro/connexion/")
        out(f"  Guichet du 3422     : {base}/guichet/connexion/")
        out(f"  Activer un profil   : {base}/enrolement/")
        out(f"  API FHIR (MHD)      : {base}/fhir/metadata")
        out("")
        out(f"Identifiants (mot de passe commun : {dataset.DEMO_PASSWORD}) :")
        for login in dataset.logins():
            out(f"  {login.username:<12} {login.who}")
        for person in (TEENAGER, MOTHER):
            out(f"  {person.username:<12} {person.who}")
        out(
            f"  {AGENT:<12} Sophie Martin, conseillère du 3422 : retrouve un profil par son NIR, "
            f"son état et son historique, sans jamais voir de données de santé "
            f"({base}/guichet/connexion/)"
        )
        out(
            "  Inès Garnier n'a pas encore activé son profil : activez-le sur "
            f"{base}/enrolement/ avec les données de carte affichées en démonstration et "
            "le code provisoire de la boîte d'envoi."
        )
        out(
            "  Nadia Roux n'a jamais activé son profil, créé faute d'opposition : clôturez-le "
            f"sans l'activer sur {base}/enrolement/cloture/ avec les données de carte "
            "affichées sur /enrolement/ et le code provisoire de la boîte d'envoi."
        )
        out("")
        out(
            "Après le mot de passe, un code à usage unique est envoyé : il s'affiche dans "
            f"cette console et sur {base}/demo/boite-d-envoi/."
        )
        api = loading.api_demo()
        out("")
        out("Le cardiologue de Louise dépose sa lettre de sortie par l'API (IHE MHD ITI-65) :")
        out(
            f"  {_uv()} run python scripts/deposit_document.py --base {base} "
            f'--client-id {api.client_id} --client-secret "$(cat {api.secret_file})" '
            f"--professional {api.professional_id} --ins {api.patient_ins} "
            f"--file {api.letter_file} --type 11490-0 --date {api.letter_date.isoformat()} "
            '--title "Lettre de liaison de sortie d\'hospitalisation"'
        )
        out("Louise la retrouve ensuite dans ses Documents, avec une notification.")
        out("")
        domain = settings.MES_MSSANTE_PATIENT_DOMAIN
        out(f"Passerelle MSSanté (SMTP, STARTTLS proposé) : 127.0.0.1:{smtp_port}")
        out("Le Dr Bernard Léon écrit à Louise, comme depuis son logiciel (README, Messagerie) :")
        out(
            f"  swaks --server 127.0.0.1:{smtp_port} --from bernard.leon@medecin.mssante.fr "
            f"--to {api.patient_ins}@{domain} --header 'Subject: Resultats' "
            "--body 'Bonjour, voici vos resultats.' --attach-type application/pdf "
            f"--attach @{api.letter_file}"
        )
        out("")
        out(f"Application partenaire « Glycémie Plus » (catalogue) : {PARTNER_URL}/")
        out(
            "  Louise la synchronise avec son espace (connexion, choix des finalités), puis "
            "« Envoyer ma journée » : ses glycémies et le rapport du jour arrivent dans ses "
            "Mesures et ses Documents, « ajoutés par Glycémie Plus »."
        )
        out("")
        out("Le worker des tâches de fond tourne aussi. Ctrl-C arrête tout.")
        out("")


def _portal_url(port: int) -> str:
    """Where the demo's citizens find the portal: the operator's MES_PORTAL_URL, or the address
    `mes demo` serves (the same one its banner prints)."""
    return os.environ.get("MES_PORTAL_URL", f"http://127.0.0.1:{port}/")
