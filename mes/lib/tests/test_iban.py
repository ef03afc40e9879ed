"""IBANs are told by their check digits, not their shape."""

from __future__ import annotations

import pytest

from mes.lib.iban import is_iban


@pytest.mark.parametrize(
    "text",
    [
        "FR7630006000011234567890189",
        "FR76 3000 6000 0112 3456 7890 189",
        "de89-3704-0044-0532-0130-00",
        "GB82WEST12345698765432",
    ],
)
def test_real_ibans(text):
    assert is_iban(text)


@pytest.mark.parametrize(
    "text", ["le75parisienne", "jo12martinezzz", "FR7630006000011234567890188", "ines.garnier"]
)
def test_words_that_only_look_like_one(text):
    assert not is_iban(text)
