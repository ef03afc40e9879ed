"""The two import paths agree: the same file of good and bad rows through the row path (each
row checked in Python, the ORM) and the set-based SQL path of PostgreSQL (the file COPYed
into a staging table, every check in SQL) loads the same people with the same data and
rejects the same lines for the same reasons. Each check is written once, in both forms side
by side (mes/enrolment/checks.py); this test is what holds them together."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection, transaction

from mes.enrolment import checks, importer
from mes.enrolment.models import Espace, ImportRejection, ImportRun, LegalRepresentation
from mes.identity.models import Citizen
from mes.lib.ins import with_key

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's"
)

HEADER = ";".join(importer.COLUMNS)


def line(first13: str = "", **kw: str) -> str:
    values = {
        "ins": kw.pop("ins", with_key(first13) if first13 else ""),
        "type_ins": "NIR",
        "nom_naissance": "Martin",
        "prenoms": "Alice Marie",
        "nom_utilise": "",
        "prenom_utilise": "",
        "sexe": "F",
        "date_naissance": "1980-01-15",
        "lieu_naissance": "",
        "email": "a@example.org",
        "telephone": "06 12 34 56 78",
        "adresse": "1 rue de la Paix",
        "code_postal": "75002",
        "commune": "Paris",
        "numero_serie_vitale": "12345678901",
        "ins_parent": "",
        "lien_parent": "",
    }
    values.update(kw)
    return ";".join(values[c] for c in importer.COLUMNS)


PARENT = "2800175056011"
CORSICA = "180012A123456"
LINES = [
    line(PARENT),  # 2 a parent
    line(
        "1150375056033", email="", ins_parent=with_key(PARENT), lien_parent="MÈRE"
    ),  # child, accent
    line(CORSICA, email="", telephone="+33 7.12.34.56.78"),  # Corsica, letter, phone
    line(ins=with_key(CORSICA)[:-2] + "00"),  # Corsica, wrong key
    line("2800175056012", type_ins="nia", sexe="i", lieu_naissance="2B033"),  # case
    line("2800175056013", date_naissance="2000-02-29"),  # leap day
    line("2800175056014", date_naissance="1900-02-29"),  # not a leap year
    line("2800175056015", date_naissance="1889-12-31"),  # too old
    line("2800175056016", date_naissance="2999-01-01"),  # future
    line("2800175056017", date_naissance="15/01/1980"),
    line("2800175056018", date_naissance="1980-13-01"),
    line("2800175056019", sexe="X"),
    line("2800175056020", email="pas@un mail"),
    line("2800175056021", email="x" * 250 + "@example.org"),
    line("2800175056022", telephone="01 23 45 67 89"),
    line("2800175056023", code_postal="7500"),
    line("2800175056024", email="", adresse=""),  # no way to reach
    line("2800175056025", numero_serie_vitale="12"),
    line("2800175056026", lieu_naissance="ABCDE"),
    line("2800175056027", ins_parent="123", lien_parent="mere"),
    line("2800175056028", ins_parent=with_key("2800175056028"), lien_parent="mere"),
    line("2800175056029", ins_parent=with_key(PARENT), lien_parent="oncle"),
    line("2800175056030", nom_naissance="N" * 101),
    line("2800175056031", prenoms="P" * 101),
    line("2800175056032", adresse="A" * 201),
    line("2800175056034", type_ins="XYZ"),
    line(ins="12345"),  # too short
    line(ins="28001750560AB12"),  # wrong shape
    line(""),  # empty INS
    line("2800175056035", nom_naissance=""),
    "pas;assez;de;colonnes",
    line("2800175056036") + ";de trop",
    "",  # a blank line: skipped, still counted
    line("2800175056037", nom_naissance='"Dupont; dit ""le Grand"""'),  # quoted, with ;
    line("2800175056038", nom_naissance="O\\Neil\tTab"),  # backslash and tab
    line(ins=" " + with_key("2800175056039") + "\u00a0"),  # spaces around
    line(PARENT, prenoms="Autre"),  # the same INS again: known
    line(
        "1150375056044", email="", ins_parent=with_key("1150375056055"), lien_parent="pere"
    ),  # later
    line("1150375056055", email="", adresse="", ins_parent=with_key(PARENT), lien_parent="tuteur"),
    line(
        "1150375056066",
        email="",
        adresse="",
        ins_parent=with_key("2990175056099"),
        lien_parent="pere",
    ),
    line("2700675056012", email="known@example.org"),  # already in the database
    line("2800175056040") + "\r",  # a CRLF line end
    line("2800175056041"),  # 44 an adult
    line("1150375056077", email="", ins_parent=with_key("2800175056041"), lien_parent="mere"),
    line(  # 46 a child of the child above: a deeper family (a second round)
        "1150375056088",
        email="",
        adresse="",
        ins_parent=with_key("1150375056077"),
        lien_parent="tuteur",
    ),
    line(  # 47 a parent nobody knows: rejected...
        "1150375056099", email="", ins_parent=with_key("2990175056098"), lien_parent="pere"
    ),
    line("1150375056099"),  # 48 ...though the same INS comes next as an adult: made here
    line(  # 49 a child of the adult of line 44...
        "1150375056100", email="", ins_parent=with_key("2800175056041"), lien_parent="pere"
    ),
    line("1150375056100"),  # 50 ...then again as an adult: known (from line 49)
    line(  # 51 attached to the person made from line 49
        "1150375056111", email="", ins_parent=with_key("1150375056100"), lien_parent="mere"
    ),
]


