"""Benchmark the task queue and a national campaign's notifications on PostgreSQL.

    uv run python -m bench queue                          # 5 000 tasks, 100 000 people
    uv run python -m bench queue --tasks 2000 --people 10000 --workers 1,2   # quicker
    DATABASE_URL=postgres://… uv run python -m bench queue   # a scratch DB on that server

One run: a throwaway PostgreSQL cluster (bench/postgres.py), the migrations, then:

- **queue**, for each worker count W: `--tasks` tasks that do nothing (bench/tasks.py) enqueued
  one by one through django-tasks (`task.enqueue()`, the call the application makes), then W real
  `mes worker` processes (django-tasks' database backend: claim with SELECT … FOR UPDATE SKIP
  LOCKED, run, mark done) drain them. Rates come from the rows' own timestamps: enqueued/s over
  the enqueue loop, claimed/s and done/s from the first claim to the last claim / last finish;
- **campaign**: `--people` citizens with an account and an e-mail address, a prevention campaign
  for all of them (`mes.agenda.campaigns.campaign_start`), and W workers running it the way
  production does: planning steps hand out slices of MES_REMINDER_BATCH people, slice tasks
  notify them set-based (`campaign_slice`: the centre's Notification row, keyed, and the
  e-mail outbox row per person, one INSERT … SELECT statement per slice). Rate: people notified
  ÷ the time from the first task claimed to the last one finished. Checked: each person exactly
  one notification, one outbox row and one e-mail sent. E-mails are sent by
  `dispatch_deliveries` tasks in the same queue, reported apart (a dummy mail
  backend: the SMTP server is not what is measured);
- **baseline**: one bare `INSERT … SELECT` of the same rows (a Notification and an outbox row per
  person) into the same tables: no task, no key, no preference read.

Results are printed and written to bench/results/queue-<date>.json (not committed).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import postgres
from bench.load import process_tree_cpu
from bench.run import _rsa_pem

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MES = str(Path(sys.executable).with_name("mes"))
DRAIN_TIMEOUT = 1800.0


def _env(url: str, var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MES_", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.base",
            "DATABASE_URL": url,
            "MES_SECRET_KEY": secrets.token_urlsafe(40),
            "MES_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MES_VAR_DIR": var_dir,
            "MES_DEBUG": "1",  # no HTTPS redirects or deploy checks: no web server here
            "MES_LOG_LEVEL": "WARNING",
            "MES_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "MES_OIDC_RSA_PRIVATE_KEY": _rsa_pem(),  # one for every worker
        }
    )
    return env


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def _workers(env: dict[str, str], count: int, log: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    with log.open("ab") as out:
        for _ in range(count):
            procs.append(
                subprocess.Popen(  # noqa: S603 - our own entry point
                    [MES, "worker", "--interval", "0.05", "--no-reload"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_drained(paths: list[str], procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(
        task_path__in=paths,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    )
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while pending.exists():
        if any(p.poll() is not None for p in procs):
            raise SystemExit(f"un worker s'est arrêté :\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise SystemExit("la file ne s'est pas vidée à temps")
        time.sleep(0.2)
    failed = DBTaskResult.objects.filter(task_path__in=paths, status=TaskResultStatus.FAILED)
    first = failed.first()
    if first is not None:
        raise SystemExit(f"{failed.count()} tâches en échec :\n{first.traceback}")


def _span(paths: list[str]) -> dict[str, Any]:
    """Claim and finish times of the tasks, from their rows."""
    from django.db.models import Count, Max, Min
    from django_tasks_db.models import DBTaskResult

    agg = DBTaskResult.objects.filter(task_path__in=paths).aggregate(
        n=Count("pk"),
        first=Min("started_at"),
        last_claim=Max("started_at"),
        last_done=Max("finished_at"),
    )
    return agg


def bench_queue(env: dict[str, str], tasks: int, workers: int, log: Path) -> dict[str, Any]:
    from django_tasks_db.models import DBTaskResult

    from bench.tasks import nothing

    DBTaskResult.objects.filter(task_path=nothing.module_path).delete()
    start = time.perf_counter()
    for n in range(tasks):
        nothing.enqueue(n)
    enqueue = time.perf_counter() - start
    procs = _workers(env, workers, log)
    try:
        _wait_drained([nothing.module_path], procs, log)
    finally:
        _stop(procs)
    span = _span([nothing.module_path])
    claim = (span["last_claim"] - span["first"]).total_seconds()
    done = (span["last_done"] - span["first"]).total_seconds()
    return {
        "workers": workers,
        "tasks": span["n"],
        "enqueued_per_second": round(tasks / enqueue),
        "claimed_per_second": round(tasks / claim) if claim else None,
        "done_per_second": round(tasks / done),
        "drain_seconds": round(done, 2),
    }


def _populate(people: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO identity_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, kind, phone)
            SELECT '!', false, 'banc' || i, '', '', 'banc' || i || '@example.org', false, true,
                   now(), 'citizen', ''
            FROM generate_series(1, %s) AS i
            """,
            [people],
        )
        cur.execute(
            """
            INSERT INTO identity_citizen (id, ins, ins_kind, identity_status, birth_name,
                used_name, first_names, first_name, used_first_name, birth_date, sex,
                birth_place_insee, email, created_at, user_id)
            SELECT gen_random_uuid(), lpad(u.id::text, 15, '0'), 'NIR', 'QUAL', 'Banc', '',
                   'Personne', 'Personne', '', DATE '1950-01-01' + (u.id %% 3650)::int,
                   CASE WHEN u.id %% 2 = 0 THEN 'F' ELSE 'M' END, '75056', u.email, now(), u.id
            FROM identity_user u WHERE u.username LIKE 'banc%%'
            """,
            [],
        )
        cur.execute("ANALYZE")


