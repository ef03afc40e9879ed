"""Benchmark the FHIR MHD API (ITI-67 search, ITI-65 deposit) beside a bare baseline.

    uv run python -m bench                 # SQLite, then PostgreSQL (skipped if absent)
    uv run python -m bench --db sqlite --quick
    make bench BENCH_ARGS="--concurrency 16"

For each database: a fresh data directory and database, the dataset built through the real
domain actions (bench/dataset.py), the real application server started as in production
(`mes serve`: gunicorn, DEBUG off, settings config.bench) on a free localhost port, then each
scenario driven from this process with httpx at a fixed concurrency: a warm-up, then a fixed
number of measured requests, for the API and for its baseline (bench/baseline_urls.py) in the
same run, on the same server and data. bench/README.md explains how to read the figures.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import load, postgres, queries, scenarios
from bench.load import Call, Measurement

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SETTINGS = "config.bench"
SERVER_START_TIMEOUT = 90.0


@dataclass(frozen=True)
class Options:
    concurrency: int
    workers: int
    requests: int
    warmup: int
    patients: int
    documents: int
    conn_max_age: int
    rounds: int
    keep: bool


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    """The running server, and the processes whose CPU time is counted per series."""

    base_url: str
    server_pid: int  # gunicorn's master: its workers are its children
    db_pid: int | None  # PostgreSQL's postmaster when this run started it


# --- Environment -----------------------------------------------------------------------------


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def bench_env(var_dir: Path, database_url: str | None, opts: Options) -> dict[str, str]:
    """The environment of the dataset loader and of the server: fresh keys for this run only,
    its own data directory, the database under test; nothing inherited that could point the
    benchmark at another database or switch the demo or debug modes on."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MES_", "DJANGO_", "DATABASE_URL", "GUNICORN_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "MES_VAR_DIR": str(var_dir),
            "MES_SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
            "MES_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MES_AUDIT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MES_OIDC_RSA_PRIVATE_KEY": _rsa_pem(),
            "MES_DB_CONN_MAX_AGE": str(opts.conn_max_age),
            "MES_LOG_LEVEL": "WARNING",
            "MES_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def build_dataset(env: dict[str, str], work: Path, opts: Options) -> dict[str, Any]:
    out = work / "manifest.json"
    argv = [sys.executable, "-m", "bench.dataset", "--out", str(out)]
    argv += ["--patients", str(opts.patients), "--documents", str(opts.documents)]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BenchError(f"dataset failed:\n{done.stdout}\n{done.stderr[-4000:]}")
    manifest: dict[str, Any] = json.loads(out.read_text())
    return manifest


# --- Server ----------------------------------------------------------------------------------


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


@contextmanager
def application_server(env: dict[str, str], workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """`mes serve` (gunicorn, sync workers) on a free localhost port; yields its base URL and
    its process id (`mes serve` execs gunicorn: the same process)."""
    port = postgres.free_port()
    server_env = {**env, "MES_BIND": f"127.0.0.1:{port}", "MES_WEB_WORKERS": str(workers)}
    mes = Path(sys.executable).with_name("mes")
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own entry point, fixed path
            # No control socket: a benchmark must not take over another gunicorn's.
            [str(mes), "serve", "--no-control-socket"],
            cwd=ROOT,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base_url, log)
        yield base_url, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the server stopped at start:\n{_tail(log)}")
        try:
            r = httpx.get(base_url + "/fhir/metadata", headers=scenarios.PROXY_HEADERS, timeout=5)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise BenchError(
        f"the server did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{_tail(log)}"
    )


# --- Checks (outside the timed series) -------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def check_scenario(base_url: str, scenario: scenarios.Scenario, log: Path) -> None:
    """The first request of each side, before any series: the right status and the right
    shape (for ITI-67, the very page the baseline returns), so a benchmark never times error
    pages nor two different pieces of work."""
    mes = load.fetch(base_url, scenario.mes[0])
    base = load.fetch(base_url, scenario.baseline[0])
    for side, response, expected in (
        ("API", mes, scenario.mes_status),
        ("baseline", base, scenario.baseline_status),
    ):
        if response.status_code != expected:
            raise BenchError(
                f"{scenario.label}: the {side} answered HTTP {response.status_code} "
                f"(expected {expected}): {response.text[:1000]}\n{_tail(log, 2000)}"
            )
    body = _json(mes) or {}
    if scenario.key == "iti67":
        if body.get("resourceType") != "Bundle" or body.get("type") != "searchset":
            raise BenchError(f"ITI-67: not a searchset Bundle: {mes.text[:500]}")
        api_ids = [
            e["resource"]["id"]
            for e in body.get("entry", [])
            if e.get("resource", {}).get("resourceType") == "DocumentReference"
        ]
        base_ids = [e["id"] for e in (_json(base) or {}).get("entry", [])]
        if not api_ids or api_ids != base_ids:
            raise BenchError(
                f"ITI-67: the API's page ({len(api_ids)} documents) is not the baseline's "
                f"({len(base_ids)}): they would not be doing the same work."
            )
    else:
        entries = body.get("entry", [])
        if body.get("type") != "transaction-response" or not all(
            str(e.get("response", {}).get("status", "")).startswith("201") for e in entries
        ):
            raise BenchError(f"ITI-65: not a successful transaction-response: {mes.text[:800]}")


