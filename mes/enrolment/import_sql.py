"""The population import on PostgreSQL, set-based from end to end (docs/enrolment-import.md):

1. the raw file goes, line per row, into an UNLOGGED staging table with one COPY (nothing is
   parsed in Python; the file is only read in 1 MiB blocks and escaped for COPY's text
   format), numbered by an identity column in file order: staged once per run, kept until the
   run ends, so a resumed run does not read the file again (a server crash empties an
   UNLOGGED table: the run then stages the file again);
2. then, chunk by chunk of lines (MES_ENROLMENT_IMPORT_CHUNK), in one transaction each with
   the checkpoint (next line): every check of mes/enrolment/checks.py in SQL over the chunk
   (its reason, or none, and the citizen already known by that INS), the rejections written
   from that query, then `INSERT … SELECT` into citizen, espace and legal representation of
   the people not known (their keys, indexes and foreign keys all kept; with `ON CONFLICT
   (ins) DO NOTHING` when someone of the same INS was made after the checks ran). A chunk
   interrupted rolls back whole with its checkpoint: resuming checks and writes it again, a
   person already written counting as known, so the result is that of one clean run.

No value of a row passes through Python. The provisional codes are not made here: the notice
batch (importer.send_notices → lifecycle.espace_notify) makes each code when it sends the
notice, and keeps only its hash (docs/decisions.md, « Enrolment »).
"""

from __future__ import annotations

import codecs
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mes.identity.models import Citizen

from . import checks, keys
from .models import EspaceState, ImportRun

BLOCK = 1 << 20
# COPY's text format: a backslash, a tab (the column separator), a carriage return (a line
# end) would be read as such; a NUL cannot be stored. The file's \n stay the row ends. Done on
# bytes (UTF-8 never has these bytes inside a character): bytes.replace runs in C, where
# str.translate went character by character in Python (6.7 CPU s per million lines, 0.2 now).
_COPY_TEXT = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\r", b"\\r"), (b"\x00", "\ufffd".encode()))


def _copy_text(data: bytes) -> bytes:
    for special, escaped in _COPY_TEXT:
        if special in data:
            data = data.replace(special, escaped)
    return data


def stage_name(run: ImportRun) -> str:
    return f"enrolment_import_stage_{int(run.pk)}"


def _copy_blocks(path: Path) -> Iterator[bytes]:
    """The file as COPY text, block by block; bytes that are not UTF-8 become U+FFFD (as
    the row path reads them), so COPY never refuses the file for one bad line."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            yield _copy_text(decoder.decode(block).encode())
    tail = decoder.decode(b"", final=True)
    if tail:
        yield _copy_text(tail.encode())


def stage(run: ImportRun, path: Path) -> int:
    """Stage the file if it is not staged yet; the number of its last line (the header is 1)."""
    table = stage_name(run)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        if cursor.fetchone()[0]:
            cursor.execute(f"SELECT max(line) FROM {table}")  # noqa: S608 - our table
            last = cursor.fetchone()[0]
            if last:
                return int(last)
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        # Numbered by COPY in file order; the table and its rows commit together.
        cursor.execute(
            f"CREATE UNLOGGED TABLE {table} "
            "(line bigint GENERATED ALWAYS AS IDENTITY, raw text NOT NULL)"
        )
        with cursor.cursor.copy(f"COPY {table} (raw) FROM STDIN") as copy:
            for block in _copy_blocks(path):
                copy.write(block)
        # A BRIN index: the lines are in physical order, each chunk reads only its pages.
        cursor.execute(f"CREATE INDEX ON {table} USING brin (line)")
        cursor.execute(f"SELECT max(line) FROM {table}")  # noqa: S608 - our table
        return int(cursor.fetchone()[0] or 0)


def drop_stage(run: ImportRun) -> None:
    """The run's staging table, and any checked chunk left by an interruption."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE %s AND relkind = 'r' "
            "AND relpersistence = 'u'",
            [checked_name(run, 0)[:-1].replace("_", r"\_") + "%"],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"DROP TABLE IF EXISTS {stage_name(run)}")


# --- One chunk ---------------------------------------------------------------------------------

