"""The whole PostgreSQL cluster on localhost: etcd, two synchronous Patroni nodes, PgBouncer.

Everything comes from Debian (`etcd-server`, `patroni`, `postgresql`, `pgbouncer`), listens on
127.0.0.1 only and lives in one throwaway folder (default: $TMPDIR/mes-cluster-<port>):

    uv run python -m drills.cluster up        # idempotent: starts what is not running, waits
    uv run python -m drills.cluster status    # members, roles, lag, where PgBouncer points
    eval "$(uv run python -m drills.cluster env)"   # DATABASE_URL & co. for the application
    uv run python -m drills.cluster down      # stops everything, removes the folder

Ports (flags or environment): --pg-port (MES_CLUSTER_PG_PORT, node 1; node 2 is the next),
--rest-port (MES_CLUSTER_REST_PORT, Patroni's REST API, same rule), --etcd-port
(MES_CLUSTER_ETCD_PORT, client; peer is the next), --pgbouncer-port (MES_CLUSTER_PGBOUNCER_PORT),
--dir (MES_CLUSTER_DIR).

The application reaches the primary through PgBouncer's `mes` database, which Patroni's role
callbacks (deploy/cluster/follow_leader.py) keep pointed at the leader; `mes_replica` points at
the standby (DATABASE_REPLICA_URL, for mes.ops.db_router).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "deploy" / "cluster"
NODES = ("node1", "node2")


class ClusterError(RuntimeError):
    """The cluster did not reach the state asked for; the message says what and where to look."""


def _pg_bin() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name),
    )
    if not found:
        raise ClusterError("PostgreSQL introuvable : apt-get install postgresql")
    return found[-1].parent


def _binary(name: str) -> str:
    path = shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin")
    if path is None:
        raise ClusterError(
            f"« {name} » introuvable : apt-get install patroni etcd-server pgbouncer postgresql"
        )
    return path


@dataclass(frozen=True)
class Layout:
    """Where each piece of the cluster lives: one folder, four port bases."""

    dir: Path
    pg_port: int
    rest_port: int
    etcd_port: int
    pgbouncer_port: int

    def pg(self, node: str) -> int:
        return self.pg_port + NODES.index(node)

    def rest(self, node: str) -> int:
        return self.rest_port + NODES.index(node)

    def data_dir(self, node: str) -> Path:
        return self.dir / node / "data"

    def pidfile(self, name: str) -> Path:
        return self.dir / f"{name}.run.pid"

    def log(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    @property
    def pgbouncer_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pgbouncer_port}/mes"

    def direct_url(self, port: int, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{dbname}"


def layout_from(opts: argparse.Namespace | None = None) -> Layout:
    """The layout from the flags, else the environment, else this project's defaults."""

    def pick(attr: str, env: str, default: int) -> int:
        value = getattr(opts, attr, None) if opts is not None else None
        return int(value if value is not None else os.environ.get(env, default))

    pg_port = pick("pg_port", "MES_CLUSTER_PG_PORT", 54341)
    folder = getattr(opts, "dir", None) if opts is not None else None
    folder = folder or os.environ.get("MES_CLUSTER_DIR") or ""
    return Layout(
        dir=Path(folder or Path(tempfile.gettempdir()) / f"mes-cluster-{pg_port}"),
        pg_port=pg_port,
        rest_port=pick("rest_port", "MES_CLUSTER_REST_PORT", 8240),
        etcd_port=pick("etcd_port", "MES_CLUSTER_ETCD_PORT", 23790),
        pgbouncer_port=pick("pgbouncer_port", "MES_CLUSTER_PGBOUNCER_PORT", 64340),
    )


# --- processes -----------------------------------------------------------------------------


def _owner() -> str | None:
    """PostgreSQL and PgBouncer refuse to run as root: as root, everything runs as postgres."""
    return "postgres" if os.geteuid() == 0 else None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _pid(path: Path) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        return int(path.read_text().split()[0])
    return None


def running(layout: Layout, name: str) -> int | None:
    """The pid of one of our processes (etcd, node1, node2, pgbouncer) if it is alive."""
    pid = _pid(layout.pidfile(name))
    return pid if pid is not None and _alive(pid) else None


