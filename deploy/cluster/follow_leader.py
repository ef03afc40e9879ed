"""Patroni callback: point PgBouncer at the current primary (and `mes_replica` at a standby).

Patroni runs it on a node after that node starts or changes role, appending three arguments:
the event, the node's new role and the cluster's name. A node that becomes the primary takes
`mes` (and `*`); a node that starts as a replica takes `mes_replica`, and takes `mes` away from
itself if it held it. The [databases] section is rewritten whole, atomically, then PgBouncer is
reloaded (SIGHUP): it closes its server connections to a host that is no longer listed.

Standard library only: it runs under Debian's python3, as the user that runs Patroni.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
from pathlib import Path

PRIMARY_ROLES = {"master", "primary", "promoted"}


def databases(primary: int, replica: int) -> str:
    return (
        f"mes = host=127.0.0.1 port={primary} dbname=mes\n"
        f"mes_replica = host=127.0.0.1 port={replica} dbname=mes\n"
        f"* = host=127.0.0.1 port={primary}\n"
    )


def rewrite(ini: Path, section: str) -> None:
    text = ini.read_text()
    head, _, rest = text.partition("[databases]\n")
    _, _, tail = rest.partition("\n[pgbouncer]")
    tmp = ini.with_suffix(".tmp")
    tmp.write_text(f"{head}[databases]\n{section}\n[pgbouncer]{tail}")
    os.replace(tmp, ini)


def reload(pidfile: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGHUP)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--state", type=Path, required=True)
    p.add_argument("--ini", type=Path, required=True)
    p.add_argument("--pidfile", type=Path, required=True)
    p.add_argument("--self-port", type=int, required=True)
    p.add_argument("event")
    p.add_argument("role")
    p.add_argument("scope")
    opts = p.parse_args(argv)
    with open(opts.state.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two nodes' callbacks may run at the same moment
        state = json.loads(opts.state.read_text())
        ports: list[int] = state["ports"]
        other = next(port for port in ports if port != opts.self_port)
        if opts.role in PRIMARY_ROLES:
            state["primary"], state["replica"] = opts.self_port, other
        elif opts.role == "replica":
            state["replica"] = opts.self_port
            if state.get("primary") == opts.self_port:
                state["primary"] = other
        else:  # demoted, uninitialized...: leave the routing as it is
            return 0
        state.setdefault("primary", other)
        tmp = opts.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, opts.state)
        if opts.ini.exists():
            rewrite(opts.ini, databases(state["primary"], state["replica"]))
            reload(opts.pidfile)
        with open(opts.state.with_name("roles.log"), "a") as log:
            log.write(f"{opts.event} {opts.role} {opts.self_port} -> {json.dumps(state)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
