"""The load test of the whole stack (issue 16 §8): `python -m bench load`.

    uv run python -m bench load                         # 120 s at full speed, then 120 s at 70 %
    uv run python -m bench load --duration 30 --users 8 # quicker
    DATABASE_URL=postgres://… uv run python -m bench load   # a scratch DB on that server

One run: PostgreSQL (a throwaway cluster, or a scratch database on DATABASE_URL's server), the
demo data (`mes demo --load-only`: people, documents, the API client, the professionals'
mailboxes), portal sessions for the demo citizens, then the stack as in production on loopback:
`mes serve` (gunicorn, `--web-workers` sync workers), `mes worker`, `mes smtp-gateway`. locust
runs the mix of bench/locustfile.py headless twice for `--duration` seconds:

1. **maximum**: `--users` users that send their next request as soon as the last is answered;
   the throughput reached is the measured maximum;
2. **70 %**: the same users, each paced (locust `constant_throughput`) so that together they
   ask for 70 % of that maximum; the error count must be 0.

Reported per run: requests per second, p50/p95/p99 (ms) overall and per kind of request,
errors; and every process's resident memory (RSS, psutil) sampled each second: each gunicorn
worker, the task worker, the gateway, PostgreSQL (all its processes together). The web workers
must stay under 200 MB each. Written to bench/results/load-<date>.json (not committed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import postgres
from bench.common import service_env

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MES = str(Path(sys.executable).with_name("mes"))
LOCUST = str(Path(sys.executable).with_name("locust"))
WEB_WORKER_LIMIT_MB = 200
PACED_SHARE = 0.7

PREPARE = """
import json
from django.conf import settings
from django.test import Client
from mes.identity.models import Citizen
from mes.messaging.models import Mailbox
from mes.records.models import Document
sessions, patients = [], []
for c in Citizen.objects.filter(user__isnull=False).select_related("user"):
    client = Client()
    client.force_login(c.user)
    docs = Document.objects.filter(patient=c, status="current", hidden_from_patient=False)
    sessions.append({
        "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "documents": [str(pk) for pk in docs.values_list("pk", flat=True)[:50]],
    })
    patients.append(c.ins)
sender = Mailbox.objects.filter(kind="PER", professional__isnull=False).first()
# Apps: the demo's partner app paired with each account holder (consent to every purpose),
# with a real bearer token bound to the pairing, as the OAuth flow leaves them.
from datetime import timedelta
from mes.catalogue.models import Service
from mes.catalogue.testing import pair, paired_token
from mes.demo.story_partner_app import PARTNER_OID, PARTNER_SLUG
service = Service.objects.get(slug=PARTNER_SLUG)
apps = []
for c in Citizen.objects.filter(user__isnull=False).order_by("pk")[:20]:
    raw, _ = paired_token(
        pair(service, c),
        scopes="patient/Observation.c patient/Observation.rs",
        expires_in=timedelta(hours=3),
    )
    apps.append({"token": raw, "patient": str(c.pk)})
print(json.dumps({
    "apps": apps,
    "editor_oid": PARTNER_OID,
    "cookie": settings.SESSION_COOKIE_NAME,
    "sessions": sessions,
    "patients": patients,
    "sender": sender.address,
    "patient_domain": settings.MES_MSSANTE_PATIENT_DOMAIN,
}))
"""


@dataclass
class Memory:
    """RSS samples (MB) per process label."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def add(self, label: str, mb: float) -> None:
        self.samples.setdefault(label, []).append(mb)

    def summary(self) -> dict[str, dict[str, Any]]:
        return {
            label: {
                "max_mb": round(max(v), 1),
                "mean_mb": round(sum(v) / len(v), 1),
                "each_second_mb": [round(x, 1) for x in v],
            }
            for label, v in sorted(self.samples.items())
            if v
        }


def _rss(proc: psutil.Process) -> float:
    return float(proc.memory_info().rss) / 2**20


