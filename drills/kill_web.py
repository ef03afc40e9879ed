"""Drill: kill -9 the web server in the middle of ITI-65 deposits.

A demo instance is prepared in a throwaway folder and served by `mes serve` (gunicorn). Client
threads deposit PDFs through the FHIR API (IHE MHD ITI-65) with unique document ids; after a
while the whole server process group gets SIGKILL, with requests in flight. Then:

- every deposit that was acknowledged (a 2xx with a location) must be in the database, whole:
  its row, and a blob that decrypts to exactly the bytes sent;
- every deposit whose answer was lost must be either wholly there or not there at all;
- no document row may lack its blob; blobs left by transactions that never committed are
  orphans, which `mes vault_sweep` removes (the drill runs it and checks again).

    uv run python -m drills.kill_web [--threads 4] [--seconds 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from drills.common import deposit
from drills.common import token as _token

MES = str(Path(sys.executable).with_name("mes"))
LOUISE_INS = "281037511504265"


@dataclass
class Outcome:
    acknowledged: dict[str, str] = field(default_factory=dict)  # unique id -> sha256 sent
    lost: dict[str, str] = field(default_factory=dict)  # answer never came: whole or absent
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pdf(n: int) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(72, 720, f"Compte rendu d'exercice n° {n} — {os.urandom(8).hex()}")
    c.save()
    return out.getvalue()


def _env(var_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MES_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({"MES_VAR_DIR": str(var_dir), "MES_DEMO": "1", "MES_LOG_LEVEL": "WARNING"})
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    server_env = {**env, "MES_BIND": f"127.0.0.1:{port}", "MES_WEB_WORKERS": "2"}
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own entry point
            [MES, "serve"],
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit(f"le serveur n'a pas démarré :\n{log.read_text()[-3000:]}")


def _depositor(base: str, token: str, stop: threading.Event, outcome: Outcome, n0: int) -> None:
    n = n0
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            n += 1
            sent = deposit(token, LOUISE_INS, f"Exercice {n}", _pdf(n))
            unique_id, digest = sent.unique_id, sent.digest
            try:
                response = sent.send(client, base, token)
            except httpx.HTTPError:
                with outcome.lock:
                    outcome.lost[unique_id] = digest
                continue
            with outcome.lock:
                if 200 <= response.status_code < 300:
                    outcome.acknowledged[unique_id] = digest
                else:
                    outcome.refused += 1


CHECK = """
import hashlib, json, sys
from mes.records.models import Document
from mes.vault import store
wanted = json.loads(sys.stdin.read())
found, broken = {}, []
for d in Document.objects.filter(title__startswith="Exercice "):
    try:
        found[d.unique_id] = hashlib.sha256(store.get(d.patient_id, d.pk)).hexdigest()
    except Exception as exc:
        broken.append(f"{d.unique_id}: {type(exc).__name__}")
print(json.dumps({"found": found, "broken": broken}))
"""


def _database_state(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [MES, "shell", "-c", CHECK],
        env=env,
        input="{}",
        capture_output=True,
        text=True,
        check=True,
    )
    state: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return state


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--seconds", type=float, default=8.0, help="dépôts avant le kill -9")
    p.add_argument("--database-url", help="PostgreSQL (sinon SQLite dans le dossier jetable)")
    opts = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="mes-drill-kill-web-"))
    env = _env(work / "var", opts.database_url)
    print(f"Préparation de l'instance de démonstration dans {work} …")
    subprocess.run([MES, "demo", "--load-only"], env=env, check=True, capture_output=True)  # noqa: S603
    secret = (work / "var" / "demo-api-client.secret").read_text().strip()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    server = _serve(env, port, log)
    token = _token(base, secret)

    outcome = Outcome()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_depositor, args=(base, token, stop, outcome, i * 100000))
        for i in range(opts.threads)
    ]
    for t in threads:
        t.start()
    time.sleep(opts.seconds)
    os.killpg(server.pid, signal.SIGKILL)  # the master and every worker, mid-request
    server.wait()
    stop.set()
    for t in threads:
        t.join()
    print(
        f"kill -9 envoyé ; {len(outcome.acknowledged)} dépôts acquittés, "
        f"{len(outcome.lost)} sans réponse, {outcome.refused} refusés."
    )

    state = _database_state(env)
    found = {u.removeprefix("urn:oid:"): h for u, h in state["found"].items()}
    missing = [u for u in outcome.acknowledged if u not in found]
    altered = [u for u, h in outcome.acknowledged.items() if u in found and found[u] != h]
    lost_present = [u for u in outcome.lost if u in found]
    lost_bad = [u for u in lost_present if found[u] != outcome.lost[u]]
    unexplained = [u for u in found if u not in outcome.acknowledged and u not in outcome.lost]

    sweep = subprocess.run(  # noqa: S603
        [MES, "vault_sweep"],
        env={**env, "MES_VAULT_SWEEP_GRACE_HOURS": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    after = _database_state(env)
    restarting = time.monotonic()
    restarted = _serve(env, port, log)
    recovered = time.monotonic() - restarting
    os.killpg(restarted.pid, signal.SIGTERM)
    restarted.wait()

    print(f"Acquittés absents de la base : {len(missing)}")
    print(f"Acquittés altérés : {len(altered)}")
    print(
        f"Sans réponse mais présents (entiers) : {len(lost_present) - len(lost_bad)}, "
        f"présents et altérés : {len(lost_bad)}"
    )
    print(f"Lignes sans fichier lisible : {len(state['broken'])}")
    print(f"Documents inexpliqués : {len(unexplained)}")
    print(f"Balayage des orphelins : {sweep.stdout.strip()}")
    print(f"Après balayage, lignes sans fichier lisible : {len(after['broken'])}")
    print(f"Relancé, le service répond à /healthz en {recovered:.1f} s.")
    failed = missing or altered or lost_bad or state["broken"] or unexplained or after["broken"]
    print(
        "RÉSULTAT : " + ("ÉCHEC" if failed else "aucun dépôt acquitté perdu, rien à moitié écrit")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