def write(tmp_path: Path) -> Path:
    path = tmp_path / "affiliation.csv"
    path.write_text("\n".join([HEADER, *LINES]) + "\n", encoding="utf-8")
    return path


def outcome() -> dict:
    people = {
        c.ins: (
            c.ins_kind,
            c.identity_status,
            c.birth_name,
            c.used_name,
            c.first_names,
            c.first_name,
            c.used_first_name,
            c.birth_date,
            c.sex,
            c.birth_place_insee,
            c.email,
            c.espace.state,
            c.espace.vitale_serial,
            c.espace.phone,
            c.espace.address,
            c.espace.postcode,
            c.espace.city,
            c.espace.attached_to.ins if c.espace.attached_to else None,
        )
        for c in Citizen.objects.select_related("espace", "espace__attached_to")
    }
    links = set(
        LegalRepresentation.objects.values_list("representative__ins", "represented__ins", "role")
    )
    rejections = sorted(ImportRejection.objects.values_list("line", "reason"))
    run = ImportRun.objects.get()
    return {
        "people": people,
        "links": links,
        "rejections": rejections,
        "counts": (run.created, run.already_known, run.rejected),
    }


def known_person() -> None:
    existing_person(with_key("2700675056012"), "Connue", "Déjà")


def existing_person(ins: str, birth_name: str, first_name: str) -> Citizen:
    """A person the service already has, with an active espace."""
    citizen = Citizen.objects.create(
        ins=ins,
        birth_name=birth_name,
        first_names=first_name,
        first_name=first_name,
        birth_date="1970-06-06",
        sex="F",
        birth_place_insee="75056",
    )
    Espace.objects.create(citizen=citizen, state="active", vitale_serial="12345678")
    return citizen


def reset() -> None:
    ImportRun.objects.all().delete()
    Citizen.objects.all().delete()
    known_person()


