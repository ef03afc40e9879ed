"""The `mes` command: Django management plus the service's own entry points.

mes demo            prepare (migrate, demo data) and serve everything on localhost
mes serve           production web server (gunicorn)
mes worker          background tasks (django-tasks database backend)
mes smtp-gateway     the MSSanté gateway (SMTP + STARTTLS, LMTP)
mes audit verify    recompute every trace chain, name the first altered row
mes <command>       any Django management command (migrate, check, ...)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
    args = sys.argv[1:]
    if args[:1] == ["demo"]:
        os.environ.setdefault("MES_DEMO", "1")
    if args[:1] == ["serve"]:
        bind = os.environ.get("MES_BIND", "0.0.0.0:8000")
        workers = os.environ.get("MES_WEB_WORKERS", "4")
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        argv = [gunicorn, "config.wsgi:application", "--bind", bind, "--workers", workers]
        os.execv(gunicorn, [*argv, *args[1:]])  # noqa: S606 - our own server, fixed path
    if args[:1] == ["smtp-gateway"]:
        args = ["smtp_gateway", *args[1:]]
    if args[:1] == ["worker"]:
        args = ["db_worker", *args[1:]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["mes", *args])


if __name__ == "__main__":
    main()