def _sample(memory: Memory, roots: dict[str, int], postmaster: int | None) -> None:
    """Every second: each gunicorn worker, the task worker, the gateway, PostgreSQL."""
    while not memory.stop.wait(1.0):
        for label, pid in roots.items():
            try:
                proc = psutil.Process(pid)
                if label == "web":
                    memory.add("web (maître gunicorn)", _rss(proc))
                    for i, child in enumerate(sorted(proc.children(), key=lambda p: p.pid)):
                        memory.add(f"web worker {i + 1}", _rss(child))
                else:
                    memory.add(label, _rss(proc) + sum(_rss(c) for c in proc.children(True)))
            except psutil.Error:
                continue
        if postmaster:
            try:
                pg = psutil.Process(postmaster)
                memory.add("postgresql (total)", _rss(pg) + sum(_rss(c) for c in pg.children()))
            except psutil.Error:
                pass


def _free_port() -> int:
    return postgres.free_port()


def _env(var_dir: Path, url: str) -> dict[str, str]:
    return service_env(var_dir, DATABASE_URL=url, MES_DEMO="1")


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own entry points
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300  # gunicorn's workers boot slowly on a busy machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"arrêté au démarrage :\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"pas de réponse de {url}")


def _wait_smtp(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import smtplib

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"passerelle arrêtée au démarrage :\n{log.read_text()[-3000:]}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
                s.noop()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("la passerelle n'a pas démarré")


def _searchable(base: str, config: dict[str, Any]) -> list[str]:
    token = httpx.post(
        f"{base}/o/token/",
        data={"grant_type": "client_credentials", "scope": "user/DocumentReference.read"},
        auth=(config["client_id"], config["client_secret"]),
        headers={"X-Forwarded-Proto": "https"},
        timeout=60,
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/fhir+json",
        "X-Mes-Mode-Acces": "normal",
        "X-Mes-Professionnel": config["rpps"],
        "X-Forwarded-Proto": "https",
    }
    found = [
        ins
        for ins in config["patients"]
        if httpx.get(
            f"{base}/fhir/DocumentReference",
            params={
                "patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{ins}",
                "status": "current",
            },
            headers=headers,
            timeout=60,
        ).status_code
        == 200
    ]
    if not found:
        raise SystemExit("aucun dossier ouvert au professionnel de démonstration")
    return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _locust(
    base: str, config: Path, csv_prefix: Path, users: int, duration: int, rate: float
) -> dict[str, Any]:
    classes = Path(f"{csv_prefix}_classes.json")
    env = {**os.environ, "BENCH_LOAD_CONFIG": str(config), "BENCH_LOAD_CLASSES": str(classes)}
    if rate:
        env["BENCH_LOAD_RATE"] = f"{rate:.4f}"
    subprocess.run(  # noqa: S603
        [
            LOCUST,
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--host",
            base,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{duration}s",
            "--csv",
            str(csv_prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "10",
        ],
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
    )
    stats = _read_stats(Path(f"{csv_prefix}_stats.csv"))
    stats["classes"] = json.loads(classes.read_text()) if classes.exists() else {}
    return stats


def _read_stats(path: Path) -> dict[str, Any]:
    rows = list(csv.DictReader(path.open()))
    out: dict[str, Any] = {"kinds": {}}
    for row in rows:
        figures = {
            "requests": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "per_second": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"] or 0),
            "p95_ms": float(row["95%"] or 0),
            "p99_ms": float(row["99%"] or 0),
        }
        if row["Name"] == "Aggregated":
            out.update(figures)
        else:
            out["kinds"][row["Name"]] = figures
    return out


def _failures(csv_prefix: Path) -> list[str]:
    path = Path(f"{csv_prefix}_failures.csv")
    if not path.exists():
        return []
    return [f"{r['Name']} : {r['Error']} ×{r['Occurrences']}" for r in csv.DictReader(path.open())]


def run_load(opts: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mes-bench-load-"))
    with postgres.database(os.environ.get("DATABASE_URL")) as db:
        env = _env(work / "var", db.url)
        print(f"Données de démonstration sur {db.description} …", file=sys.stderr)
        subprocess.run([MES, "demo", "--load-only"], env=env, check=True, capture_output=True)  # noqa: S603
        prepared = subprocess.run(  # noqa: S603
            [MES, "shell", "-c", PREPARE], env=env, check=True, capture_output=True, text=True
        )
        config = json.loads(prepared.stdout.strip().splitlines()[-1])
        config["client_id"] = "demo-ch-villeneuve"
        config["client_secret"] = (work / "var" / "demo-api-client.secret").read_text().strip()
        config["rpps"] = "810100034567"  # the demo's cardiologue, authorised on the demo records
        port, smtp_port = _free_port(), _free_port()
        config["smtp_port"] = smtp_port
        config_path = work / "load.json"
        config_path.write_text(json.dumps(config))
        base = f"http://127.0.0.1:{port}"
        web = _start(
            [MES, "serve"],
            {**env, "MES_BIND": f"127.0.0.1:{port}", "MES_WEB_WORKERS": str(opts.web_workers)},
            work / "web.log",
        )
        worker = _start([MES, "worker", "--no-reload"], env, work / "worker.log")
        gateway = _start([MES, "smtp-gateway", "--port", str(smtp_port)], env, work / "gateway.log")
        try:
            _wait_http(f"{base}/healthz", web, work / "web.log")
            _wait_smtp(smtp_port, gateway, work / "gateway.log")
            # The professional searches the records they may open (a refusal looks like an
            # absence: 404); the others are left out of the mix, as a practice would.
            config["patients"] = _searchable(base, config)
            config_path.write_text(json.dumps(config))
            roots = {"web": web.pid, "worker (tâches)": worker.pid, "passerelle SMTP": gateway.pid}
            runs: list[dict[str, Any]] = []
            maximum = 0.0
            for label, share in (("maximum", 0.0), ("70 %", PACED_SHARE)):
                rate = maximum * share / opts.users if share else 0.0
                memory = Memory()
                sampler = threading.Thread(
                    target=_sample, args=(memory, roots, db.server_pid), daemon=True
                )
                load_before = os.getloadavg()
                sampler.start()
                stats = _locust(
                    base, config_path, work / f"run{len(runs)}", opts.users, opts.duration, rate
                )
                memory.stop.set()
                sampler.join()
                if not share:
                    maximum = stats["per_second"]
                runs.append(
                    {
                        "run": label,
                        "users": opts.users,
                        "asked_per_second": round(maximum * share, 1) if share else None,
                        **stats,
                        "failures": _failures(work / f"run{len(runs)}"),
                        "memory": memory.summary(),
                        "load_average": [round(x, 2) for x in load_before],
                    }
                )
        finally:
            for proc in (web, worker, gateway):
                _stop(proc)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": db.description,
        "web_workers": opts.web_workers,
        "duration_seconds": opts.duration,
        "runs": runs,
        "work": str(work),
    }


def _print(report: dict[str, Any]) -> bool:
    ok = True
    for r in report["runs"]:
        asked = f", demandé {r['asked_per_second']}/s" if r["asked_per_second"] else ""
        print(
            f"{r['run']:8} {r['per_second']:>7} req/s{asked}  p50 {r['p50_ms']:.0f} ms  "
            f"p95 {r['p95_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms  erreurs {r['errors']}/"
            f"{r['requests']}  (charge {r['load_average']})"
        )
        for name, k in r["classes"].items():
            print(
                f"  {name:41} {k['per_second']:>6}/s  p50 {k['p50_ms']:.0f}  "
                f"p95 {k['p95_ms']:.0f}  p99 {k['p99_ms']:.0f} ms  erreurs {k['errors']}"
            )
        for name, k in r["kinds"].items():
            print(
                f"         {name:34} {k['per_second']:>6}/s  p50 {k['p50_ms']:.0f}  "
                f"p95 {k['p95_ms']:.0f}  p99 {k['p99_ms']:.0f} ms  erreurs {k['errors']}"
            )
        for failure in r["failures"][:5]:
            print(f"         échec : {failure}")
        for label, m in r["memory"].items():
            flag = ""
            if label.startswith("web worker") and m["max_mb"] >= WEB_WORKER_LIMIT_MB:
                flag, ok = f"  AU-DESSUS DE {WEB_WORKER_LIMIT_MB} Mo", False
            print(
                f"         mémoire {label:24} max {m['max_mb']:>6} Mo  moy. {m['mean_mb']} Mo{flag}"
            )
    paced = report["runs"][-1]
    if paced["errors"]:
        ok = False
    return ok


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=120, help="secondes par passe")
    p.add_argument("--users", type=int, default=24)
    p.add_argument("--web-workers", type=int, default=4)
    opts = p.parse_args(argv)
    report = run_load(opts)
    ok = _print(report)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"load-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"→ {out}", file=sys.stderr)
    if not ok:
        raise SystemExit("ÉCHEC : erreurs à 70 % ou worker web au-dessus de 200 Mo")


if __name__ == "__main__":
    main()