def bench_campaign(
    env: dict[str, str], people: int, workers: int, log: Path, postmaster: int | None
) -> dict[str, Any]:
    from django.db.models import Count

    from mes.agenda.campaigns import campaign_start
    from mes.agenda.models import Campaign
    from mes.agenda.tasks import run_campaign_batch, run_campaign_slice
    from mes.notifications.models import Delivery, Notification
    from mes.notifications.tasks import dispatch_deliveries

    campaign = campaign_start(
        title="Banc d'essai",
        label="La campagne de vaccination contre la grippe est ouverte",
        reason="vous avez 65 ans ou plus",
        code=Campaign.Code.VACCINATION,
        age_min=65,
    )
    paths = [run_campaign_batch.module_path, run_campaign_slice.module_path]
    pg_before = process_tree_cpu(postmaster) if postmaster else 0.0
    procs = _workers(env, workers, log)
    try:
        _wait_drained(paths, procs, log)
        span = _span(paths)
        # CPU actually spent (the workers' start-up included, a little against us): on a busy
        # machine the wall time says how much CPU we were given, this says what the work costs.
        worker_cpu = sum(process_tree_cpu(p.pid) for p in procs)
        pg_cpu = process_tree_cpu(postmaster) - pg_before if postmaster else 0.0
        _wait_drained([dispatch_deliveries.module_path], procs, log)
        mailed = _span([dispatch_deliveries.module_path])
    finally:
        _stop(procs)
    seconds = (span["last_done"] - span["first"]).total_seconds()
    notes = Notification.objects.filter(code=Notification.Code.VACCINATION_DUE)
    per_person = notes.values("profile_id").annotate(n=Count("pk"))
    twice = per_person.filter(n__gt=1).count()
    outbox = Delivery.objects.filter(key__startswith=f"camp:{campaign.pk}:")
    mails = outbox.count()
    sent = outbox.filter(status=Delivery.Status.SENT).count()
    mail_seconds = (mailed["last_done"] - mailed["first"]).total_seconds() if mailed["n"] else 0
    campaign.refresh_from_db()
    return {
        "workers": workers,
        "people": people,
        "batch": int(os.environ.get("MES_REMINDER_BATCH", "2000")),
        "tasks": span["n"],
        "seconds": round(seconds, 2),
        "notifications_per_second": round(notes.count() / seconds),
        "cpu_seconds": {"workers": round(worker_cpu, 1), "postgresql": round(pg_cpu, 1)},
        "notifications_per_cpu_second": round(notes.count() / (worker_cpu + pg_cpu))
        if worker_cpu + pg_cpu
        else None,
        "notified": notes.count(),
        "people_notified_twice": twice,
        "outbox_rows": mails,
        "campaign_sent": campaign.sent,
        # The e-mails, sent by dispatch tasks in the same queue while and after the campaign
        # runs (first dispatch claimed to last finished; a dummy mail backend).
        "emails_sent": sent,
        "dispatch_tasks": mailed["n"],
        "dispatch_seconds": round(mail_seconds, 2),
        "emails_per_second": round(sent / mail_seconds) if mail_seconds else None,
    }


