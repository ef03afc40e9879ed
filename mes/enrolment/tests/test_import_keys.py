"""The import's citizen keys (mes/enrolment/keys.py): UUIDv7 in the order of the file, the same
in Python and in SQL, so that each chunk appends to the primary-key index."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from mes.enrolment import importer, keys
from mes.enrolment.models import ImportRun
from mes.identity.models import Citizen
from mes.lib.ins import with_key

from .test_import_paths import HEADER, line

STARTED = keys.epoch_ms(datetime(2026, 12, 7, 13, 0, tzinfo=UTC))
CASES = [(1, 1), (2, 1), (268_435_455, 7), (268_435_456, 7), (keys.MAX_LINE, (1 << 34) + 5)]


def test_keys_are_version_7_and_grow_with_the_line():
    made = [keys.ordered_key(started_ms=STARTED, line=n, run=3) for n in range(1, 2000, 7)]
    assert made == sorted(made)
    assert {k.version for k in made} == {7}
    assert {k.variant for k in made} == {uuid.RFC_4122}
    # The run's start leads: a later run's keys all come after.
    later = keys.ordered_key(started_ms=STARTED + 1, line=1, run=1)
    assert later > keys.ordered_key(started_ms=STARTED, line=keys.MAX_LINE, run=3)
    # Two runs never share a key, even started in the same millisecond.
    assert keys.ordered_key(started_ms=STARTED, line=5, run=1) != keys.ordered_key(
        started_ms=STARTED, line=5, run=2
    )
    with pytest.raises(ValueError):
        keys.ordered_key(started_ms=STARTED, line=keys.MAX_LINE + 1, run=1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL form is PostgreSQL's")
@pytest.mark.parametrize("line_number,run", CASES)
def test_the_sql_form_gives_the_python_key(db, line_number, run):
    with connection.cursor() as cursor:
        sql = keys.ordered_key_sql("n", started_ms=STARTED, run=run)
        cursor.execute(f"SELECT {sql} FROM (SELECT %s::bigint AS n) v", [line_number])
        (made,) = cursor.fetchone()
    assert made == keys.ordered_key(started_ms=STARTED, line=line_number, run=run)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's")
def test_the_sql_import_keys_people_in_file_order(db, tmp_path: Path):
    numbers = [f"28001750560{n:02d}" for n in range(50, 80)]
    path = tmp_path / "ordre.csv"
    path.write_text("\n".join([HEADER, *(line(n) for n in numbers)]) + "\n", encoding="utf-8")
    importer.import_file(path, batch_size=7, progress_out=None, engine="sql")
    run = ImportRun.objects.get()
    started = keys.epoch_ms(run.started_at)
    ids = dict(Citizen.objects.values_list("ins", "id"))
    in_file_order = [ids[with_key(n)] for n in numbers]
    assert in_file_order == sorted(in_file_order)
    assert in_file_order == [
        keys.ordered_key(started_ms=started, line=n, run=run.pk) for n in range(2, 2 + len(numbers))
    ]