def _spawn(layout: Layout, name: str, argv: list[str]) -> None:
    if running(layout, name):
        return
    env = {
        "PATH": f"{_pg_bin()}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(layout.dir),
        "LANG": "C.UTF-8",
    }
    with layout.log(name).open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed Debian binaries
            argv,
            cwd=layout.dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `up`; `down` stops it by its pid
            user=_owner(),
        )
    layout.pidfile(name).write_text(f"{proc.pid}\n")


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "\n--- " + str(log) + "\n" + "\n".join(log.read_text().splitlines()[-30:])


def _wait(
    what: str,
    check: Any,
    timeout: float,
    log: Path | None = None,
    watch: tuple[Layout, str] | None = None,
) -> Any:
    """Poll `check` until it returns something true; fail at once if the watched process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if watch is not None and not running(*watch):
            raise ClusterError(f"{what} : le processus {watch[1]} s'est arrêté{_tail(log)}")
        with contextlib.suppress(
            OSError, ValueError, urllib.error.URLError, subprocess.CalledProcessError
        ):
            result = check()
            if result:
                return result
        time.sleep(0.5)
    raise ClusterError(f"{what} : pas prêt après {timeout:.0f} s{_tail(log)}")


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback http
        return json.loads(response.read())


# --- state ---------------------------------------------------------------------------------


def members(layout: Layout) -> list[dict[str, Any]]:
    """Patroni's view of the cluster (any node answers for all), [] when none answers."""
    for node in NODES:
        with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
            found: list[dict[str, Any]] = _get_json(
                f"http://127.0.0.1:{layout.rest(node)}/cluster"
            )["members"]
            return found
    return []


def leader(layout: Layout) -> dict[str, Any] | None:
    return next(
        (m for m in members(layout) if m["role"] == "leader" and m["state"] == "running"), None
    )


def sync_standby(layout: Layout) -> dict[str, Any] | None:
    return next(
        (m for m in members(layout) if m["role"] == "sync_standby" and m["state"] == "running"),
        None,
    )


def postmaster_pid(layout: Layout, node: str) -> int | None:
    """The postmaster of one node (first line of postmaster.pid), if alive."""
    pid = _pid(layout.data_dir(node) / "postmaster.pid")
    return pid if pid is not None and _alive(pid) else None


def node_of(layout: Layout, member: dict[str, Any]) -> str:
    return str(member["name"])


