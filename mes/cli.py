"""The `mes` command: Django management plus the service's own entry points.

mes demo            prepare (migrate, demo data) and serve everything on localhost
mes serve           production web server (gunicorn), on 127.0.0.1:8000 unless MES_BIND says
mes worker          background tasks (django-tasks database backend), trace checkpoints
mes smtp-gateway    the MSSanté gateway (SMTP + STARTTLS, LMTP)
mes audit verify    recompute every trace chain, name the first altered row
mes <command>       any Django management command (migrate, check, ...)
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

# Loopback unless the operator says otherwise: exposing the server is a decision (MES_BIND).
DEFAULT_BIND = "127.0.0.1:8000"
# Unix socket paths are limited to 108 bytes (sun_path); keep a margin.
_SOCKET_PATH_MAX = 100


def control_socket(var_dir: Path, bind: str) -> Path:
    """gunicorn's control socket for this instance: one per data directory and address, so two
    instances on one machine (two demos, a server and a benchmark) never share one."""
    name = "gunicorn-" + re.sub(r"[^A-Za-z0-9.-]+", "_", bind) + ".ctl"
    path = var_dir / name
    if len(str(path)) <= _SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha256(f"{var_dir.resolve()}|{bind}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mes-gunicorn-{digest}.ctl"


def serve_argv(args: list[str]) -> list[str]:
    from django.conf import settings

    bind = os.environ.get("MES_BIND", DEFAULT_BIND)
    workers = os.environ.get("MES_WEB_WORKERS", "4")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    socket = control_socket(Path(settings.VAR_DIR), bind)
    return [
        gunicorn,
        "config.wsgi:application",
        "--bind",
        bind,
        "--workers",
        workers,
        "--control-socket",
        str(socket),
        *args,
    ]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
    args = sys.argv[1:]
    if args[:1] == ["demo"]:
        os.environ.setdefault("MES_DEMO", "1")
    if args[:1] == ["worker"]:
        # The worker loop ends each task like a request ends (close_old_connections): with the
        # web's default of 0 it would open a new PostgreSQL connection for every task, which
        # costs more than a small task. One connection kept for ten minutes (checked before use).
        os.environ.setdefault("MES_DB_CONN_MAX_AGE", "600")
    if args[:1] in (["serve"], ["worker"]):
        import django
        from django.core.exceptions import ImproperlyConfigured

        try:
            django.setup()
            from config.safety import refuse_unsafe_settings

            refuse_unsafe_settings()
        except ImproperlyConfigured as exc:
            sys.exit(f"mes {args[0]} : {exc}")
    if args[:1] == ["serve"]:
        # Prometheus counters shared by this instance's workers, in a folder of its own.
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="mes-metrics-"))
        argv = serve_argv(args[1:])
        os.execv(argv[0], argv)  # noqa: S606 - our own server, fixed path
    if args[:1] == ["smtp-gateway"]:
        args = ["smtp_gateway", *args[1:]]
    if args[:1] == ["worker"]:
        from django.db import DatabaseError

        from mes.audit.tasks import schedule_next
        from mes.enrolment.tasks import schedule_sweep as schedule_enrolment_sweep
        from mes.ops.queue import requeue_stale
        from mes.ops.queue import schedule_sweep as schedule_stale_sweep

        # A checkpoint of the trace soon after the worker starts; each one plans the next.
        # Likewise the daily timers of the espace's life (the next MES_ENROLMENT_SWEEP_AT).
        # Tasks left RUNNING by a dead worker go back to the queue (at-least-once).
        try:
            schedule_next(after=timedelta(seconds=30))
            schedule_enrolment_sweep()
            requeue_stale()
            schedule_stale_sweep()
        except DatabaseError as exc:  # not migrated yet: the worker says so itself
            print(f"mes worker : tâches périodiques non planifiées ({exc})", file=sys.stderr)
        args = ["db_worker", *args[1:]]
        # A long-lived process: what start-up loaded (Django, the apps, the models) stays for
        # good, so the cyclic collector need not walk it again at every full collection — in
        # the reminder sweep that walk cost more than the work itself (bench/README.md).
        gc.collect()
        gc.freeze()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["mes", *args])


if __name__ == "__main__":
    main()