# The writes of one round: {candidates} is a query of the chunk's rows to write (with
# parent_id), at most one per INS. A person already known is left as is: the candidates leave
# out the INS the checker found known ({on_conflict} empty: a plain insert, every candidate
# written), or, when someone was made meanwhile (a unique violation), ON CONFLICT skips them
# ({on_conflict}, {written} keeps the rows written). For a child, the espace's attachment and
# the legal representation go in with it (the child is new: no link can exist yet). The keys
# come from the line ({key}, mes/enrolment/keys.py): in file order, so the primary-key index is
# appended to.
_WRITE = """
WITH {ctes} candidates AS MATERIALIZED ({candidates}),
new AS (
    INSERT INTO identity_citizen (id, ins, ins_kind, identity_status, birth_name, used_name,
        first_names, first_name, used_first_name, birth_date, sex, birth_place_insee, email,
        created_at)
    SELECT c.id, c.ins, c.ins_kind, %(status)s, c.birth_name, c.used_name,
        c.first_names, c.first_name, c.used_first_name, c.birth_date::date, c.sex,
        c.birth_place, c.email, %(now)s
    FROM candidates c
    {on_conflict}
    RETURNING id
), rows AS MATERIALIZED (
    SELECT c.id, c.vitale_serial, c.phone, c.address, c.postcode, c.city, c.parent_id,
        c.parent_role
    FROM candidates c {written}
), espaces AS (
    INSERT INTO enrolment_espace (citizen_id, state, state_changed_at, vitale_serial, phone,
        address, postcode, city, attached_to_id, notice_channel, code_failures)
    SELECT id, %(state)s, %(now)s, vitale_serial, phone, address, postcode, city, parent_id,
        '', 0
    FROM rows
), links AS (
    INSERT INTO enrolment_legalrepresentation (representative_id, represented_id, role,
        started_at)
    SELECT parent_id, id, parent_role, %(now)s FROM rows WHERE parent_id IS NOT NULL
)
SELECT (SELECT count(*) FROM new), {unplaced}
"""

# The first round, in one pass: every good row whose parent is none, known before this chunk,
# or made in this chunk from an earlier line whose own parent is none or known (a parent's key
# is its line's, so it is known before it is written). Of these, the first line of each INS.
# {unknown}: the rows whose INS the checker found known left out (the plain insert), or none.
_FIRST_ROUND = """
good AS MATERIALIZED (
    -- The parent looked up by INS for the rows that name one, one index probe each: as a
    -- join, the planner hashed the whole citizen table for every chunk (900 000 rows at the
    -- tenth chunk of a million, 68 million at the end of a national import).
    SELECT s.line, s.ins, s.parent_ins,
        CASE WHEN s.parent_ins <> '' THEN
            (SELECT k.id FROM identity_citizen k WHERE k.ins = s.parent_ins) END AS known_parent
    FROM {chunk} s WHERE s.reason IS NULL {unknown}
), made AS (
    SELECT ins, min(line) AS line FROM good
    WHERE parent_ins = '' OR known_parent IS NOT NULL GROUP BY ins
), placed AS MATERIALIZED (
    SELECT g.* FROM good g LEFT JOIN made p
        ON g.known_parent IS NULL AND g.parent_ins <> '' AND p.ins = g.parent_ins
        AND p.line < g.line
    WHERE g.parent_ins = '' OR g.known_parent IS NOT NULL OR p.line IS NOT NULL
), firsts AS MATERIALIZED (
    SELECT ins, min(line) AS line FROM placed GROUP BY ins
), decided AS (
    -- A parent made in this chunk gets the key of the line that makes it (its first placed
    -- line, before the child's).
    SELECT c.line, COALESCE(c.known_parent, {parent_key}) AS parent_id
    FROM placed c JOIN firsts me ON me.ins = c.ins AND me.line = c.line
    LEFT JOIN firsts f ON c.known_parent IS NULL AND c.parent_ins <> '' AND f.ins = c.parent_ins
),"""
# Only the lines and keys above; the person's values read once, here.
_FIRST_CANDIDATES = (
    "SELECT {key} AS id, s.*, d.parent_id FROM decided d JOIN {chunk} s USING (line)"
)
# Good rows the first round did not place (their parent neither known nor made above them at
# the first generation): when none, no next round can write anything and none is rejected for
# its parent, so both are skipped (about 0.4 s per 100 000 lines).
_UNPLACED = "(SELECT count(*) FROM good) - (SELECT count(*) FROM placed)"