def routing(layout: Layout) -> dict[str, Any]:
    """Where PgBouncer sends `mes` and `mes_replica` (written by the role callbacks)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        state: dict[str, Any] = json.loads((layout.dir / "leader.json").read_text())
        return state
    return {}


def healthy(layout: Layout) -> bool:
    """A running leader, a synchronous standby streaming from it, PgBouncer routing to it."""
    lead, sync = leader(layout), sync_standby(layout)
    return bool(
        lead
        and sync
        and running(layout, "pgbouncer")
        and routing(layout).get("primary") == lead["port"]
    )


# --- up / down -----------------------------------------------------------------------------


def _write_configs(layout: Layout) -> None:
    layout.dir.mkdir(parents=True, exist_ok=True)
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    shutil.copy(TEMPLATES / "follow_leader.py", layout.dir / "follow_leader.py")
    for node in NODES:
        (layout.dir / node).mkdir(exist_ok=True)
        (layout.dir / f"{node}.yml").write_text(
            Template((TEMPLATES / "patroni.yml").read_text()).substitute(
                name=node,
                rest_port=layout.rest(node),
                etcd_port=layout.etcd_port,
                pg_port=layout.pg(node),
                data_dir=layout.data_dir(node),
                bin_dir=_pg_bin(),
                dir=layout.dir,
                python=python,
            )
        )
    state = layout.dir / "leader.json"
    if not state.exists():
        state.write_text(json.dumps({"ports": [layout.pg(n) for n in NODES]}))
    (layout.dir / "userlist.txt").write_text('"postgres" ""\n')
    owner = _owner()
    if owner:
        for parent in layout.dir.resolve().parents:
            if not parent.stat().st_mode & 0o001:
                raise ClusterError(
                    f"{parent} n'est pas traversable par l'utilisateur {owner} : "
                    "choisissez un dossier sous /tmp (--dir, MES_CLUSTER_DIR)"
                )
        uid, gid = pwd.getpwnam(owner).pw_uid, pwd.getpwnam(owner).pw_gid
        for path in [layout.dir, *layout.dir.rglob("*")]:
            os.chown(path, uid, gid)
        layout.dir.chmod(0o700)


def _write_pgbouncer_ini(layout: Layout, primary: int, replica: int) -> None:
    sys.path.insert(0, str(TEMPLATES))
    from follow_leader import databases  # the same text the callbacks write

    ini = layout.dir / "pgbouncer.ini"
    ini.write_text(
        Template((TEMPLATES / "pgbouncer.ini").read_text()).substitute(
            databases=databases(primary, replica),
            pgbouncer_port=layout.pgbouncer_port,
            dir=layout.dir,
        )
    )
    state = routing(layout)
    state.update(primary=primary, replica=replica)
    (layout.dir / "leader.json").write_text(json.dumps(state))
    owner = _owner()
    if owner:
        for path in (ini, layout.dir / "leader.json"):
            shutil.chown(path, owner, owner)


def _psql(layout: Layout, port: int, sql: str, dbname: str = "postgres") -> str:
    done = subprocess.run(  # noqa: S603
        [
            *(str(_pg_bin() / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"),
            *("-d", dbname, "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", sql),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


def up(layout: Layout, *, timeout: float = 180) -> None:
    """Start whatever is not running and wait until the cluster is healthy (idempotent)."""
    _write_configs(layout)
    e = layout.etcd_port
    _spawn(
        layout,
        "etcd",
        [
            *(_binary("etcd"), "--name", "mes-etcd", "--data-dir", str(layout.dir / "etcd")),
            *("--listen-client-urls", f"http://127.0.0.1:{e}"),
            *("--advertise-client-urls", f"http://127.0.0.1:{e}"),
            *("--listen-peer-urls", f"http://127.0.0.1:{e + 1}"),
            *("--initial-advertise-peer-urls", f"http://127.0.0.1:{e + 1}"),
            *("--initial-cluster", f"mes-etcd=http://127.0.0.1:{e + 1}"),
        ],
    )
    _wait(
        "etcd",
        lambda: _get_json(f"http://127.0.0.1:{e}/health").get("health") == "true",
        timeout,
        layout.log("etcd"),
        watch=(layout, "etcd"),
    )
    # One node first, so that it bootstraps alone; the second then clones it.
    first = next((n for n in NODES if running(layout, n)), NODES[0])
    _spawn(layout, first, [_binary("patroni"), str(layout.dir / f"{first}.yml")])
    lead = _wait(
        "leader Patroni", lambda: leader(layout), timeout, layout.log(first), (layout, first)
    )
    for node in NODES:
        _spawn(layout, node, [_binary("patroni"), str(layout.dir / f"{node}.yml")])
    sync = _wait(
        "standby synchrone",
        lambda: sync_standby(layout),
        timeout,
        layout.log(NODES[1]),
        (layout, NODES[1]),
    )
    lead = _wait("leader Patroni", lambda: leader(layout), timeout, layout.log(first))
    if not _psql(layout, lead["port"], "SELECT 1 FROM pg_database WHERE datname = 'mes'"):
        _psql(layout, lead["port"], "CREATE DATABASE mes")
    if not running(layout, "pgbouncer") or routing(layout).get("primary") != lead["port"]:
        _write_pgbouncer_ini(layout, lead["port"], sync["port"])
    if running(layout, "pgbouncer"):
        os.kill(running(layout, "pgbouncer") or 0, signal.SIGHUP)
    _spawn(layout, "pgbouncer", [_binary("pgbouncer"), str(layout.dir / "pgbouncer.ini")])
    _wait(
        "PgBouncer",
        lambda: _psql(layout, layout.pgbouncer_port, "SELECT 1", "mes") == "1",
        timeout,
        layout.log("pgbouncer"),
        (layout, "pgbouncer"),
    )
    _wait("grappe complète", lambda: healthy(layout), timeout, layout.log(first))


def _stop(pid: int, sig: signal.Signals, grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def down(layout: Layout, *, keep: bool = False) -> None:
    """Stop PgBouncer, the standby, the primary and etcd (each by its own pid), then the folder."""
    by_role = sorted(members(layout), key=lambda m: m["role"] == "leader")
    order = ["pgbouncer", *[m["name"] for m in by_role if m["name"] in NODES], *NODES, "etcd"]
    for name in dict.fromkeys(order):
        pid = running(layout, name)
        if pid:
            _stop(pid, signal.SIGTERM, 30)
        layout.pidfile(name).unlink(missing_ok=True)
    for node in NODES:  # a postmaster left behind by a killed Patroni
        pid = postmaster_pid(layout, node)
        if pid:
            _stop(pid, signal.SIGQUIT, 10)
    if not keep:
        shutil.rmtree(layout.dir, ignore_errors=True)


# --- command line --------------------------------------------------------------------------


def status_lines(layout: Layout) -> list[str]:
    lines = [f"dossier : {layout.dir}"]
    for name in ("etcd", *NODES, "pgbouncer"):
        pid = running(layout, name)
        lines.append(f"{name:10} {'en marche, pid ' + str(pid) if pid else 'arrêté'}")
    for m in members(layout):
        lag = m.get("lag", 0)
        lines.append(
            f"  {m['name']}  port {m['port']}  {m['role']:12} {m['state']:9} "
            f"timeline {m.get('timeline', '?')}  retard {lag}"
        )
    route = routing(layout)
    if route.get("primary"):
        lines.append(
            f"PgBouncer :{layout.pgbouncer_port} → mes sur :{route['primary']}, "
            f"mes_replica sur :{route.get('replica')}"
        )
    lines.append("ÉTAT : " + ("sain" if healthy(layout) else "incomplet"))
    return lines


def env_lines(layout: Layout) -> list[str]:
    lead, sync = leader(layout), sync_standby(layout)
    if lead is None:
        raise ClusterError("aucun leader : lancez d'abord « python -m drills.cluster up »")
    values = {
        # Through PgBouncer: follows the leader across failovers.
        "DATABASE_URL": layout.pgbouncer_url,
        "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{layout.pgbouncer_port}/mes_replica",
        "MES_DB_DISABLE_SERVER_SIDE_CURSORS": "1",  # transaction pooling
        # Direct, for test suites that create and drop their own databases.
        "MES_CLUSTER_PRIMARY_URL": layout.direct_url(lead["port"]),
        "MES_CLUSTER_STANDBY_URL": layout.direct_url(sync["port"]) if sync else "",
    }
    return [f"export {k}={v}" for k, v in values.items()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m drills.cluster", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("command", choices=["up", "down", "status", "env"])
    p.add_argument("--dir", help="dossier de la grappe (MES_CLUSTER_DIR)")
    p.add_argument("--pg-port", type=int, help="PostgreSQL du nœud 1 (le nœud 2 : +1)")
    p.add_argument("--rest-port", type=int, help="API REST Patroni du nœud 1 (le nœud 2 : +1)")
    p.add_argument("--etcd-port", type=int, help="etcd, clients (pairs : +1)")
    p.add_argument("--pgbouncer-port", type=int)
    p.add_argument("--timeout", type=float, default=180, help="attente maximale de « up »")
    p.add_argument("--keep", action="store_true", help="« down » garde le dossier (journaux)")
    opts = p.parse_args(argv)
    layout = layout_from(opts)
    try:
        if opts.command == "up":
            started = time.monotonic()
            up(layout, timeout=opts.timeout)
            print("\n".join(status_lines(layout)))
            print(f"Grappe prête en {time.monotonic() - started:.1f} s.")
        elif opts.command == "down":
            down(layout, keep=opts.keep)
            print(f"Grappe arrêtée ({layout.dir}{' conservé' if opts.keep else ' supprimé'}).")
        elif opts.command == "status":
            print("\n".join(status_lines(layout)))
            return 0 if healthy(layout) else 1
        else:
            print("\n".join(env_lines(layout)))
    except (ClusterError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"ÉCHEC : {exc}\n{detail}".rstrip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