@pytest.mark.parametrize("rows_batch,sql_chunk", [(4, 3), (1000, 1000), (1, 7)])
def test_the_row_path_and_the_sql_path_agree(db, tmp_path, rows_batch, sql_chunk):
    path = write(tmp_path)
    reset()
    importer.import_file(path, batch_size=rows_batch, progress_out=None, engine="rows")
    by_rows = outcome()
    reset()
    importer.import_file(path, batch_size=sql_chunk, progress_out=None, engine="sql")
    by_sql = outcome()

    assert by_sql["rejections"] == by_rows["rejections"]
    assert by_sql["people"] == by_rows["people"]
    assert by_sql == by_rows
    # And the outcome is the one intended, not merely the same mistake twice.
    reasons = dict(by_sql["rejections"])
    assert len(reasons) == by_sql["counts"][2]
    expected = {
        5: "La clé du numéro INS ne correspond pas",
        8: "date_naissance invalide",
        9: "date_naissance hors limites",
        10: "date_naissance hors limites",
        11: "date_naissance invalide",
        12: "date_naissance invalide",
        13: "sexe doit valoir",
        14: "adresse e-mail invalide",
        15: "adresse e-mail invalide",
        16: "téléphone mobile invalide",
        17: "code_postal invalide",
        18: "impossible d'informer",
        19: "numero_serie_vitale",
        20: "lieu_naissance",
        21: "ins_parent invalide : Le numéro INS doit compter 15 caractères, clé comprise (3",
        22: "rattachée à elle-même",
        23: "lien_parent doit valoir",
        24: "« nom_naissance » trop longue",
        25: "premier prénom trop long",
        26: "« adresse » trop longue",
        27: "type_ins doit valoir NIR ou NIA",
        28: "INS invalide : Le numéro INS doit compter 15 caractères, clé comprise (5 saisis).",
        29: "INS invalide : Le numéro INS n'a pas la bonne forme",
        30: "colonne « ins » vide",
        31: "colonne « nom_naissance » vide",
        32: "4 colonnes au lieu de 17",
        33: "18 colonnes au lieu de 17",
        39: checks.PARENT_UNKNOWN,  # its parent comes on the next line
        41: checks.PARENT_UNKNOWN,
        47: checks.PARENT_UNKNOWN,
    }
    assert set(reasons) == set(expected)
    for number, reason in expected.items():
        assert reason in reasons[number], (number, reasons[number])
    people = by_sql["people"]
    assert people[with_key("2800175056037")][2] == 'Dupont; dit "le Grand"'
    assert people[with_key("2800175056038")][2] == "O\\Neil\tTab"
    assert people[with_key(CORSICA)][13] == "+33712345678"
    assert people[with_key("2800175056012")][:1] == ("NIA",)
    assert people[with_key("1150375056033")][-1] == with_key(PARENT)
    assert with_key("2800175056039") in people and with_key("2800175056040") in people
    assert people[with_key("1150375056088")][-1] == with_key("1150375056077")
    assert people[with_key("1150375056099")][-1] is None
    assert people[with_key("1150375056100")][-1] == with_key("2800175056041")
    assert people[with_key("1150375056111")][-1] == with_key("1150375056100")
    # Created: every good line but the repeated INS (twice) and the person already known.
    assert by_sql["counts"] == (len(people) - 1, 3, len(expected))


