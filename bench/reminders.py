"""Benchmark the daily reminder sweep on PostgreSQL beside a bare INSERT … SELECT.

    uv run python -m bench.reminders                      # 1 000 000 people
    uv run python -m bench.reminders --people 100000      # quicker
    DATABASE_URL=postgres://… uv run python -m bench.reminders   # a scratch DB on that server

One run: a throwaway PostgreSQL cluster (bench/postgres.py), the migrations, `--people`
citizens written with one generate_series (birth dates spread evenly over 100 years, both
sexes), a share `--accounts` of them with an activated espace (`_accounts`: adults with a
login, most with an e-mail, some with a mobile and SMS chosen, some with e-mail turned off,
a few with neither but a postal address; as many children, in proportion, with a parent
holding one of these accounts), everyone's espace in its state as after the national
enrolment (`_espaces`: active for those, 2 % opposed, the others created but not activated;
by default a third activated, the service's figure of January 2026: 24 M of 68 M), ANALYZE,
then, in this order:

- **sweep**: `mes.agenda.reminders.prevention_reminders` as the worker runs it for the day —
  phase 1, one statement per day of the catch-up window from the rules' opening slots
  (`opening_slots`, the pure engine run once per opening age, and sex where a rule is for one
  sex): the INSERT … SELECT of the notifications (the reminder's key is the notification's,
  ON CONFLICT DO NOTHING) with the exclusions (an espace not open to its holder: not
  activated, opposed…; opposition to personalised prevention, what was said, an appointment
  planned) for everyone with nothing recorded (here: everyone), and, in the same statement,
  the outbox rows of the account holders and parents told by e-mail, SMS or letter;
  phase 2, the people whose calendar is more than birth date and sex (none here: one query
  says so), checked against their own calendar and notified in batches by the same writer;
- **baseline**: one bare `INSERT … SELECT` of the same reminder rows (the same join of the
  citizens to the same slots, for the same people: those whose espace is open to them) into an
  unindexed table: no other exclusion, no check, no notification.

Reported: people per second (population ÷ wall time) for both, their ratio, the reminder rows,
the sweep's peak Python memory (tracemalloc, on the next day's sweep: tracing slows every
allocation, so it is kept out of the timed run) and the process's peak RSS; and the CPU seconds
of each, the client's (this process) and the server's (the session's backend, from Linux
schedstat, when the server runs on this machine), with their ratio: the wall time of a shared
machine moves with its load, the CPU seconds much less. Results are printed and
written to bench/results/reminders-<date>.json (not committed).
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench import postgres

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TODAY = date(2026, 12, 7)
# January 2026: 24 M espaces activated of 68 M (wave2.md, « Activation gap »); < 2 % opposed
# (mes-spec §12, Oct–Nov 2022).
ACTIVATED = 0.35
OPPOSED_PER_10000 = 200


def _setup(url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.base",
            "DATABASE_URL": url,
            "MES_SECRET_KEY": secrets.token_urlsafe(40),
            "MES_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MES_VAR_DIR": tempfile.mkdtemp(prefix="mes-bench-reminders-"),
            "MES_DEBUG": "1",  # no HTTPS redirects or deploy checks: no web server here
        }
    )
    import django

    django.setup()


def _populate(people: int) -> float:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO identity_citizen (id, ins, ins_kind, identity_status, birth_name,
                used_name, first_names, first_name, used_first_name, birth_date, sex,
                birth_place_insee, email, created_at, user_id)
            SELECT gen_random_uuid(), lpad(i::text, 15, '0'), 'NIR', 'QUAL', 'Banc', '',
                   'Personne', 'Personne', '', %s::date - (i %% 36525),
                   CASE WHEN i %% 2 = 0 THEN 'F' ELSE 'M' END, '75056', '', now(), NULL
            FROM generate_series(1, %s) AS i
            """,
            [TODAY, people],
        )
        cur.execute("ANALYZE")
    return time.perf_counter() - start


