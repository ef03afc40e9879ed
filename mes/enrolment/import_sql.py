"""The population import on PostgreSQL, set-based from end to end (docs/enrolment-import.md):

1. the raw file goes, line per row, into an UNLOGGED staging table with one COPY (nothing is
   parsed in Python; the file is only read in 1 MiB blocks and escaped for COPY's text
   format), numbered by an identity column in file order: staged once per run, kept until the
   run ends, so a resumed run does not read the file again (a server crash empties an
   UNLOGGED table: the run then stages the file again);
2. then, chunk by chunk of lines (MES_ENROLMENT_IMPORT_CHUNK), in one transaction each with
   the checkpoint (next line): every check of mes/enrolment/checks.py in SQL over the chunk
   (its reason, or none), the rejections written from that query, then
   `INSERT … SELECT … ON CONFLICT (ins) DO NOTHING` into citizen, espace and legal
   representation (their keys, indexes and foreign keys all kept). A chunk interrupted rolls
   back whole with its checkpoint: resuming redoes it, and ON CONFLICT makes a person already
   written count as known, so the result is that of one clean run.

No value of a row passes through Python. The provisional codes are not made here: the notice
batch (importer.send_notices → lifecycle.espace_notify) makes each code when it sends the
notice, and keeps only its hash (docs/decisions.md, « Enrolment »).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone

from mes.identity.models import Citizen

from . import checks, keys
from .models import EspaceState, ImportRun

CHUNK_TABLE = "enrolment_import_chunk"
BLOCK = 1 << 20
# COPY's text format: a backslash, a tab (the column separator), a carriage return (a line
# end) would be read as such; a NUL cannot be stored. The file's \n stay the row ends.
_COPY_TEXT = str.maketrans({"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\x00": "\ufffd"})


def stage_name(run: ImportRun) -> str:
    return f"enrolment_import_stage_{int(run.pk)}"


def _copy_blocks(path: Path) -> Iterator[bytes]:
    """The file as COPY text, block by block; bytes that are not UTF-8 become U+FFFD (as
    the row path reads them), so COPY never refuses the file for one bad line."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            yield decoder.decode(block).translate(_COPY_TEXT).encode()
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.translate(_COPY_TEXT).encode()


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
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage_name(run)}")


# --- One chunk ---------------------------------------------------------------------------------

# The writes of one round: {candidates} is a query of the chunk's rows to write (with
# parent_id), at most one per INS. A person already known is left as is (ON CONFLICT). For a
# child, the espace's attachment and the legal representation go in with it. The keys come from
# the line ({key}, mes/enrolment/keys.py): in file order, so the primary-key index is appended to.
_WRITE = """
WITH candidates AS MATERIALIZED ({candidates}),
new AS (
    INSERT INTO identity_citizen (id, ins, ins_kind, identity_status, birth_name, used_name,
        first_names, first_name, used_first_name, birth_date, sex, birth_place_insee, email,
        created_at)
    SELECT c.id, c.ins, c.ins_kind, %(status)s, c.birth_name, c.used_name,
        c.first_names, c.first_name, c.used_first_name, c.birth_date::date, c.sex,
        c.birth_place, c.email, %(now)s
    FROM candidates c
    ON CONFLICT (ins) DO NOTHING
    RETURNING id
), rows AS MATERIALIZED (
    SELECT c.* FROM candidates c WHERE c.id IN (SELECT id FROM new)
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
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM new
"""

# The first round, in one pass: every good row whose parent is none, known before this chunk,
# or made in this chunk from an earlier line whose own parent is none or known (a parent's key
# is its line's, so it is known before it is written). Of these, the first line of each INS.
_FIRST_ROUND = f"""
WITH good AS MATERIALIZED (
    SELECT s.*, k.id AS known_parent FROM {CHUNK_TABLE} s
    LEFT JOIN identity_citizen k ON s.parent_ins <> '' AND k.ins = s.parent_ins
    WHERE s.reason IS NULL
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
)
-- A parent made in this chunk gets the key of the line that makes it (its first placed line,
-- before the child's).
SELECT {{key}} AS id, c.*, COALESCE(c.known_parent, {{parent_key}}) AS parent_id
FROM placed c JOIN firsts me ON me.ins = c.ins AND me.line = c.line
LEFT JOIN firsts f ON c.known_parent IS NULL AND c.parent_ins <> '' AND f.ins = c.parent_ins
"""  # noqa: S608 - table names are constants

