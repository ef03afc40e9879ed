"""Telling an IBAN (ISO 13616) from a word that only looks like one: an identifiant may not be
an IBAN (wave2 §1.6), but « le75parisienne » is a name, not a bank account."""

from __future__ import annotations

import re

_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def is_iban(text: str) -> bool:
    """An IBAN, written with or without spaces, dots or dashes, whose check digits hold
    (the number read with letters as 10…35 is 1 modulo 97)."""
    bare = re.sub(r"[\s.\-]", "", text).upper()
    if not _SHAPE.fullmatch(bare):
        return False
    moved = bare[4:] + bare[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1