def _accounts(share: float) -> dict[str, int]:
    """Activate the espaces of `share` of the population, like the service's: adults with a
    login (90 % with an e-mail; 30 % with a mobile, a third of them with SMS chosen for the
    reminders' categories; 5 % with e-mail turned off; those with neither e-mail nor mobile, a
    postal address for letters), and children (under 18) in the same proportion with a parent
    holding one of these accounts. Deterministic (from each person's number, `ins`)."""
    from django.db import connection

    if share <= 0:
        return {"accounts": 0, "children_with_a_parent": 0}
    # The same share at every age: adults with their account, children with a parent's.
    per_10000 = min(10000, round(10000 * share))
    with connection.cursor() as cur:
        cur.execute(
            """
            CREATE TEMP TABLE bench_account AS
            SELECT id AS citizen_id, CAST(ins AS BIGINT) AS i FROM identity_citizen
            WHERE %s::date - birth_date >= 6575 AND mod(CAST(ins AS BIGINT) * 7919, 10000) < %s
            """,
            [TODAY, per_10000],
        )
        cur.execute(
            """
            INSERT INTO identity_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, kind, phone)
            SELECT '!', false, 'banc-' || i, '', '', '', false, true, now(), 'citizen',
                   CASE WHEN mod(i, 10) < 3 THEN '+336' || lpad(CAST(i AS TEXT), 8, '0')
                        ELSE '' END
            FROM bench_account
            """
        )
        cur.execute(
            """
            UPDATE identity_citizen c
            SET user_id = u.id,
                email = CASE WHEN mod(a.i, 10) < 9 THEN 'p' || a.i || '@exemple.org' ELSE '' END
            FROM bench_account a JOIN identity_user u ON u.username = 'banc-' || a.i
            WHERE c.id = a.citizen_id
            """
        )
        accounts = cur.rowcount
        # Preferences: SMS chosen (with the e-mail) for a third of the mobiles; e-mail off.
        cur.execute(
            """
            INSERT INTO notifications_channelpreference (citizen_id, category, email, sms,
                changed_at)
            SELECT a.citizen_id, cat, mod(a.i, 20) <> 7, mod(a.i, 10) = 0, now()
            FROM bench_account a
            CROSS JOIN (VALUES ('NOTIF_APPOINTMENT'), ('NOTIF_DEPISTAGE')) AS t(cat)
            WHERE mod(a.i, 10) = 0 OR mod(a.i, 20) = 7
            """
        )
        cur.execute(
            """
            INSERT INTO notifications_postaladdress (citizen_id, lines)
            SELECT a.citizen_id, a.i || ' rue de la Paix' || E'\n' || '75002 Paris'
            FROM bench_account a WHERE mod(a.i, 10) = 9
            """
        )
        # Children with a parent among the account holders (the n-th child, the n-th holder).
        cur.execute(
            """
            INSERT INTO enrolment_legalrepresentation (representative_id, represented_id, role,
                started_at, ended_at)
            SELECT p.citizen_id, k.id, 'mother', now() - interval '1 year', NULL
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM identity_citizen
                  WHERE %s::date - birth_date < 6575
                    AND mod(CAST(ins AS BIGINT) * 7919, 10000) < %s) k
            JOIN (SELECT citizen_id, row_number() OVER (ORDER BY citizen_id) AS n
                  FROM bench_account) p
              ON p.n = 1 + mod(k.n, (SELECT count(*) FROM bench_account))
            """,
            [TODAY, per_10000],
        )
        children = cur.rowcount
        cur.execute("DROP TABLE bench_account")
    return {"accounts": accounts, "children_with_a_parent": children}


def _espaces() -> dict[str, int]:
    """Everyone's espace as after the national enrolment: active for the account holders and
    the children of one (their parent activated it), 2 % opposed, the others created and not
    activated yet (told of nothing: mes.enrolment.policies.citizen_side_q)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO enrolment_espace (citizen_id, state, state_changed_at, vitale_serial,
                phone, address, postcode, city, notice_channel, code_failures)
            SELECT c.id,
                   CASE WHEN c.user_id IS NOT NULL OR EXISTS (
                            SELECT 1 FROM enrolment_legalrepresentation r
                            WHERE r.represented_id = c.id) THEN 'active'
                        WHEN mod(CAST(c.ins AS BIGINT) * 104729, 10000) < %s THEN 'opposed'
                        ELSE 'created' END,
                   now(), '8025000000001', '', '', '', '', 'email', 0
            FROM identity_citizen c
            """,
            [OPPOSED_PER_10000],
        )
        cur.execute("SELECT state, count(*) FROM enrolment_espace GROUP BY state")
        return dict(cur.fetchall())