_KNOWN = "EXISTS (SELECT 1 FROM identity_citizen k WHERE k.ins = {0})"
# Next rounds (deeper families: a child whose parent is a child of this chunk): a child whose
# parent was written by an earlier round from an EARLIER line (parents come before their
# children in the file, docs/enrolment-import.md).
_NEXT_ROUND = f"""
SELECT DISTINCT ON (s.ins) {{key}} AS id, s.*, parent.id AS parent_id
FROM {CHUNK_TABLE} s JOIN identity_citizen parent ON parent.ins = s.parent_ins
WHERE s.reason IS NULL AND s.parent_ins <> '' AND NOT {_KNOWN.format("s.ins")}
    AND EXISTS (SELECT 1 FROM {CHUNK_TABLE} p WHERE p.ins = s.parent_ins
        AND p.reason IS NULL AND p.line < s.line)
ORDER BY s.ins, s.line
"""  # noqa: S608 - table names are constants
# Good rows not written and whose INS was not known at their line (known before the chunk, or
# made from an EARLIER line: a key above the row's own, below the chunk's end, was made from a
# later line, keys.py): their parent is neither known nor accepted above them, as the row path
# finds it reading line by line.
_PARENT_MISSING = f"""
INSERT INTO enrolment_importrejection (run_id, line, reason)
SELECT %(run)s, s.line, %(reason)s FROM {CHUNK_TABLE} s
WHERE s.reason IS NULL AND NOT EXISTS (
    SELECT 1 FROM identity_citizen k WHERE k.ins = s.ins
    AND NOT (k.id > {{key}} AND k.id < %(end_key)s))
ON CONFLICT DO NOTHING
"""  # noqa: S608 - table names are constants


@dataclass
class ChunkResult:
    created: int = 0
    already_known: int = 0
    rejected: int = 0


def check_and_write(run: ImportRun, table: str, first: int, end: int, today: date) -> ChunkResult:
    """Lines [first, end) of the staged file: checked, rejected or written, in SQL."""
    result = ChunkResult()
    params: dict[str, Any] = {
        "status": Citizen.IdentityStatus.VALI,  # insurer's reference data (RNIAM), not yet QUAL
        "state": EspaceState.NOT_NOTIFIED,
        "now": timezone.now(),
        "run": run.pk,
        "reason": checks.PARENT_UNKNOWN,
    }
    checked = checks.checked_rows_sql(table, first=first, last=end, today=today)
    with connection.cursor() as cursor:
        # A chunk's sorts and hashes in memory rather than in temporary files (this
        # transaction only).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # A chunk's statements are planned once each: LLVM's compilation (about 1.5 s per
        # 100 000 lines when the planner's estimates cross jit_above_cost) costs more than it
        # saves on expressions this simple.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(checks.CSV_FIELDS_FUNCTION)
        cursor.execute(f"DROP TABLE IF EXISTS {CHUNK_TABLE}")
        # No parameters: the checks' SQL holds % signs (the e-mail pattern).
        cursor.execute(f"CREATE TEMPORARY TABLE {CHUNK_TABLE} AS {checked}")
        # Statistics for the joins below; a small sample is enough (the default reads 30 000
        # rows, most of a chunk).
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {CHUNK_TABLE}")
        cursor.execute(
            "INSERT INTO enrolment_importrejection (run_id, line, reason) "  # noqa: S608
            f"SELECT %(run)s, line, left(reason, 300) FROM {CHUNK_TABLE} "
            "WHERE reason IS NOT NULL ON CONFLICT DO NOTHING",
            params,
        )
        result.rejected = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {CHUNK_TABLE} WHERE reason IS NULL")  # noqa: S608
        good = int(cursor.fetchone()[0])
        started_ms = keys.epoch_ms(run.started_at)
        key = partial(keys.ordered_key_sql, started_ms=started_ms, run=int(run.pk))
        first_round = _FIRST_ROUND.format(key=key("c.line"), parent_key=key("f.line"))
        cursor.execute(_WRITE.format(candidates=first_round), params)
        result.created = int(cursor.fetchone()[0])
        # Deeper families (a child whose parent is a child of this chunk, itself attached to
        # someone of this chunk): a round per generation, usually none.
        next_round = _WRITE.format(candidates=_NEXT_ROUND.format(key=key("s.line")))
        while True:
            cursor.execute(next_round, params)
            created = int(cursor.fetchone()[0])
            result.created += created
            if not created:
                break
        params["end_key"] = keys.ordered_key(started_ms=started_ms, line=end, run=int(run.pk))
        cursor.execute(_PARENT_MISSING.format(key=key("s.line")), params)
        missing = cursor.rowcount
        cursor.execute(f"DROP TABLE {CHUNK_TABLE}")
    result.rejected += missing
    result.already_known = good - result.created - missing
    return result


def import_staged(
    run: ImportRun,
    path: Path,
    *,
    chunk: int,
    progress_out: IO[str] | None,
    interrupt_after: int | None,
) -> None:
    """Stage the file, then check and write it chunk by chunk from the run's checkpoint."""
    from .importer import Interrupted, Progress

    last = stage(run, path)
    progress = Progress(total=last, out=progress_out, start=run.next_line - 1)
    today = timezone.localdate()
    chunks = 0
    first = run.next_line
    while first <= last:
        end = min(first + chunk, last + 1)
        chunks += 1
        with transaction.atomic():
            result = check_and_write(run, stage_name(run), first, end, today)
            if chunks == interrupt_after:
                raise Interrupted("interruption simulée")
            run.next_line = end
            run.created += result.created
            run.already_known += result.already_known
            run.rejected += result.rejected
            run.save(update_fields=["next_line", "created", "already_known", "rejected"])
        progress.update(end - first, end - 1)
        first = end
    drop_stage(run)
