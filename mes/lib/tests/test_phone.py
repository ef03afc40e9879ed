import pytest

from mes.lib.phone import grouped


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("0612345678", "06 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("06 1234 5678", "06 12 34 56 78"),
        ("+33612345678", "+33 6 12 34 56 78"),
        ("3422", "3422"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("", ""),
    ],
)
def test_french_numbers_by_pairs(typed, shown):
    assert grouped(typed) == shown