def _outbox() -> dict[str, int]:
    """The outbox rows the sweep queued, by channel."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT channel, count(*) FROM notifications_delivery GROUP BY channel")
        return dict(cur.fetchall())


def _backend_cpu() -> float | None:
    """CPU seconds the session's PostgreSQL backend has run so far (Linux schedstat, in ns), or
    None when the server is not on this machine: with the client's own CPU, what a statement
    costs whatever the load of a shared machine does to the wall time."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _wal_position() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_current_wal_insert_lsn()")
        return str(cur.fetchone()[0])


def _wal_bytes_since(position: str) -> int:
    """The write-ahead log written since `position` (by anyone: nothing else runs)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", [position])
        return int(cur.fetchone()[0])


def _a_day_passes() -> None:
    """What happens between two daily runs, for both sides: checkpoints (every 5 minutes at
    least). After one, the first change of each page is logged whole (full_page_writes): the
    citizen pages the foreign keys' checks lock, the index pages the notifications go into.
    Without it, whether the timed run pays for those images would depend on when the server
    last checkpointed by itself."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cur:
            cur.execute("CHECKPOINT")
    except DatabaseError as exc:  # a role without pg_checkpoint, on a shared server
        print(f"attention : pas de CHECKPOINT avant la mesure ({exc})", file=sys.stderr)


_Start = tuple[float, float | None, str]


def _cpu() -> _Start:
    return time.process_time(), _backend_cpu(), _wal_position()


def _cpu_since(start: _Start) -> dict[str, float | None]:
    client, server, _ = _cpu()
    return {
        "client": round(client - start[0], 4),
        "server": None if server is None or start[1] is None else round(server - start[1], 4),
        "wal_bytes": _wal_bytes_since(start[2]),
    }