def test_a_chunk_probes_the_citizens_by_ins_and_never_reads_them_all(db, tmp_path):
    """At the tenth chunk of a million, a join hashed the 900 000 citizens already written,
    for every chunk: the parents, the known and the missing are looked up by INS instead."""
    from datetime import date
    from functools import partial

    from mes.enrolment import import_sql, keys

    path = write(tmp_path)
    reset()
    run = ImportRun.objects.create(sha256="0" * 64, file_name=str(path))
    import_sql.stage(run, path)
    table = import_sql.check_chunk(run, 2, 2 + len(LINES), date(2026, 12, 7))
    key = partial(keys.ordered_key_sql, started_ms=0, run=run.pk)
    statements = [
        *(
            import_sql._WRITE.format(
                ctes=import_sql._FIRST_ROUND.format(chunk=table, parent_key=key("f.line"), **form),
                candidates=import_sql._FIRST_CANDIDATES.format(chunk=table, key=key("s.line")),
                unplaced=import_sql._UNPLACED,
                **form,
            )
            for form in (import_sql._PLAIN, import_sql._SKIP_KNOWN)
        ),
        import_sql._WRITE.format(
            ctes="",
            candidates=import_sql._NEXT_ROUND.format(chunk=table, key=key("s.line")),
            unplaced="0",
            **import_sql._SKIP_KNOWN,
        ),
        import_sql._PARENT_MISSING.format(chunk=table, key=key("s.line")),
    ]
    params = {
        "status": "VALI",
        "state": "x",
        "now": "2026-12-07T00:00:00Z",
        "run": run.pk,
        "reason": "x",
        "end_key": keys.ordered_key(started_ms=0, line=99, run=run.pk),
    }
    # The test database holds a handful of citizens, and whether the planner then prefers
    # reading them all depends on when autovacuum last counted them. With sequential scans
    # priced out, one still appears only where no index can answer; and an index scan
    # without a condition would be reading them all too.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in statements:
            cursor.execute("EXPLAIN " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            assert not _reads_every_citizen(plan), "\n".join(plan)


def _reads_every_citizen(plan: list[str]) -> bool:
    """A scan of identity_citizen that is sequential, or an index scan without a condition."""
    for n, line in enumerate(plan):
        if not re.search(r" on identity_citizen( |$)", line):
            continue
        if "Seq Scan" in line:
            return True
        if "Index" in line:
            details = []
            for below in plan[n + 1 :]:
                if "->" in below:
                    break
                details.append(below)
            if not any("Index Cond" in d for d in details):
                return True
    return False


def _check_then_write(path: Path, between: Callable[[], object]) -> tuple[object, list[str]]:
    """One chunk of the file checked, `between` run, the chunk written: its result and the
    ON CONFLICT clause of each first-round statement sent."""
    from datetime import date

    from mes.enrolment import import_sql

    reset()
    run = ImportRun.objects.create(sha256="0" * 64, file_name=str(path))
    import_sql.stage(run, path)
    table = import_sql.check_chunk(run, 2, 2 + len(LINES), date(2026, 12, 7))
    between()
    forms: list[str] = []
    real = import_sql._WRITE.format

    def spy(*args: object, **kwargs: str) -> str:
        forms.append(kwargs["on_conflict"])
        return real(*args, **kwargs)

    with mock.patch.object(import_sql, "_WRITE", mock.Mock(format=spy)):
        result = import_sql.write_chunk(run, table, 2 + len(LINES))
    import_sql.drop_stage(run)
    return result, forms


def _made_meanwhile() -> None:
    existing_person(with_key(CORSICA), "Faite", "Entre-temps")


def test_a_person_made_after_the_checks_is_left_alone_and_the_chunk_still_loads(db, tmp_path):
    """The checker finds who is known one chunk ahead; the writer inserts the others without
    ON CONFLICT. Someone of the same INS made in between (the previous chunk's line, or the
    service creating the person) makes that insert fail: the chunk is written again with
    ON CONFLICT, the person left as made, everyone else loaded once."""
    path = write(tmp_path)
    clean, forms = _check_then_write(path, lambda: None)
    assert forms[0] == ""  # the plain insert, enough
    people = outcome()["people"]

    result, forms = _check_then_write(path, _made_meanwhile)
    assert forms[:2] == ["", "ON CONFLICT (ins) DO NOTHING"]  # plain, failed, then again
    made = Citizen.objects.get(ins=with_key(CORSICA))
    assert made.birth_name == "Faite" and made.espace.state == "active"
    assert result.created == clean.created - 1  # type: ignore[attr-defined]
    assert result.already_known == clean.already_known + 1  # type: ignore[attr-defined]
    assert result.rejected == clean.rejected  # type: ignore[attr-defined]
    again = outcome()["people"]
    assert {k: v for k, v in again.items() if k != made.ins} == {
        k: v for k, v in people.items() if k != made.ins
    }