# Next rounds (deeper families: a child whose parent is a child of this chunk): a child whose
# parent was written by an earlier round from an EARLIER line (parents come before their
# children in the file, docs/enrolment-import.md).
_NEXT_ROUND = """
SELECT DISTINCT ON (x.ins) x.* FROM (
    SELECT {key} AS id, s.*,
        (SELECT k.id FROM identity_citizen k WHERE k.ins = s.parent_ins) AS parent_id
    FROM {chunk} s
    WHERE s.reason IS NULL AND s.parent_ins <> ''
        AND (SELECT k.id FROM identity_citizen k WHERE k.ins = s.ins) IS NULL
        AND EXISTS (SELECT 1 FROM {chunk} p WHERE p.ins = s.parent_ins
            AND p.reason IS NULL AND p.line < s.line)
) x WHERE x.parent_id IS NOT NULL
ORDER BY x.ins, x.line
"""
# Good rows not written and whose INS was not known at their line (known before the chunk, or
# made from an EARLIER line: a key above the row's own, below the chunk's end, was made from a
# later line, keys.py): their parent is neither known nor accepted above them, as the row path
# finds it reading line by line. Here too, and in the next rounds, the citizens are probed by
# INS, one row at a time (scalar subqueries, never turned into a join over the whole table).
_PARENT_MISSING = """
INSERT INTO enrolment_importrejection (run_id, line, reason)
SELECT %(run)s, s.line, %(reason)s FROM {chunk} s
WHERE s.reason IS NULL AND NOT COALESCE(
    (SELECT NOT (k.id > {key} AND k.id < %(end_key)s) FROM identity_citizen k
     WHERE k.ins = s.ins), false)
ON CONFLICT DO NOTHING
"""


# The first round's two forms. Plain: the people the checker found known are left out and the
# others inserted without ON CONFLICT (its speculative insertion cost 0.2 CPU s per 100 000
# citizens, and finding which rows it wrote another hash). Skip known: the same statement with
# ON CONFLICT, for a chunk where someone of the same INS was made after its checks ran (an
# earlier chunk's line written meanwhile, or the service creating the person).
_PLAIN = {"on_conflict": "", "written": "", "unknown": "AND s.known_id IS NULL"}
_SKIP_KNOWN = {
    "on_conflict": "ON CONFLICT (ins) DO NOTHING",
    "written": "WHERE c.id IN (SELECT id FROM new)",
    "unknown": "",
}


def _first_round(
    cursor: Any, table: str, key: Callable[[str], str], params: dict[str, Any]
) -> tuple[int, int]:
    """The first round's writes: (people written, good rows left unplaced)."""
    for form in (_PLAIN, _SKIP_KNOWN):
        sql = _WRITE.format(
            ctes=_FIRST_ROUND.format(chunk=table, parent_key=key("f.line"), **form),
            candidates=_FIRST_CANDIDATES.format(chunk=table, key=key("s.line")),
            unplaced=_UNPLACED,
            **form,
        )
        try:
            # A savepoint: a unique violation undoes this statement only, then the other form.
            with transaction.atomic():
                cursor.execute(sql, params)
                created, unplaced = cursor.fetchone()
                return int(created), int(unplaced)
        except IntegrityError:
            if form is _SKIP_KNOWN:
                raise
    raise AssertionError("unreachable")


@dataclass
class ChunkResult:
    created: int = 0
    already_known: int = 0
    rejected: int = 0


def checked_name(run: ImportRun, first: int) -> str:
    return f"enrolment_import_checked_{int(run.pk)}_{int(first)}"


def check_chunk(run: ImportRun, first: int, end: int, today: date) -> str:
    """Check lines [first, end) of the staged file into an UNLOGGED table of their own (line,
    reason, the person's values, the key of the citizen of that INS if already known),
    committed by the caller; its name. It depends on nothing but the staged lines, the day and
    the citizens known when it runs, so it may run ahead on another connection (a person made
    after it ran is caught by write_chunk)."""
    table = checked_name(run, first)
    checked = checks.checked_rows_sql(stage_name(run), first=first, last=end, today=today)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(checks.CSV_FIELDS_FUNCTION)
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        # No parameters: the checks' SQL holds % signs (the e-mail pattern). Each good row's
        # INS probed here, on the checker's core: the writer then inserts the others without
        # ON CONFLICT's speculative insertion (write_chunk). OFFSET 0: flattened, the reason's
        # whole expression would be computed twice (1.3 CPU s per 100 000 lines).
        cursor.execute(
            f"CREATE UNLOGGED TABLE {table} AS SELECT c.*, CASE WHEN c.reason IS NULL THEN "  # noqa: S608
            "(SELECT k.id FROM identity_citizen k WHERE k.ins = c.ins) END AS known_id "
            f"FROM ({checked} OFFSET 0) c"
        )
        # Statistics for the joins of the writes; a small sample is enough (the default
        # reads 30 000 rows, most of a chunk).
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {table}")
    return table


