"""Population import on PostgreSQL: `mes enrolment import` of a generated affiliation file,
beside the least PostgreSQL can do with the same rows, in the same run.

    uv run python -m bench.enrolment                       # 1 000 000 people (and 100 000)
    uv run python -m bench.enrolment --people 200000 --small 20000

For each size, on a fresh database (a throwaway cluster, or a scratch database on the server of
DATABASE_URL, as bench/postgres.py does):
- `mes enrolment import FILE --no-notices` in its own process (migrations run before, not
  timed): people per second and the process's peak resident memory (ru_maxrss);
- the baseline: `COPY bare FROM STDIN (FORMAT csv, DELIMITER ';', HEADER)` of the same file into
  a bare table of 17 text columns (no check, no index, no key), in the same database.
Two sizes show whether memory stays flat in the file size. Results go to
bench/results/enrolment-<date>.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench import postgres
from bench.run import _rsa_pem
from mes.enrolment.layout import COLUMNS
from mes.lib.ins import with_key

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["Camille", "Louis", "Inès", "Hugo", "Léa", "Jules", "Chloé", "Noé", "Emma", "Gabriel"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy"]


def generate(path: Path, people: int, seed: int = 14) -> None:
    """A valid affiliation file: adults (70 % with an e-mail, the others a postal address)
    and about one child in five attached to the adult just before it."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    today = date.today()
    with path.open("w", encoding="utf-8") as f:
        f.write(";".join(COLUMNS) + "\n")
        parent = ""
        for n in range(people):
            child = bool(parent) and rng.random() < 0.2
            sex = "1" if rng.random() < 0.5 else "2"
            born = today - timedelta(
                days=rng.randint(1, 17 * 365) if child else rng.randint(19 * 365, 90 * 365)
            )
            # sex, year, month, département 75, then a commune and an order number unique per n.
            first13 = (
                f"{sex}{born.year % 100:02d}{born.month:02d}75{n % 1000:03d}{n // 1000 % 1000:03d}"
            )
            ins = with_key(first13)
            email = f"p{n}@example.org" if not child and rng.random() < 0.7 else ""
            row = [
                ins,
                "NIR",
                rng.choice(LAST),
                rng.choice(FIRST),
                "",
                "",
                "M" if sex == "1" else "F",
                born.isoformat(),
                "",
                email,
                f"06{rng.randint(0, 99999999):08d}" if rng.random() < 0.5 else "",
                f"{rng.randint(1, 200)} rue de la République",
                "75011",
                "Paris",
                f"{rng.randint(10**10, 10**11 - 1)}",
                parent if child else "",
                "mere" if child else "",
            ]
            f.write(";".join(row) + "\n")
            if not child:
                parent = ins


def _env(url: str, var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.base",
        "DATABASE_URL": url,
        "MES_VAR_DIR": str(var_dir),
        "MES_SECRET_KEY": secrets.token_urlsafe(50),
        "MES_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "MES_AUDIT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "MES_SSL_REDIRECT": "false",
        "MES_LOG_LEVEL": "WARNING",
        "MES_OIDC_RSA_PRIVATE_KEY": _rsa_pem(),
    }


# The import's settings for PostgreSQL, as docs/deployment.md recommends them to operators: the
# throwaway cluster starts with them (a DATABASE_URL server keeps its own).
IMPORT_HOST_CONF = ROOT / "deploy" / "postgresql" / "import-host.conf"


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process, its reaped children and its live children: for
    the postmaster, the whole server's (backends, WAL writer, checkpointer, autovacuum)."""
    tick = os.sysconf("SC_CLK_TCK")

    def own(p: int | str) -> int:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime

    children = Path(f"/proc/{pid}/task/{pid}/children")
    live = children.read_text().split() if children.exists() else []
    return (own(pid) + sum(own(c) for c in live)) / tick


def _run_measured(
    argv: list[str], env: dict[str, str], server_pid: int | None = None
) -> tuple[float, int, str, float, float | None]:
    """Wall time, peak RSS (kB) of the child process, its output, its CPU seconds and the
    database server's CPU seconds meanwhile (when this run started the server)."""
    server_before = _cpu_seconds(server_pid) if server_pid else None
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603 - our own entry point
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    server = None
    if server_pid and server_before is not None:
        time.sleep(0.5)  # the import's backends exit once it has gone
        server = _cpu_seconds(server_pid) - server_before
    out = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out}")
    return elapsed, usage.ru_maxrss, out, usage.ru_utime + usage.ru_stime, server