def baseline(people: int) -> dict[str, Any]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        start = time.perf_counter()
        cur.execute(
            """
            INSERT INTO notifications_notification (code, label, url, link_label, created_at,
                hidden_from_representatives, profile_id)
            SELECT 'RAPPEL_RDV_PREV', 'La campagne de vaccination est ouverte', '/agenda/',
                   'Voir mon agenda', now(), false, c.id
            FROM identity_citizen c WHERE c.birth_name = 'Banc'
            """
        )
        cur.execute(
            """
            INSERT INTO notifications_delivery (key, channel, category, destination, subject,
                body, status, attempts, created_at, recipient_id)
            SELECT 'base:' || c.id, 'email', 'rdv', c.email, 'Mon espace santé',
                   'Une nouvelle notification vous attend.', 'pending', 0, now(), c.id
            FROM identity_citizen c WHERE c.birth_name = 'Banc'
            """
        )
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)  # the outbox must not send these
    return {"seconds": round(seconds, 3), "notifications_per_second": round(people / seconds)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=5_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2,4", help="nombres de workers, séparés par ,")
    parser.add_argument("--campaign-workers", type=int, default=2)
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="mes-bench-queue-"))
    log = work / "workers.log"
    with postgres.database(os.environ.get("DATABASE_URL")) as db:
        env = _env(db.url, str(work / "var"))
        _setup(env)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        load = os.getloadavg()
        queue = [bench_queue(env, args.tasks, w, log) for w in counts]
        _populate(args.people)
        campaign = bench_campaign(env, args.people, args.campaign_workers, log, db.server_pid)
        base = baseline(args.people)
        result = {
            "database": db.description,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_at_start": [round(x, 2) for x in load],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "queue": queue,
            "campaign": campaign,
            "baseline": base,
            "ratio": round(
                campaign["notifications_per_second"] / base["notifications_per_second"], 3
            ),
        }
    for q in queue:
        print(
            f"file     {q['workers']} worker(s) : {q['enqueued_per_second']:>6} mises en file/s, "
            f"{q['claimed_per_second']} prises/s, {q['done_per_second']} faites/s "
            f"({q['tasks']} tâches)"
        )
    c = campaign
    print(
        f"campagne {c['workers']} worker(s), lots de {c['batch']} : "
        f"{c['notifications_per_second']} notifications/s ({c['notified']} personnes en "
        f"{c['seconds']} s, {c['tasks']} tâches, {c['people_notified_twice']} notifiées deux "
        f"fois, {c['outbox_rows']} courriels en file)"
    )
    if c["notifications_per_cpu_second"]:
        print(
            f"         CPU : workers {c['cpu_seconds']['workers']} s + PostgreSQL "
            f"{c['cpu_seconds']['postgresql']} s → {c['notifications_per_cpu_second']} "
            f"notifications par seconde de CPU ({2 * c['notifications_per_cpu_second']}/s "
            "sur 2 cœurs libres)"
        )
    print(
        f"courriels {c['emails_sent']} envoyés en {c['dispatch_seconds']} s par "
        f"{c['dispatch_tasks']} tâches : {c['emails_per_second']}/s"
    )
    print(
        f"base     INSERT … SELECT : {base['notifications_per_second']} notifications/s "
        f"({base['seconds']} s) ; rapport {result['ratio']}"
    )
    print(
        f"charge de la machine : {result['load_average_at_start']} "
        f"→ {result['load_average_at_end']}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"queue-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"→ {out}", file=sys.stderr)
    ok = (
        c["people_notified_twice"] == 0
        and c["notified"] == c["people"] == c["outbox_rows"] == c["emails_sent"]
    )
    if not ok:
        raise SystemExit(
            "ÉCHEC : chaque personne doit avoir exactement une notification et un courriel envoyé"
        )


if __name__ == "__main__":
    main()
