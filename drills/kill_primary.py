"""Drill: kill -9 the PostgreSQL primary in the middle of ITI-65 deposits.

The cluster of drills/cluster.py (etcd, two Patroni nodes in synchronous mode, PgBouncer) is
started if it is not running. A demo instance is loaded into a fresh database of that cluster
and served by `mes serve` through PgBouncer. Client threads deposit PDFs through the FHIR API
(IHE MHD ITI-65); after a while the primary's postmaster gets SIGKILL. Patroni promotes the
synchronous standby, its role callback points PgBouncer at it, and the service recovers without
anyone touching it. Then:

- every deposit that was acknowledged (a 2xx) must be in the database, whole (its row, and a
  blob that decrypts to exactly the bytes sent): synchronous replication means the standby had
  it before the client got its answer;
- a deposit whose answer was lost or was an error (the in-flight ones) is wholly there or not
  at all;
- the time from the kill to the next acknowledged deposit is the time to recover.

    uv run python -m drills.kill_primary [--threads 4] [--before 6] [--after 6]

Cluster ports: see `python -m drills.cluster --help` (same flags and environment).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from drills import cluster
from drills.common import deposit
from drills.kill_web import LOUISE_INS as INS
from drills.kill_web import (
    MES,
    _database_state,
    _env,
    _free_port,
    _pdf,
    _serve,
    _token,
)


@dataclass
class Deposits:
    acknowledged: dict[str, str] = field(default_factory=dict)  # unique id -> sha256 sent
    acknowledged_at: list[float] = field(default_factory=list)  # monotonic times of the 2xx
    in_doubt: dict[str, str] = field(default_factory=dict)  # no answer, or an error: 0 or 1
    refused: int = 0  # a 4xx: the request itself was refused, nothing stored
    lock: threading.Lock = field(default_factory=threading.Lock)


def _depositor(base: str, token: str, stop: threading.Event, out: Deposits, n0: int) -> None:
    n = n0
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            n += 1
            sent = deposit(token, INS, f"Exercice {n}", _pdf(n))
            unique_id, digest = sent.unique_id, sent.digest
            try:
                response = sent.send(client, base, token)
            except httpx.HTTPError:
                status = 0
            else:
                status = response.status_code
            with out.lock:
                if 200 <= status < 300:
                    out.acknowledged[unique_id] = digest
                    out.acknowledged_at.append(time.monotonic())
                elif 400 <= status < 500:
                    out.refused += 1
                else:
                    out.in_doubt[unique_id] = digest
            if status == 0 or status >= 500:
                time.sleep(0.1)  # the service is failing over: do not spin


@dataclass
class Report:
    acknowledged_before: int
    acknowledged_after: int
    in_doubt: int
    in_doubt_present: int
    refused: int
    missing: list[str]
    altered: list[str]
    broken: list[str]
    unexplained: list[str]
    recovered_after: float | None
    old_leader: str
    new_leader: str
    cluster_healthy_after: float | None

    @property
    def ok(self) -> bool:
        return bool(
            not (self.missing or self.altered or self.broken or self.unexplained)
            and self.recovered_after is not None
            and self.old_leader != self.new_leader
            and self.acknowledged_before > 0
            and self.acknowledged_after > 0
        )

    def lines(self) -> list[str]:
        recovered = f"{self.recovered_after:.1f} s" if self.recovered_after is not None else "—"
        healthy = (
            f"{self.cluster_healthy_after:.1f} s" if self.cluster_healthy_after is not None else "—"
        )
        return [
            f"Primaire tué : {self.old_leader} ; nouveau primaire : {self.new_leader}.",
            f"Dépôts acquittés avant le kill -9 : {self.acknowledged_before}, "
            f"après : {self.acknowledged_after}.",
            f"Sans réponse ou en erreur pendant la bascule : {self.in_doubt} "
            f"(présents, entiers : {self.in_doubt_present}) ; refusés (4xx) : {self.refused}.",
            f"Acquittés absents de la base : {len(self.missing)}",
            f"Acquittés altérés : {len(self.altered)}",
            f"Lignes sans fichier lisible : {len(self.broken)}",
            f"Documents inexpliqués : {len(self.unexplained)}",
            f"Service rétabli (premier dépôt acquitté après le kill) en : {recovered}",
            f"Grappe de nouveau complète (standby synchrone revenu) en : {healthy}",
            "RÉSULTAT : "
            + ("aucun dépôt acquitté perdu, service rétabli seul" if self.ok else "ÉCHEC"),
        ]


def _fresh_database(layout: cluster.Layout) -> str:
    lead = cluster.leader(layout)
    if lead is None:
        raise cluster.ClusterError("aucun leader")
    name = f"mes_drill_{uuid.uuid4().hex[:8]}"
    cluster._psql(layout, lead["port"], f"CREATE DATABASE {name}")
    return name


def _drop_database(layout: cluster.Layout, name: str) -> None:
    lead = cluster.leader(layout)
    if lead is not None:
        cluster._psql(layout, lead["port"], f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(
    layout: cluster.Layout,
    *,
    threads: int = 4,
    before: float = 6.0,
    after: float = 6.0,
    recover_timeout: float = 90.0,
    keep: bool = False,
) -> Report:
    """Run the drill on a running (or startable) cluster; returns what it found."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per deposit otherwise
    cluster.up(layout)
    database = _fresh_database(layout)
    work = Path(tempfile.mkdtemp(prefix="mes-drill-kill-primary-"))
    env = _env(work / "var", f"postgres://postgres@127.0.0.1:{layout.pgbouncer_port}/{database}")
    env.update(MES_DB_DISABLE_SERVER_SIDE_CURSORS="1", MES_DB_CONN_MAX_AGE="0")
    server = None
    try:
        print(f"Préparation de l'instance de démonstration (base {database}) …", flush=True)
        subprocess.run([MES, "demo", "--load-only"], env=env, check=True, capture_output=True)  # noqa: S603
        secret = (work / "var" / "demo-api-client.secret").read_text().strip()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(env, port, work / "server.log")
        token = _token(base, secret)

        deposits = Deposits()
        stop = threading.Event()
        workers = [
            threading.Thread(target=_depositor, args=(base, token, stop, deposits, i * 100000))
            for i in range(threads)
        ]
        for t in workers:
            t.start()
        time.sleep(before)

        old = cluster.leader(layout)
        assert old is not None
        pid = cluster.postmaster_pid(layout, old["name"])
        assert pid is not None
        with deposits.lock:
            acked_before = len(deposits.acknowledged)
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        print(f"kill -9 du postmaster du primaire {old['name']} (pid {pid}).", flush=True)

        recovered_after = None
        deadline = killed_at + recover_timeout
        while time.monotonic() < deadline:
            with deposits.lock:
                later = [t for t in deposits.acknowledged_at if t > killed_at + 0.05]
            if later:
                recovered_after = later[0] - killed_at
                break
            time.sleep(0.1)
        time.sleep(after)
        stop.set()
        for t in workers:
            t.join()

        healthy_after = None
        while time.monotonic() < killed_at + recover_timeout:
            if cluster.healthy(layout):
                healthy_after = time.monotonic() - killed_at
                break
            time.sleep(0.5)
        new = cluster.leader(layout)

        state: dict[str, Any] = _database_state(env)
        found = {u.removeprefix("urn:oid:"): h for u, h in state["found"].items()}
        acked = deposits.acknowledged
        in_doubt_present = [u for u in deposits.in_doubt if u in found]
        return Report(
            acknowledged_before=acked_before,
            acknowledged_after=len(acked) - acked_before,
            in_doubt=len(deposits.in_doubt),
            in_doubt_present=len([u for u in in_doubt_present if found[u] == deposits.in_doubt[u]]),
            refused=deposits.refused,
            missing=[u for u in acked if u not in found],
            altered=[u for u, h in acked.items() if u in found and found[u] != h]
            + [u for u in in_doubt_present if found[u] != deposits.in_doubt[u]],
            broken=list(state["broken"]),
            unexplained=[u for u in found if u not in acked and u not in deposits.in_doubt],
            recovered_after=recovered_after,
            old_leader=str(old["name"]),
            new_leader=str(new["name"]) if new else "—",
            cluster_healthy_after=healthy_after,
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()
        if not keep:
            _drop_database(layout, database)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m drills.kill_primary", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--before", type=float, default=6.0, help="secondes de dépôts avant le kill")
    p.add_argument("--after", type=float, default=6.0, help="secondes de dépôts après reprise")
    p.add_argument("--keep", action="store_true", help="garder la base de l'exercice")
    p.add_argument("--dir")
    p.add_argument("--pg-port", type=int)
    p.add_argument("--rest-port", type=int)
    p.add_argument("--etcd-port", type=int)
    p.add_argument("--pgbouncer-port", type=int)
    opts = p.parse_args(argv)
    report = run(
        cluster.layout_from(opts),
        threads=opts.threads,
        before=opts.before,
        after=opts.after,
        keep=opts.keep,
    )
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