def write_chunk(run: ImportRun, table: str, end: int) -> ChunkResult:
    """The checked lines of `table`: the rejections, then the people in SQL; the table dropped
    with them (one transaction with the checkpoint, the caller's)."""
    result = ChunkResult()
    params: dict[str, Any] = {
        "status": Citizen.IdentityStatus.VALI,  # insurer's reference data (RNIAM), not yet QUAL
        "state": EspaceState.NOT_NOTIFIED,
        "now": timezone.now(),
        "run": run.pk,
        "reason": checks.PARENT_UNKNOWN,
    }
    started_ms = keys.epoch_ms(run.started_at)
    key = partial(keys.ordered_key_sql, started_ms=started_ms, run=int(run.pk))
    params["end_key"] = keys.ordered_key(started_ms=started_ms, line=end, run=int(run.pk))
    with connection.cursor() as cursor:
        # A chunk's sorts and hashes in memory rather than in temporary files (this
        # transaction only).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # A chunk's statements are planned once each: LLVM's compilation (about 1.5 s per
        # 100 000 lines when the planner's estimates cross jit_above_cost) costs more than it
        # saves on expressions this simple.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            "INSERT INTO enrolment_importrejection (run_id, line, reason) "  # noqa: S608
            f"SELECT %(run)s, line, left(reason, 300) FROM {table} "
            "WHERE reason IS NOT NULL ON CONFLICT DO NOTHING",
            params,
        )
        result.rejected = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {table} WHERE reason IS NULL")  # noqa: S608
        good = int(cursor.fetchone()[0])
        created, unplaced = _first_round(cursor, table, key, params)
        result.created = int(created)
        missing = 0
        if unplaced:
            # Deeper families (a child whose parent is a child of this chunk, itself attached
            # to someone of this chunk): a round per generation.
            next_round = _WRITE.format(
                ctes="",
                candidates=_NEXT_ROUND.format(chunk=table, key=key("s.line")),
                unplaced="0",
                **_SKIP_KNOWN,
            )
            while True:
                cursor.execute(next_round, params)
                created = int(cursor.fetchone()[0])
                result.created += created
                if not created:
                    break
            cursor.execute(_PARENT_MISSING.format(chunk=table, key=key("s.line")), params)
            missing = cursor.rowcount
        cursor.execute(f"DROP TABLE {table}")
    result.rejected += missing
    result.already_known = good - result.created - missing
    return result


Chunk = tuple[int, int]  # lines [first, end)


class _Checker(threading.Thread):
    """The checks, a chunk or two ahead of the writes, on a connection of their own (the
    second core): chunk k+1 is checked while chunk k is written. Each checked table is
    committed before the writer takes it; the queue's bound keeps at most three (one being
    written, one waiting, one being checked)."""

    def __init__(self, run: ImportRun, chunks: list[Chunk], today: date) -> None:
        super().__init__(name=f"import-checks-{run.pk}", daemon=True)
        self.run_, self.chunks, self.today = run, chunks, today
        self.ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=1)
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for first, end in self.chunks:
                if self.stop.is_set():
                    return
                with transaction.atomic():
                    table = check_chunk(self.run_, first, end, self.today)
                self._hand(table)
        except BaseException as error:
            self._hand(error)
        finally:
            connection.close()

    def _hand(self, item: str | BaseException) -> None:
        while not self.stop.is_set():
            try:
                self.ready.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def next_table(self) -> str:
        item = self.ready.get()
        if isinstance(item, BaseException):
            raise item
        return item


def import_staged(
    run: ImportRun,
    path: Path,
    *,
    chunk: int,
    progress_out: IO[str] | None,
    interrupt_after: int | None,
) -> None:
    """Stage the file, then check and write it chunk by chunk from the run's checkpoint.

    The checks run ahead on a second connection when the staging table is committed (not
    inside an enclosing transaction, which another connection could not see): the checks of
    chunk k+1 overlap the writes of chunk k. The writes stay one chunk at a time, in file
    order, each committed with its checkpoint: a resumed run is one clean run.
    """
    from .importer import Interrupted, Progress

    last = stage(run, path)
    progress = Progress(total=last, out=progress_out, start=run.next_line - 1)
    today = timezone.localdate()
    chunks = [(f, min(f + chunk, last + 1)) for f in range(run.next_line, last + 1, chunk)]
    checker = None
    if settings.MES_ENROLMENT_IMPORT_PIPELINE and not connection.in_atomic_block and chunks:
        checker = _Checker(run, chunks, today)
        checker.start()
    try:
        for number, (first, end) in enumerate(chunks, 1):
            with transaction.atomic():
                table = checker.next_table() if checker else check_chunk(run, first, end, today)
                result = write_chunk(run, table, end)
                if number == interrupt_after:
                    raise Interrupted("interruption simulée")
                run.next_line = end
                run.created += result.created
                run.already_known += result.already_known
                run.rejected += result.rejected
                run.save(update_fields=["next_line", "created", "already_known", "rejected"])
            progress.update(end - first, end - 1)
    finally:
        if checker:
            checker.stop.set()
            checker.join()
    drop_stage(run)
