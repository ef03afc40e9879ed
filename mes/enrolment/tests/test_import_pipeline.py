"""The checks run ahead on a second connection (mes/enrolment/import_sql.py, _Checker): chunk
k+1 is checked while chunk k is written. The outcome is that of the checks and writes one after
the other: the same people, links and rejections; interrupted twice then resumed, one clean
run; no checked table left behind. Committed transactions (transactional_db): the second
connection only sees what is committed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from mes.enrolment import import_sql, importer
from mes.enrolment.models import ImportRun
from mes.identity.models import Citizen

from .test_import import mixed, snapshot, write
from .test_import_paths import LINES, known_person

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's"
)


@pytest.fixture
def checked_in(monkeypatch) -> list[str]:
    """The thread each chunk was checked in."""
    threads: list[str] = []
    real = import_sql.check_chunk

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(import_sql, "check_chunk", spy)
    return threads


def leftovers() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE 'enrolment\\_import\\_%%'"
            " AND relkind = 'r'"
        )
        return [name for (name,) in cursor.fetchall()]


def clean_slate() -> None:
    ImportRun.objects.all().delete()
    Citizen.objects.all().delete()


@pytest.mark.parametrize("chunk", [3, 7])
def test_checks_ahead_give_what_checks_in_turn_give(
    transactional_db, tmp_path, settings, checked_in, chunk
):
    path = tmp_path / "affiliation.csv"
    path.write_text("\n".join([";".join(importer.COLUMNS), *LINES]) + "\n", encoding="utf-8")
    outcomes = []
    for pipeline in (False, True):
        settings.MES_ENROLMENT_IMPORT_PIPELINE = pipeline
        clean_slate()
        known_person()
        checked_in.clear()
        importer.import_file(path, batch_size=chunk, progress_out=None, engine="sql")
        outcomes.append(snapshot())
        threads = set(checked_in)
        assert threads == (
            {"import-checks-" + str(ImportRun.objects.get().pk)}
            if pipeline
            else {threading.current_thread().name}
        )
        assert leftovers() == []
    in_turn, ahead = outcomes
    assert ahead == in_turn
    assert ahead["counts"][2] > 0 and ahead["links"]


def test_checks_ahead_interrupted_twice_then_resumed_equal_one_clean_run(
    transactional_db, tmp_path, settings, checked_in
):
    settings.MES_ENROLMENT_IMPORT_PIPELINE = True
    path = write(tmp_path, mixed())
    with pytest.raises(importer.Interrupted):
        importer.import_file(path, batch_size=2, progress_out=None, interrupt_after=2)
    assert ImportRun.objects.get().next_line == 4
    with pytest.raises(importer.Interrupted):
        importer.import_file(path, batch_size=2, progress_out=None, interrupt_after=3)
    importer.import_file(path, batch_size=2, progress_out=None)
    resumed = snapshot()
    assert leftovers() == []
    assert {name.startswith("import-checks-") for name in checked_in} == {True}

    clean_slate()
    importer.import_file(path, batch_size=2, progress_out=None)
    assert snapshot() == resumed
    assert resumed["counts"][3] is True


def test_a_failing_check_stops_the_import_with_its_error(
    transactional_db, tmp_path: Path, settings, monkeypatch
):
    settings.MES_ENROLMENT_IMPORT_PIPELINE = True
    path = write(tmp_path, mixed())
    real = import_sql.check_chunk
    calls = []

    def fail_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("panne de la seconde connexion")
        return real(*args, **kwargs)

    monkeypatch.setattr(import_sql, "check_chunk", fail_second)
    with pytest.raises(RuntimeError, match="panne"):
        importer.import_file(path, batch_size=2, progress_out=None)
    run = ImportRun.objects.get()
    assert run.next_line == 4 and run.finished_at is None  # the first chunk stays committed
    monkeypatch.setattr(import_sql, "check_chunk", real)
    importer.import_file(path, batch_size=2, progress_out=None)
    assert ImportRun.objects.get().finished_at is not None
