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
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone

from mes.identity.models import Citizen

from . import checks
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

# The chunk's good rows to write in one round: the first line of each INS, with {where}
# picking the round's rows. A person already known is left as is (ON CONFLICT). For a child,
# the espace's attachment and the legal representation go in with it.
_ROUND = f"""
WITH candidates AS (
    SELECT DISTINCT ON (s.ins) s.* FROM {CHUNK_TABLE} s
    WHERE s.reason IS NULL AND {{where}}
    ORDER BY s.ins, s.line
), new AS (
    INSERT INTO identity_citizen (id, ins, ins_kind, identity_status, birth_name, used_name,
        first_names, first_name, used_first_name, birth_date, sex, birth_place_insee, email,
        created_at)
    SELECT gen_random_uuid(), c.ins, c.ins_kind, %(status)s, c.birth_name, c.used_name,
        c.first_names, c.first_name, c.used_first_name, c.birth_date::date, c.sex,
        c.birth_place, c.email, %(now)s
    FROM candidates c
    ON CONFLICT (ins) DO NOTHING
    RETURNING id, ins
), rows AS (
    SELECT new.id, c.*, parent.id AS parent_id
    FROM new JOIN candidates c ON c.ins = new.ins
    LEFT JOIN identity_citizen parent ON parent.ins = c.parent_ins AND c.parent_ins <> ''
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
"""  # noqa: S608 - table names are constants

_KNOWN = "EXISTS (SELECT 1 FROM identity_citizen k WHERE k.ins = {0})"
# First round: no parent, or a parent known before this chunk.
_FIRST_ROUND = f"(s.parent_ins = '' OR {_KNOWN.format('s.parent_ins')})"
# Next rounds: a child whose parent was written by an earlier round from an EARLIER line
# (parents come before their children in the file, docs/enrolment-import.md).
_EARLIER_IN_CHUNK = (
    f"EXISTS (SELECT 1 FROM {CHUNK_TABLE} p WHERE p.ins = s.parent_ins "  # noqa: S608
    "AND p.reason IS NULL AND p.line < s.line)"
)
_NEXT_ROUND = " AND ".join(
    (
        "s.parent_ins <> ''",
        f"NOT {_KNOWN.format('s.ins')}",
        _KNOWN.format("s.parent_ins"),
        _EARLIER_IN_CHUNK,
    )
)
# Good rows still not written: their parent is neither known nor accepted above them.
_PARENT_MISSING = f"""
INSERT INTO enrolment_importrejection (run_id, line, reason)
SELECT %(run)s, s.line, %(reason)s FROM {CHUNK_TABLE} s
WHERE s.reason IS NULL AND NOT {_KNOWN.format("s.ins")}
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
        cursor.execute(_ROUND.format(where=_FIRST_ROUND), params)
        result.created = int(cursor.fetchone()[0])
        # A child whose parent is a child of this chunk comes in on the next round.
        while True:
            cursor.execute(_ROUND.format(where=_NEXT_ROUND), params)
            created = int(cursor.fetchone()[0])
            result.created += created
            if not created:
                break
        cursor.execute(_PARENT_MISSING, params)
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
