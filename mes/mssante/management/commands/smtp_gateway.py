"""`mes smtp-gateway`: serve the MSSanté gateway (SMTP + STARTTLS, and LMTP) until stopped."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mes.mssante import server


class Command(BaseCommand):
    help = "Passerelle MSSanté : reçoit les messages des professionnels (SMTP, LMTP)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.MES_MSSANTE_GATEWAY_HOST)
        parser.add_argument("--port", type=int, default=settings.MES_MSSANTE_GATEWAY_PORT)
        parser.add_argument("--lmtp-port", type=int, default=settings.MES_MSSANTE_LMTP_PORT)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = server.start(
            host=options["host"],
            smtp_port=options["port"],
            lmtp_port=options["lmtp_port"],
            threads=options["threads"],
        )
        tls = "STARTTLS exigé" if settings.MES_MSSANTE_REQUIRE_STARTTLS else "STARTTLS proposé"
        self.stdout.write(
            f"Passerelle MSSanté : SMTP {options['host']}:{options['port']} ({tls})"
            + (f", LMTP {options['host']}:{options['lmtp_port']}" if options["lmtp_port"] else ""),
        )
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        gateway.stop()
