"""The affiliation file: every good row loaded, every bad row reported with its line and reason;
the same file twice changes nothing; an import interrupted twice and resumed gives what one
clean run gives; the notices go out by e-mail or as a PDF batch of letters."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from mes.enrolment import importer
from mes.enrolment.models import (
    Espace,
    EspaceState,
    ImportRejection,
    ImportRun,
    LegalRepresentation,
)
from mes.identity.models import Citizen
from mes.lib.ins import with_key

HEADER = ";".join(importer.COLUMNS)


def row(first13: str, first: str, born: str, **kw: str) -> str:
    values = {
        "ins": with_key(first13),
        "type_ins": "NIR",
        "nom_naissance": kw.get("nom", "Martin"),
        "prenoms": first,
        "nom_utilise": "",
        "prenom_utilise": "",
        "sexe": kw.get("sexe", "F"),
        "date_naissance": born,
        "lieu_naissance": "",
        "email": kw.get("email", f"{first.lower()}@example.org"),
        "telephone": kw.get("tel", "06 12 34 56 78"),
        "adresse": kw.get("adresse", "1 rue de la Paix"),
        "code_postal": kw.get("cp", "75002"),
        "commune": "Paris",
        "numero_serie_vitale": kw.get("serie", "12345678901"),
        "ins_parent": kw.get("parent", ""),
        "lien_parent": kw.get("lien", ""),
    }
    return ";".join(values[c] for c in importer.COLUMNS)


GOOD = [
    row("2800175056011", "Alice", "1980-01-15"),
    row("1780275056022", "Bruno", "1978-02-20", sexe="M", email=""),
    row(
        "1150375056033",
        "Chloé",
        "2015-03-02",
        email="",
        adresse="",
        cp="",
        parent=with_key("2800175056011"),
        lien="mère",
    ),
    row("2900475056044", "Dina", "1990-04-04", tel=""),
]
BAD = [
    (
        row("2800175056011", "Alice", "1980-01-15").replace(
            with_key("2800175056011"), "2800175056012"
        ),
        "INS invalide",
    ),
    (row("2850575056055", "Eve", "1985-13-01"), "date_naissance invalide"),
    (row("2850575056066", "Fanny", "1985-01-01", email="pas-un-mail"), "adresse e-mail invalide"),
    (
        row("2850575056077", "Gaëlle", "1985-01-01", email="g@example.org", serie="12"),
        "numero_serie_vitale",
    ),
    ("trop;peu;de;colonnes", "4 colonnes au lieu de 17"),
    (
        row("1150375056088", "Hugo", "2016-01-01", parent=with_key("2990175056099"), lien="pere"),
        "parent",
    ),
    (
        row("2850575056010", "Iris", "1985-01-01", email="", adresse="", cp=""),
        "impossible d'informer",
    ),
]


def write(tmp_path: Path, lines: list[str], name: str = "affiliation.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def snapshot() -> dict:
    people = {
        c.ins: (c.first_name, c.birth_date, c.email, c.espace.state, c.espace.vitale_serial)
        for c in Citizen.objects.select_related("espace")
    }
    links = set(
        LegalRepresentation.objects.values_list("representative__ins", "represented__ins", "role")
    )
    rejections = set(ImportRejection.objects.values_list("line", "reason"))
    run = ImportRun.objects.get()
    return {
        "people": people,
        "links": links,
        "rejections": rejections,
        "counts": (run.created, run.already_known, run.rejected, run.finished_at is not None),
    }


def mixed() -> list[str]:
    lines = []
    for i, good in enumerate(GOOD):
        lines.append(good)
        lines.append(BAD[i][0])
    lines += [b for b, _ in BAD[len(GOOD) :]]
    return lines


def test_bad_rows_are_reported_and_never_hold_back_good_ones(db, tmp_path):
    path = write(tmp_path, mixed())
    run = importer.import_file(path, batch_size=3, progress_out=None)
    assert run.created == len(GOOD) and run.rejected == len(BAD)
    assert Citizen.objects.count() == len(GOOD)
    assert set(Espace.objects.values_list("state", flat=True)) == {EspaceState.NOT_NOTIFIED}
    reasons = dict(ImportRejection.objects.values_list("line", "reason"))
    # Line numbers are the file's (the header is line 1).
    bad_lines = [i + 1 for i, text in enumerate([HEADER, *mixed()]) if text in dict(BAD)]
    assert sorted(reasons) == bad_lines
    for text, why in BAD:
        line = [HEADER, *mixed()].index(text) + 1
        assert why in reasons[line], (line, reasons[line])
    chloe = Citizen.objects.get(first_name="Chloé")
    alice = Citizen.objects.get(first_name="Alice")
    assert chloe.espace.attached_to == alice
    assert LegalRepresentation.objects.get(represented=chloe).role == "mother"
    report = tmp_path / "rejets.csv"
    assert importer.write_rejection_report(run, report) == len(BAD)
    assert report.read_text().splitlines()[0] == "ligne;motif"


def test_the_same_file_twice_changes_nothing_and_known_people_are_left_alone(db, tmp_path):
    path = write(tmp_path, GOOD)
    importer.import_file(path, progress_out=None)
    before = snapshot()
    importer.import_file(path, progress_out=None)
    assert snapshot() == before
    # Another file naming the same people: they are known, nothing changes for them.
    other = write(tmp_path, [*GOOD, row("2700675056012", "Jade", "1970-06-06")], "second.csv")
    run = importer.import_file(other, progress_out=None)
    assert (run.created, run.already_known) == (1, len(GOOD))
    assert {c: before["people"][c] for c in before["people"]} == {
        ins: v for ins, v in snapshot_people().items() if ins in before["people"]
    }


def snapshot_people() -> dict:
    return {
        c.ins: (c.first_name, c.birth_date, c.email, c.espace.state, c.espace.vitale_serial)
        for c in Citizen.objects.select_related("espace")
    }


def test_an_import_interrupted_twice_then_resumed_equals_one_clean_run(db, tmp_path):
    path = write(tmp_path, mixed())
    with pytest.raises(importer.Interrupted):
        importer.import_file(path, batch_size=2, progress_out=None, interrupt_after=2)
    run = ImportRun.objects.get()
    assert run.next_line == 4 and run.finished_at is None  # batch 1 (lines 2-3) committed
    with pytest.raises(importer.Interrupted):
        importer.import_file(path, batch_size=2, progress_out=None, interrupt_after=3)
    importer.import_file(path, batch_size=2, progress_out=None)
    resumed = snapshot()

    Citizen.objects.all().delete()
    ImportRun.objects.all().delete()
    importer.import_file(path, batch_size=2, progress_out=None)
    clean = snapshot()
    assert resumed == clean
    assert clean["counts"] == (len(GOOD), 0, len(BAD), True)


def test_a_file_that_is_not_the_layout_is_refused_whole(db, tmp_path):
    path = tmp_path / "autre.csv"
    path.write_text("nom;prenom\nMartin;Alice\n", encoding="utf-8")
    with pytest.raises(ValueError, match="En-tête inattendu"):
        importer.import_file(path, progress_out=None)
    assert not ImportRun.objects.exists()


def test_the_command_loads_reports_and_sends_notices_by_mail_or_letter(db, tmp_path):
    path = write(tmp_path, mixed())
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "enrolment", "import", str(path), "--letters-dir", str(tmp_path), stdout=out, stderr=err
    )
    assert "4 personne(s) créée(s)" in out.getvalue()
    assert "lignes/s" in err.getvalue() and "100.0%" in err.getvalue()
    assert (tmp_path / "affiliation.csv.rejets.csv").exists()
    # Alice, Dina by e-mail; Chloé's notice goes to Alice (her parent); Bruno by letter.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "alice@example.org",
        "alice@example.org",
        "dina@example.org",
    ]
    assert "3 par e-mail" in out.getvalue()
    assert "1 par courrier" in out.getvalue()
    letters = list(tmp_path.glob("courriers-*.pdf"))
    assert len(letters) == 1 and letters[0].read_bytes().startswith(b"%PDF-")
    assert set(Espace.objects.values_list("state", flat=True)) == {EspaceState.NOTIFIED}
    # Resumable too: nothing left to send.
    call_command("enrolment", "notify", "--letters-dir", str(tmp_path), stdout=io.StringIO())
    assert len(mail.outbox) == 3


def test_the_daily_sweep_command_reports_what_it_did(db):
    out = io.StringIO()
    call_command("enrolment", "sweep", stdout=out)
    assert "Créés : 0 · clôturés : 0 · supprimés : 0 · passages à la majorité : 0" in out.getvalue()


def test_a_parent_and_child_in_one_batch_and_awkward_characters_survive(db, tmp_path):
    # PostgreSQL stages each batch with COPY: a backslash must come back as typed, and a
    # child attached to a parent of the same batch (or to that child) is linked, not rejected.
    lines = [
        row("2800175056011", "Alice", "1980-01-15", nom="O\\Neil"),
        row(
            "1150375056033",
            "Chloé",
            "2015-03-02",
            email="",
            parent=with_key("2800175056011"),
            lien="mere",
        ),
        row(
            "1160375056044",
            "Noé",
            "2016-03-02",
            email="",
            parent=with_key("1150375056033"),
            lien="tuteur",
        ),
        row(
            "1170375056055",
            "Zoé",
            "2017-03-02",
            email="",
            parent=with_key("2990175056099"),
            lien="pere",
        ),
        row("2800175056011", "Alice", "1980-01-15"),  # twice in the batch: known the 2nd time
    ]
    run = importer.import_file(write(tmp_path, lines), batch_size=100, progress_out=None)
    assert (run.created, run.already_known, run.rejected) == (3, 1, 1)
    assert Citizen.objects.get(first_name="Alice").birth_name == "O\\Neil"
    assert set(LegalRepresentation.objects.values_list("represented__first_name", "role")) == {
        ("Chloé", "mother"),
        ("Noé", "guardian"),
    }
    assert Citizen.objects.get(first_name="Noé").espace.attached_to.first_name == "Chloé"
    assert list(ImportRejection.objects.values_list("line", flat=True)) == [5]


def test_the_staging_escapes_what_copy_text_would_read_and_keeps_the_rest(tmp_path):
    from mes.enrolment import import_sql

    text = "a\\b\tc\rd\x00é€😀;\n" * 3
    raw = text.encode() + b"\xff\xfe bad\n"
    path = tmp_path / "f.csv"
    # Blocks of 7 bytes: characters of several bytes cut across blocks.
    path.write_bytes(raw)
    import_sql.BLOCK, block = 7, import_sql.BLOCK
    try:
        staged = b"".join(import_sql._copy_blocks(path))
    finally:
        import_sql.BLOCK = block
    expected = raw.decode("utf-8", errors="replace").translate(
        str.maketrans({"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\x00": "\ufffd"})
    )
    assert staged.decode() == expected
