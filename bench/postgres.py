"""A PostgreSQL database for one benchmark run, and nothing left behind afterwards.

- DATABASE_URL given: a fresh database `mes_bench_<random>` is created on that server (the role
  needs CREATEDB) and dropped at the end; the database named in the URL is never written to.
- otherwise: a throwaway cluster, as .ci/run starts one (initdb + pg_ctl from the newest
  /usr/lib/postgresql/*/bin, as the `postgres` user when run as root, trust authentication,
  listening on 127.0.0.1 only, on a free port), stopped and deleted at the end.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class Database:
    url: str
    description: str
    server_pid: int | None  # the postmaster, when this run started it (CPU accounting)


class PostgresUnavailable(Exception):
    """No DATABASE_URL and no PostgreSQL binaries on this machine."""


# A range of ports the benchmarks' servers must use (« 18300-18399 »), for a machine shared
# with other people's servers; by default, any free port the system gives.
PORTS_VARIABLE = "MES_BENCH_PORTS"
_given: set[int] = set()


def free_port() -> int:
    """A free port on 127.0.0.1: the first free one of MES_BENCH_PORTS when it is set."""
    wanted = os.environ.get(PORTS_VARIABLE, "").strip()
    if not wanted:
        return _bind(0)
    low, _, high = wanted.partition("-")
    for port in range(int(low), int(high or low) + 1):
        if port in _given:  # handed out already, maybe not listening yet
            continue
        try:
            _given.add(_bind(port))
            return port
        except OSError:
            continue
    raise OSError(f"{PORTS_VARIABLE}={wanted}: no free port")


def _bind(port: int) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))
        found: int = s.getsockname()[1]
        return found


def pg_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian layout), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else x for x in Path(p).parent.parent.name.split(".")],
    )
    return Path(found[-1]).parent if found else None


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and the server refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603


@contextmanager
def throwaway_cluster(config: Path | None = None) -> Iterator[Database]:
    """Start a private cluster and yield it; `config`, a postgresql.conf fragment, is included
    (the settings a deployment document recommends, so that the figures are theirs)."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(
            "no PostgreSQL binaries under /usr/lib/postgresql/*/bin and no DATABASE_URL"
        )
    root = Path(tempfile.mkdtemp(prefix="mes-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    data = root / "data"
    port = free_port()
    _run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]))
    settings = "default settings"
    if config is not None:
        shutil.copy(config, data / config.name)
        if os.geteuid() == 0:
            shutil.chown(data / config.name, user="postgres")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"\ninclude '{config.name}'\n")
        settings = f"settings of {config.name}"
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log")]
    try:
        _run(_as_postgres([*start, "-w", "start"]))
    except subprocess.CalledProcessError:
        shutil.rmtree(root, ignore_errors=True)
        raise
    version = bin_dir.parent.name
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    try:
        yield Database(
            f"postgres://postgres@127.0.0.1:{port}/postgres",
            f"PostgreSQL {version}, throwaway cluster on 127.0.0.1:{port} ({settings})",
            postmaster,
        )
    finally:
        stop = [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]
        subprocess.run(_as_postgres(stop), check=False, capture_output=True)  # noqa: S603
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def scratch_database(url: str) -> Iterator[Database]:
    """A fresh database on the server of `url`, yielded."""
    import psycopg
    from psycopg import sql

    name = f"mes_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        version = conn.info.server_version
    parts = urlsplit(url)
    bench_url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    host = parts.hostname or "localhost"
    try:
        yield Database(
            bench_url, f"PostgreSQL {version // 10000} on {host}, scratch database {name}", None
        )
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def database(url: str | None, config: Path | None = None) -> Iterator[Database]:
    """A scratch database on `url`'s server (its settings are the server's), else a throwaway
    cluster with the `config` fragment."""
    if url:
        with scratch_database(url) as found:
            yield found
    else:
        with throwaway_cluster(config) as found:
            yield found