def bench_size(people: int, work: Path, url: str | None) -> dict[str, Any]:
    file = work / f"affiliation-{people}.csv"
    t0 = time.monotonic()
    generate(file, people)
    generated_in = time.monotonic() - t0
    mes = str(Path(sys.executable).with_name("mes"))
    with postgres.database(url, IMPORT_HOST_CONF) as db:
        env = _env(db.url, work)
        subprocess.run([mes, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
        load_before = os.getloadavg()[0]
        elapsed, peak_kb, out, client_cpu, server_cpu = _run_measured(
            [mes, "enrolment", "import", str(file), "--no-notices"], env, db.server_pid
        )
        load_after = os.getloadavg()[0]
        with psycopg.connect(_libpq(db.url), autocommit=True) as conn:
            created = _count(conn, "enrolment_espace")
            conn.execute("CREATE TABLE bare (" + ", ".join(f"{c} text" for c in COLUMNS) + ")")
            copy_server_before = _cpu_seconds(db.server_pid) if db.server_pid else None
            t0 = time.monotonic()
            with (
                conn.cursor() as cur,
                cur.copy("COPY bare FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
                file.open("rb") as f,
            ):
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            copy_elapsed = time.monotonic() - t0
            copy_server_cpu = (
                _cpu_seconds(db.server_pid) - copy_server_before
                if db.server_pid and copy_server_before is not None
                else None
            )
            copied = _count(conn, "bare")
    file.unlink()
    return {
        "people": people,
        "database": db.description,
        "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
        "import_client_cpu_s": round(client_cpu, 1),
        "import_server_cpu_s": None if server_cpu is None else round(server_cpu, 1),
        "copy_server_cpu_s": None if copy_server_cpu is None else round(copy_server_cpu, 2),
        "file_generated_s": round(generated_in, 1),
        "import_s": round(elapsed, 2),
        "import_people_per_s": round(created / elapsed),
        "import_people_per_s_without_startup": round(created / _reported_seconds(out, elapsed)),
        "import_peak_rss_mb": round(peak_kb / 1024, 1),
        "imported": created,
        "copy_s": round(copy_elapsed, 2),
        "copy_rows_per_s": round(copied / copy_elapsed),
        "ratio": round((created / _reported_seconds(out, elapsed)) / (copied / copy_elapsed), 3),
        # Per server CPU second (people vs rows): what the load of a shared machine bends less.
        "server_cpu_ratio": (
            round((created / server_cpu) / (copied / copy_server_cpu), 3)
            if server_cpu and copy_server_cpu
            else None
        ),
        "import_output": out.strip().splitlines()[-1] if out.strip() else "",
    }


def _reported_seconds(out: str, fallback: float) -> float:
    """The command's own « Import terminé en N s » (Django's start-up excluded)."""
    import re

    match = re.search(r"Import terminé en ([0-9.]+) s", out)
    return float(match.group(1)) if match else fallback


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - our tables
    assert row is not None
    return int(row[0])


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.enrolment", description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="second size (memory)")
    a = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL") or None
    results = []
    with tempfile.TemporaryDirectory(prefix="mes-bench-enrolment-") as tmp:
        for size in (a.small, a.people):
            r = bench_size(size, Path(tmp), url)
            results.append(r)
            print(
                f"{r['people']:>9,} people | import {r['import_people_per_s']:>8,}/s "
                f"({r['import_people_per_s_without_startup']:,}/s without start-up) "
                f"({r['import_s']} s, peak {r['import_peak_rss_mb']} MB) | COPY "
                f"{r['copy_rows_per_s']:>9,}/s ({r['copy_s']} s) | ratio {r['ratio']} | CPU s: "
                f"import {r['import_client_cpu_s']} + server {r['import_server_cpu_s']}, "
                f"COPY server {r['copy_server_cpu_s']} | load {r['load_average_before_after']}",
                flush=True,
            )
    big = results[-1]
    national = 68_000_000 / big["import_people_per_s"]
    print(
        f"68 million people at {big['import_people_per_s']:,}/s: "
        f"{national / 3600:.1f} h of import (COPY alone: "
        f"{68_000_000 / big['copy_rows_per_s'] / 3600:.1f} h)"
    )
    out = ROOT / "bench" / "results" / f"enrolment-{datetime.now(UTC):%Y-%m-%dT%H%M}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine_cpus": os.cpu_count(), "runs": results}, indent=2))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