def _baseline_insert(day: date, today: date) -> int:
    """The bare INSERT … SELECT of the reminder rows of `day`'s openings (the slots the sweep
    computed on `today`; computing them is timed on neither side). Returns the rows."""
    from django.db import connection

    from mes.agenda.reminders import opening_slots
    from mes.enrolment.policies import citizen_side_sql

    slots = opening_slots(day, today)
    values = ", ".join(["(%s::date, %s, %s)"] * len(slots))
    params: list[object] = []
    for s in slots:
        params += [s.birth_date, s.sex, s.item_key]
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO bench_reminder_baseline (key, kind, patient_id, item_key, created_at)
            WITH s(birth_date, sex, item_key) AS (VALUES {values})
            SELECT 'prev:' || replace(c.id::text, '-', '') || ':' || s.item_key, 'prev', c.id,
                   s.item_key, now()
            FROM s JOIN identity_citizen c
              ON c.birth_date = s.birth_date AND (s.sex = '' OR c.sex = s.sex)
            WHERE {citizen_side_sql("c.id")}
            """,  # noqa: S608 - placeholders only
            params,
        )
        return cur.rowcount


def _baseline(day: date) -> tuple[float, int, dict[str, float | None]]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_reminder_baseline (key text, kind text, "
            "patient_id uuid, item_key text, created_at timestamptz)"
        )
    # Yesterday's rows first, untimed, as the sweep's (see _sweep).
    _baseline_insert(day - timedelta(days=1), TODAY - timedelta(days=1))
    _a_day_passes()
    cpu = _cpu()
    start = time.perf_counter()
    rows = _baseline_insert(day, TODAY)
    return time.perf_counter() - start, rows, _cpu_since(cpu)


def _sweep() -> tuple[float, int, int, int, dict[str, float | None], dict[str, int]]:
    from django.test.utils import override_settings
    from django.urls import reverse

    from mes.agenda import reminders
    from mes.prevention.calendar import default_calendar
    from mes.prevention.schedule import default_rules

    # A worker is a long-lived process: its URL configuration (reverse() of the notification
    # links) and the rules files are loaded by its first task, not by each sweep.
    reverse("portal:agenda")
    default_rules()
    default_calendar()
    # …and freezes what start-up loaded out of the cyclic collector's way (mes/cli.py).
    gc.collect()
    gc.freeze()
    # The steady daily run: tomorrow's openings (the catch-up days were inserted by the
    # previous days' runs; here they would be days no sweep ever covered).
    with override_settings(MES_PREVENTION_REMIND_OPENED_WITHIN=timedelta(0)):
        # Yesterday's run, untimed: the worker's connection lives from day to day, so the
        # first use of the tables and foreign keys by a new backend (relation caches, the
        # foreign keys' prepared checks) is not the daily cost. The baseline gets the same.
        reminders.prevention_reminders(today=TODAY - timedelta(days=1))
        before = _outbox()
        _a_day_passes()
        cpu = _cpu()
        start = time.perf_counter()
        candidates, notified = reminders.prevention_reminders(today=TODAY)
        elapsed = time.perf_counter() - start
        spent = _cpu_since(cpu)
        outbox = {ch: n - before.get(ch, 0) for ch, n in _outbox().items()}
        # The memory on the next day's sweep (as many reminders), traced apart: tracemalloc
        # slows every allocation, it would blur the time.
        tracemalloc.start()
        reminders.prevention_reminders(today=TODAY + timedelta(days=1))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, candidates, notified, peak, spent, outbox


def _mb(size: float | None) -> str:
    return "?" if size is None else f"{size / 2**20:.1f} MB"


def _cpu_total(cpu: dict[str, float | None]) -> float | None:
    server = cpu["server"]
    return None if server is None else (cpu["client"] or 0.0) + server


def _cpu_ratio(base: dict[str, float | None], sweep: dict[str, float | None]) -> float | None:
    b, s = _cpu_total(base), _cpu_total(sweep)
    return None if b is None or not s else round(b / s, 3)


def _cpu_text(cpu: dict[str, float | None]) -> str:
    server = "?" if cpu["server"] is None else f"{cpu['server'] * 1000:.0f} ms"
    return f"client {(cpu['client'] or 0) * 1000:.0f} ms + server {server}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument(
        "--accounts",
        type=float,
        default=ACTIVATED,
        help=f"share of the population with an activated espace (default {ACTIVATED})",
    )
    args = parser.parse_args(argv)
    with postgres.database(os.environ.get("DATABASE_URL")) as db:
        _setup(db.url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        populate = _populate(args.people)
        population = _accounts(args.accounts)
        population["espaces"] = _espaces()
        from django.db import connection

        # As autovacuum leaves a database whose rows were written long ago: statistics, and
        # the rows' visibility settled (hint bits, visibility map), so that neither side of
        # the comparison pays for the first reading of rows the population just wrote.
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
        sweep, candidates, notified, peak, sweep_cpu, outbox = _sweep()
        base, base_rows, base_cpu = _baseline(TODAY + timedelta(days=1))
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {
            "database": db.description,
            "people": args.people,
            **population,
            "day": TODAY.isoformat(),
            "populate_seconds": round(populate, 2),
            "sweep": {
                "seconds": round(sweep, 2),
                "people_per_second": round(args.people / sweep),
                "candidates": candidates,
                "notified": notified,
                "outbox": outbox,
                "peak_python_memory_mb": round(peak / 2**20, 1),
                "cpu_seconds": sweep_cpu,
            },
            "baseline": {
                "seconds": round(base, 3),
                "people_per_second": round(args.people / base),
                "rows": base_rows,
                "cpu_seconds": base_cpu,
            },
            "ratio": round(base / sweep, 3),
            "cpu_ratio": _cpu_ratio(base_cpu, sweep_cpu),
            "peak_rss_mb": round(rss_mb, 1),
        }
        if base_rows != candidates:
            print(f"attention : {base_rows} lignes de base pour {candidates} candidats")
    print(
        f"sweep    {result['sweep']['people_per_second']:>10} people/s  "
        f"({sweep:.3f} s, {candidates} reminders, {notified} notified, "
        f"peak Python memory {result['sweep']['peak_python_memory_mb']} MB)\n"
        f"         {population['accounts']} accounts, {population['children_with_a_parent']} "
        f"children with a parent's; espaces {population['espaces']}; outbox {outbox}\n"
        f"baseline {result['baseline']['people_per_second']:>10} people/s  "
        f"({base:.3f} s, {base_rows} rows)\n"
        f"ratio    {result['ratio']}   peak RSS {result['peak_rss_mb']} MB\n"
        f"CPU      sweep {_cpu_text(sweep_cpu)}, baseline {_cpu_text(base_cpu)}, "
        f"ratio {result['cpu_ratio']}\n"
        f"WAL      sweep {_mb(sweep_cpu['wal_bytes'])}, baseline {_mb(base_cpu['wal_bytes'])} "
        "(each run after a checkpoint, as a day later)"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"reminders-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"→ {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
