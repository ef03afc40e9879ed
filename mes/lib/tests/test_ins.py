import pytest
from hypothesis import given
from hypothesis import strategies as st

from mes.lib.ins import InvalidIns, key_of, parse_ins, with_key


def test_public_example_is_valid() -> None:
    # mes-spec §2.2: "2 55 08 14 168 025 38"
    assert parse_ins("2 55 08 14 168 025 38").value == "255081416802538"


def test_wrong_key_has_a_clear_french_message() -> None:
    with pytest.raises(InvalidIns, match="clé du numéro INS ne correspond pas"):
        parse_ins("255081416802539")


@pytest.mark.parametrize("raw", ["", "12345", "2550814168025381"])
def test_wrong_length_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIns):
        parse_ins(raw)


def test_letters_outside_corsica_are_refused() -> None:
    with pytest.raises(InvalidIns, match="bonne forme"):
        parse_ins("2550814X6802538")


@pytest.mark.parametrize("dept, substitute", [("2A", "19"), ("2B", "18")])
def test_corsica_key_uses_the_substitution(dept: str, substitute: str) -> None:
    first13 = f"18505{dept}004012"
    expected = 97 - int(first13.replace(dept, substitute, 1)) % 97
    assert key_of(first13) == expected
    assert parse_ins(with_key(first13)).value.startswith("18505" + dept)


# ASCII digits: a Unicode digit (« ٠ ») is not an INS digit, parse_ins refuses it.
@given(st.from_regex(r"[12][0-9]{4}(0[1-9]|[1-8][0-9]|9[0-5])[0-9]{6}", fullmatch=True))
def test_every_completed_number_parses_and_any_other_key_fails(first13: str) -> None:
    good = with_key(first13)
    assert parse_ins(good).value == good
    bad_key = (int(good[13:]) % 97) + 1
    with pytest.raises(InvalidIns):
        parse_ins(f"{first13}{bad_key:02d}")