# --- One database ----------------------------------------------------------------------------


def _series(target: Target, calls: list[Call], status: int, opts: Options) -> load.Raw:
    """One series, with the CPU time of the server, the database server, and everything else
    on the machine (busy time minus ours) over its duration."""
    machine = load.machine_busy_cpu()
    server = load.process_tree_cpu(target.server_pid)
    db = load.process_tree_cpu(target.db_pid) if target.db_pid else None
    raw = load.run(target.base_url, calls, concurrency=opts.concurrency, expect=status)
    raw.server_cpu = load.process_tree_cpu(target.server_pid) - server
    if target.db_pid and db is not None:
        raw.db_cpu = load.process_tree_cpu(target.db_pid) - db
    ours = raw.server_cpu + (raw.db_cpu or 0.0) + raw.cpu
    raw.others_cpu = max(0.0, load.machine_busy_cpu() - machine - ours)
    return raw


def _rounds(calls: list[Call], rounds: int) -> list[list[Call]]:
    size = -(-len(calls) // rounds)
    return [calls[i : i + size] for i in range(0, len(calls), size)]


def measure(
    target: Target, warm: scenarios.Scenario, measured: scenarios.Scenario, opts: Options
) -> tuple[Measurement, Measurement]:
    """Warm both sides up (the first warm-up call of each was the check), then alternate
    baseline and API series round by round, so that a change of the machine's load during the
    run weighs on both sides alike."""
    _series(target, warm.baseline[1:-1], warm.baseline_status, opts)
    _series(target, warm.mes[1:-1], warm.mes_status, opts)
    api: list[load.Raw] = []
    baseline: list[load.Raw] = []
    for base_calls, api_calls in zip(
        _rounds(measured.baseline, opts.rounds), _rounds(measured.mes, opts.rounds), strict=True
    ):
        baseline.append(_series(target, base_calls, measured.baseline_status, opts))
        api.append(_series(target, api_calls, measured.mes_status, opts))
    return load.summarise(api), load.summarise(baseline)


def count_queries(base_url: str, warm: scenarios.Scenario) -> dict[str, int | None]:
    """The SQL statements of one request of each side, once warm (the last warm-up call,
    kept for this): the server counts them when asked (bench/queries.py)."""
    counts: dict[str, int | None] = {}
    for side, call in (("mes", warm.mes[-1]), ("baseline", warm.baseline[-1])):
        asked = dataclasses.replace(call, headers={**call.headers, queries.REQUEST_HEADER: "1"})
        value = load.fetch(base_url, asked).headers.get(queries.RESPONSE_HEADER)
        counts[side] = int(value) if value is not None else None
    return counts


def bench_database(name: str, db: postgres.Database | None, opts: Options) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"mes-bench-{name}-"))
    try:
        env = bench_env(work / "var", db.url if db else None, opts)
        started = time.perf_counter()
        manifest = build_dataset(env, work, opts)
        print(
            f"  dataset: {len(manifest['patients'])} patients × {manifest['documents_per_patient']}"
            f" documents in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        pdf = Path(manifest["pdf_path"]).read_bytes()
        log = work / "server.log"
        out: dict[str, Any] = {
            "scenarios": {},
            "warnings": [],
            "pdf_bytes": len(pdf),
            "dataset_seconds": manifest["seconds"],
            "search_query_plan": manifest["search_query_plan"],
        }
        with application_server(env, opts.workers, log) as (base_url, server_pid):
            target = Target(base_url, server_pid, db.server_pid if db else None)
            # The first warm-up call is the check, the last one counts the queries.
            warm = scenarios.build(manifest, pdf, opts.warmup + 2)
            measured = scenarios.build(manifest, pdf, opts.requests)
            for w, m in zip(warm, measured, strict=True):
                check_scenario(base_url, w, log)
                api, baseline = measure(target, w, m, opts)
                counts = count_queries(base_url, w)
                out["scenarios"][m.key] = {
                    "label": m.label,
                    "mes": api.as_dict(),
                    "baseline": baseline.as_dict(),
                    "ratio": round(api.rps / baseline.rps, 3) if baseline.rps else None,
                    "goal": GOALS.get(m.key),
                    "queries": counts,
                }
                print("  " + format_line(m.label, api, baseline), flush=True)
                print(f"  {'':<15}| {format_cpu(api, baseline)}", flush=True)
                print(f"  {'':<15}| {format_goal(m.key, api, baseline, counts)}", flush=True)
        cpus = os.cpu_count() or 1
        others = max(
            (side["others_cpus"] or 0.0)
            for s in out["scenarios"].values()
            for side in (s["mes"], s["baseline"])
        )
        if others > cpus / 4:
            out["warnings"].append(
                f"the machine was busy: other programs kept up to {others:.1f} of its {cpus} "
                "CPUs busy during the series; absolute figures are low and noisy, the ratios "
                "and the CPU per request hold better."
            )
        if opts.keep:
            print(f"  kept: {work}")
        return out
    finally:
        if not opts.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


# --- Report ----------------------------------------------------------------------------------


def _side(m: Measurement) -> str:
    text = f"{m.rps:6.0f} req/s p50 {m.p50:6.1f} ms p95 {m.p95:6.1f} ms p99 {m.p99:6.1f} ms"
    return text + (f" ERRORS {m.errors}" if m.errors else "")


def format_line(label: str, api: Measurement, baseline: Measurement) -> str:
    ratio = api.rps / baseline.rps if baseline.rps else float("nan")
    return f"{label:<15}| mes: {_side(api)} | baseline: {_side(baseline)} | ratio {ratio:.2f}"


# Issue 12 §6: the share of its bare baseline each transaction must keep.
GOALS = {"iti67": 0.6, "iti65": 0.5}


def format_goal(
    key: str, api: Measurement, baseline: Measurement, counts: dict[str, int | None]
) -> str:
    ratio = api.rps / baseline.rps if baseline.rps else float("nan")
    goal = GOALS.get(key)
    verdict = ""
    if goal is not None:
        verdict = f"ratio {ratio:.2f}, goal ≥ {goal:.2f}: {'met' if ratio >= goal else 'NOT met'}"
    mes_q, base_q = counts.get("mes"), counts.get("baseline")
    return f"{verdict} | SQL queries per request: mes {mes_q}, baseline {base_q}"


def _cpu(m: Measurement) -> tuple[str, float | None]:
    if m.server_cpu_ms is None:
        return "?", None
    if m.db_cpu_ms is None:
        return f"{m.server_cpu_ms:.1f} ms", m.server_cpu_ms
    total = m.server_cpu_ms + m.db_cpu_ms
    return f"{m.server_cpu_ms:.1f} + db {m.db_cpu_ms:.1f} ms", total


def format_cpu(api: Measurement, baseline: Measurement) -> str:
    """Server CPU time per request: unlike req/s, it hardly depends on what else the machine
    is running."""
    api_text, api_total = _cpu(api)
    base_text, base_total = _cpu(baseline)
    times = f" | ×{api_total / base_total:.1f}" if api_total and base_total else ""
    return (
        f"server CPU per request: mes {api_text} | baseline {base_text}{times} "
        f"(load driver: {api.client_cpu:.0%} / {baseline.client_cpu:.0%} of one CPU; "
        f"other programs: {_cpus(api.others_cpus)} / {_cpus(baseline.others_cpus)} CPUs)"
    )


def _cpus(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def header(opts: Options, info: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"machine : {info['system']}, {info['cpus']} CPUs ({info['cpu']}), "
            f"Python {info['python']}",
            f"server  : `mes serve` (gunicorn), {opts.workers} sync workers, settings "
            f"{SETTINGS} (DEBUG off), MES_DB_CONN_MAX_AGE={opts.conn_max_age}",
            f"load    : httpx async from a separate process on the same machine, concurrency "
            f"{opts.concurrency}, {opts.requests} measured requests per series after "
            f"{opts.warmup} warm-up, in {opts.rounds} alternating rounds (baseline, mes, ...)",
            f"dataset : {opts.patients} patients × {opts.documents} documents each, deposited "
            f"through document_deposit; ITI-67 page size {scenarios.PAGE_SIZE}",
        ]
    )


def parse_args(argv: list[str] | None) -> tuple[list[str], Options, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--db",
        action="append",
        choices=["sqlite", "postgres"],
        help="database(s) to benchmark, in order (default: sqlite then postgres)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a sanity check, not a measure: 2 patients × 50 documents, 100 requests per series",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (as mes serve)")
    parser.add_argument("--requests", type=int, help="measured requests per series (1000)")
    parser.add_argument("--warmup", type=int, help="warm-up requests per series (100)")
    parser.add_argument("--patients", type=int, help="patients in the dataset (3)")
    parser.add_argument("--documents", type=int, help="documents per patient (500)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=int(os.environ.get("MES_DB_CONN_MAX_AGE", "0")),
        help="the server's MES_DB_CONN_MAX_AGE (default: the environment's, else 0)",
    )
    parser.add_argument(
        "--rounds", type=int, help="alternating baseline/mes rounds per series (3; quick: 2)"
    )
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    parser.add_argument("--keep", action="store_true", help="keep the run's data directory")
    a = parser.parse_args(argv)
    quick = a.quick
    opts = Options(
        concurrency=a.concurrency,
        workers=a.workers,
        requests=a.requests or (100 if quick else 1000),
        warmup=a.warmup if a.warmup is not None else (10 if quick else 100),
        patients=a.patients or (2 if quick else 3),
        documents=a.documents or (50 if quick else 500),
        conn_max_age=a.conn_max_age,
        rounds=a.rounds or (2 if quick else 3),
        keep=a.keep,
    )
    if min(opts.concurrency, opts.workers, opts.requests, opts.patients, opts.documents) < 1:
        parser.error("counts must be positive")
    if opts.rounds < 1 or opts.rounds > opts.requests:
        parser.error("--rounds must be between 1 and --requests")
    return a.db or ["sqlite", "postgres"], opts, a.json


def _postgres_url() -> str | None:
    """DATABASE_URL when it names a PostgreSQL server (a scratch database is made there)."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://", "pgsql://")) else None


def main(argv: list[str] | None = None) -> None:
    databases, opts, json_path = parse_args(argv)
    info = machine()
    stamp = datetime.now(UTC)
    print(f"MES FHIR MHD benchmark, {stamp:%Y-%m-%d %H:%M} UTC")
    print(header(opts, info), flush=True)
    report: dict[str, Any] = {
        "at": stamp.isoformat(timespec="seconds"),
        "machine": info,
        "options": opts.__dict__,
        "page_size": scenarios.PAGE_SIZE,
        "databases": {},
        "skipped": {},
    }
    failed = False
    for db in databases:
        try:
            if db == "sqlite":
                print("\nSQLite (WAL, file under a fresh data directory)", flush=True)
                result = bench_database(db, None, opts)
                result["database"] = "SQLite (WAL)"
            else:
                with postgres.database(_postgres_url()) as database:
                    print(f"\n{database.description}", flush=True)
                    result = bench_database(db, database, opts)
                    result["database"] = database.description
        except postgres.PostgresUnavailable as exc:
            print(f"\nPostgreSQL skipped: {exc}.", flush=True)
            report["skipped"][db] = str(exc)
            continue
        except (BenchError, subprocess.CalledProcessError) as exc:
            detail = exc.stderr if isinstance(exc, subprocess.CalledProcessError) else exc
            print(f"\n{db}: FAILED: {detail}", file=sys.stderr, flush=True)
            report["skipped"][db] = f"failed: {str(detail)[:2000]}"
            failed = True
            continue
        report["databases"][db] = result
        for warning in result["warnings"]:
            print(f"  note: {warning}")
        errors = sum(
            side["errors"]
            for s in result["scenarios"].values()
            for side in (s["mes"], s["baseline"])
        )
        failed = failed or errors > 0
    print_summary(report)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = json_path or RESULTS_DIR / f"{stamp:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {path}")
    if failed or not report["databases"]:
        sys.exit(1)


def print_summary(report: dict[str, Any]) -> None:
    if not report["databases"]:
        return
    print("\nSummary (req/s and latency at the stated concurrency; ratio = mes / baseline req/s)")
    for result in report["databases"].values():
        print(f"{result['database']}")
        for key, s in result["scenarios"].items():
            api = Measurement(**s["mes"])
            baseline = Measurement(**s["baseline"])
            print("  " + format_line(s["label"], api, baseline))
            print(f"  {'':<15}| {format_cpu(api, baseline)}")
            print(f"  {'':<15}| {format_goal(key, api, baseline, s.get('queries', {}))}")


if __name__ == "__main__":
    main()
