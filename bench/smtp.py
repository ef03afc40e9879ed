"""SMTP ingest of the MSSanté gateway, against a bare aiosmtpd server that accepts and discards,
in the same run (wave2.md §3.4; goal: at least half the baseline's rate).

    uv run python -m bench.smtp                      # 300 messages per side, 4 connections
    uv run python -m bench.smtp --messages 60        # a quick sanity check

Each side runs in its own process on a free loopback port. The clients (threads, one SMTP
connection each, several messages per connection) send the same message: a professional's mail
to a patient with a 200 KB PDF attached. The gateway does everything it does in production:
RCPT lookup of the espace, MIME parsing, directory lookup of the sender, content check of the
attachment, encryption into the vault, rows and trace committed before the 250. The baseline
reads the DATA and answers 250. Reported: messages per second on each side, their ratio, and
the gateway's peak resident memory (VmHWM). Plain SMTP on both sides (no STARTTLS), so that the
ratio prices our work, not TLS.
"""

from __future__ import annotations

import argparse
import json
import secrets
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PDF_BYTES = 200 * 1024
START_TIMEOUT = 90.0

SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from datetime import date
from mes.identity.models import Citizen, Professional, Organisation, User
from mes.lib.ins import with_key
from mes.messaging.models import Mailbox
c = Citizen.objects.create(ins=with_key("2850575056012"), birth_name="Banc", first_names="Essai",
    first_name="Essai", birth_date=date(1985, 5, 14), sex="F", birth_place_insee="75056")
p = Professional.objects.create(rpps="10000000001", last_name="Martin", first_name="Anne",
    profession="10")
Mailbox.objects.create(address="anne.martin@medecin.mssante.fr", kind="PER", professional=p)
print(c.ins)
"""

BASELINE = """
import sys, time
from aiosmtpd.controller import Controller
class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]),
               data_size_limit=20 * 1024 * 1024, decode_data=False)
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(var_dir: Path) -> dict[str, str]:
    from bench.common import service_env

    return service_env(var_dir, DJANGO_SETTINGS_MODULE="config.bench")


def message(ins: str, pdf: bytes, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Dr Anne Martin <anne.martin@medecin.mssante.fr>"
    msg["To"] = f"{ins}@patient.mssante.fr"
    msg["Subject"] = "Compte rendu"
    msg["Message-ID"] = f"<bench-{n}-{secrets.token_hex(8)}@medecin.mssante.fr>"
    msg["X-MSS-NIL"] = "BENCH"
    msg.set_content("Bonjour,\nVoici le compte rendu.\n")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="cr.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"le serveur s'est arrêté (code {proc.returncode})")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
                s.noop()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("le serveur n'a pas démarré à temps")


def send_all(port: int, ins: str, pdf: bytes, total: int, connections: int) -> tuple[float, int]:
    """Send `total` messages over `connections` parallel SMTP connections; (seconds, errors)."""
    errors = [0]
    lock = threading.Lock()
    # Built before the clock starts: the clients' MIME encoding is not what is measured.
    payloads = [message(ins, pdf, n) for n in range(total)]
    counter = iter(range(total))

    def worker() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    s.sendmail(
                        "anne.martin@medecin.mssante.fr",
                        [f"{ins}@patient.mssante.fr"],
                        payloads[n],
                    )
                except smtplib.SMTPException:
                    with lock:
                        errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, errors[0]


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def pdf_of(size: int) -> bytes:
    # A PDF header (the gateway checks content) padded with incompressible bytes.
    body = secrets.token_bytes(size)
    return b"%PDF-1.4\n%" + body + b"\n%%EOF\n"


def run(messages: int, connections: int, warmup: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mes-bench-smtp-"))
    env = env_for(work)
    setup = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SETUP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if setup.returncode != 0:
        raise SystemExit(setup.stderr[-3000:])
    ins = setup.stdout.strip().splitlines()[-1]
    pdf = pdf_of(PDF_BYTES)
    results: dict[str, Any] = {}
    for side in ("baseline", "gateway"):
        port = free_port()
        if side == "baseline":
            argv = [sys.executable, "-c", BASELINE, str(port)]
        else:
            argv = [sys.executable, "-m", "mes.cli", "smtp-gateway", "--port", str(port)]
        log = (work / f"{side}.log").open("wb")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
        try:
            wait_port(port, proc)
            send_all(port, ins, pdf, warmup, connections)
            seconds, errors = send_all(port, ins, pdf, messages, connections)
            results[side] = {
                "messages": messages,
                "seconds": round(seconds, 3),
                "per_second": round(messages / seconds, 1),
                "errors": errors,
                "peak_rss_mib": round(peak_rss_kib(proc.pid) / 1024, 1),
            }
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            log.close()
    results["ratio"] = round(
        results["gateway"]["per_second"] / results["baseline"]["per_second"], 2
    )
    results["pdf_bytes"] = PDF_BYTES
    results["connections"] = connections
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.smtp",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=300, help="measured messages per side")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up messages per side")
    parser.add_argument("--connections", type=int, default=4, help="parallel SMTP connections")
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    opts = parser.parse_args(argv)
    results = run(opts.messages, opts.connections, opts.warmup)
    b, g = results["baseline"], results["gateway"]
    print(f"SMTP ingest, {PDF_BYTES // 1024} KB PDF, {opts.connections} connexions :")
    print(f"  aiosmtpd nu (jette)  : {b['per_second']:7.1f} msg/s ({b['errors']} erreur(s))")
    print(f"  passerelle MSSanté   : {g['per_second']:7.1f} msg/s ({g['errors']} erreur(s))")
    print(f"  rapport              : {results['ratio']:.2f} (objectif ≥ 0.5)")
    print(f"  mémoire max passerelle : {g['peak_rss_mib']} Mio (VmHWM)")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = opts.json or RESULTS_DIR / f"smtp-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    if b["errors"] or g["errors"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
