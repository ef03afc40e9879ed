"""The habilitation matrix is data (mes/access/data/matrix.csv): it loads, it is versioned, it
says what mes-spec §6.2 sources say, and it fails closed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mes.access import matrix
from mes.lib import codes

# Class 99 (« Document technique », e.g. FEUILLE-DE-STYLE) is never a document of a dossier: a
# deposit refuses it (codes.type_code(for_deposit=True)), so no profession needs to read it.
DMP_TYPES = frozenset(
    t.code for t in codes.type_codes().values() if t.current and t.class_code != "99"
)

# mes-spec §6.2, infirmier (60), [S:72].
NURSE_SOURCED_ALLOWED = ["83981-1", "DOCPAT06", "47420-5", "11502-2", "15507-7", "56445-0"]
NURSE_SOURCED_ALLOWED += ["PROT_ALD"]
NURSE_SOURCED_DENIED = ["75496-0", "68599-0", "83901-9", "68817-6", "89601-9"]


def _data_rows() -> list[dict[str, str]]:
    text = matrix.MATRIX_FILE.read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def test_the_matrix_loads_with_a_version():
    m = matrix.current()
    assert m.version == "2023-10-26+inf1"
    assert set(m.readable) >= {"10", "21", "40", "50", "60", "80", "SOC"}


def test_a_file_without_version_is_refused(tmp_path: Path):
    bad = tmp_path / "matrix.csv"
    bad.write_text("profession,class_code,access,types\n10,10,all,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="version"):
        matrix._parse(bad)


def test_a_file_naming_an_unknown_type_is_refused(tmp_path: Path):
    bad = tmp_path / "matrix.csv"
    bad.write_text(
        "# version: test\nprofession,class_code,access,types\n10,10,all_except,NIMPORTE\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="NIMPORTE"):
        matrix._parse(bad)


def test_every_type_code_named_in_the_csv_exists():
    known = codes.type_codes()
    named = {code for row in _data_rows() for code in row["types"].split()}
    assert named, "the file names type codes"
    assert named <= set(known), sorted(named - set(known))
    assert all(row["class_code"] in codes.class_codes() for row in _data_rows())
    assert {row["access"] for row in _data_rows()} <= {"all", "all_except", "only", "none"}


def test_every_profession_in_the_csv_is_a_known_profession():
    assert {row["profession"] for row in _data_rows()} <= set(codes.professions())


def test_doctors_read_every_current_type_except_the_residence_certificate():
    m = matrix.current()
    assert not m.allows("10", "ATTEST-RESID")  # mes-spec §6.2 [S:69]
    refused = sorted(code for code in DMP_TYPES - {"ATTEST-RESID"} if not m.allows("10", code))
    assert refused == []


def test_podiatrist_cannot_read_a_cr_d_accouchement():
    m = matrix.current()
    assert not m.allows("80", "15508-5")  # [S:10][S:16]
    assert m.allows("80", "11488-4")  # « large accès »: an ordinary consultation report


def test_dentist_cannot_read_advance_directives():
    m = matrix.current()
    assert not m.allows("40", "EXPPAT_3")  # [S:16]
    for code in ["80788-3", "75496-0", "83981-1", "83901-9", "68599-0"]:  # [S:69]
        assert not m.allows("40", code), code


@pytest.mark.parametrize("code", NURSE_SOURCED_DENIED)
def test_nurse_is_denied_the_sourced_denials(code: str):
    assert not matrix.current().allows("60", code)


@pytest.mark.parametrize("code", NURSE_SOURCED_ALLOWED)
def test_nurse_reads_the_sourced_allowed_types(code: str):
    assert matrix.current().allows("60", code)


@pytest.mark.parametrize("profession", ["99", "", "ZZ"])
def test_a_profession_absent_from_the_file_reads_nothing(profession: str):
    m = matrix.current()
    assert m.readable_types(profession) == frozenset()
    assert not any(m.allows(profession, code) for code in codes.type_codes())


def test_the_loaded_matrix_is_the_literal_reading_of_the_file():
    """Cross-check the loader against a plain reading of each row, cell by cell."""
    m = matrix.current()
    by_class: dict[str, set[str]] = {}
    for t in codes.type_codes().values():
        by_class.setdefault(t.class_code, set()).add(t.code)
    expected: dict[str, set[str]] = {}
    for row in _data_rows():
        listed = set(row["types"].split())
        in_class = by_class.get(row["class_code"], set())
        cell = expected.setdefault(row["profession"], set())
        if row["access"] == "all":
            cell |= in_class
        elif row["access"] == "all_except":
            cell |= in_class - listed
        elif row["access"] == "only":
            cell |= in_class & listed
    for profession in {*expected, *codes.professions()}:
        for code in codes.type_codes():
            assert m.allows(profession, code) == (code in expected.get(profession, set())), (
                profession,
                code,
            )
