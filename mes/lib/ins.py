"""INS (identifiant national de santé): NIR or NIA, 13 characters plus a 2-digit key.

mes-spec §2.2: key = 97 - (N mod 97), where Corsica's département 2A/2B counts as 19/18 for the
key only. Errors carry a French message meant for the person typing the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

OID_INS_NIR = "1.2.250.1.213.1.4.8"
OID_INS_NIA = "1.2.250.1.213.1.4.9"
OID_INS_NIR_TEST = "1.2.250.1.213.1.4.10"
OID_INS_NIA_TEST = "1.2.250.1.213.1.4.11"

# ASCII digits only (a Unicode digit would pass \d and int()); the import's SQL uses the same.
SHAPE = r"^[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}[0-9]{2}$"
_SHAPE = re.compile(SHAPE)


# The messages, also used by the import's checks in SQL (mes/enrolment/checks.py).
MESSAGE_EMPTY = "Saisissez le numéro INS (15 caractères, clé comprise)."
MESSAGE_LENGTH = "Le numéro INS doit compter 15 caractères, clé comprise ({n} saisis)."
MESSAGE_SHAPE = (
    "Le numéro INS n'a pas la bonne forme : 15 chiffres (2A ou 2B pour un département "
    "de naissance en Corse)."
)
MESSAGE_KEY = "La clé du numéro INS ne correspond pas : vérifiez les 15 caractères."


class InsKind(StrEnum):
    NIR = "NIR"
    NIA = "NIA"


class InvalidIns(ValueError):
    """The number is not a well-formed INS; str(error) is a French message for the user."""


@dataclass(frozen=True)
class Ins:
    value: str  # 15 characters, no spaces, upper case
    kind: InsKind

    @property
    def oid(self) -> str:
        return OID_INS_NIR if self.kind is InsKind.NIR else OID_INS_NIA

    @property
    def formatted(self) -> str:
        v = self.value
        return f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:15]}"


def normalise(raw: str) -> str:
    return re.sub(r"[\s.\-]", "", raw or "").upper()


def key_of(first13: str) -> int:
    """The 2-digit control key of the 13 first characters (Corsica substitution on 6-7 only)."""
    dept = first13[5:7]
    if dept == "2A":
        first13 = first13[:5] + "19" + first13[7:]
    elif dept == "2B":
        first13 = first13[:5] + "18" + first13[7:]
    return 97 - (int(first13) % 97)


def parse_ins(raw: str, kind: InsKind = InsKind.NIR) -> Ins:
    """Return the INS or raise InvalidIns with a message saying what is wrong."""
    value = normalise(raw)
    if not value:
        raise InvalidIns(MESSAGE_EMPTY)
    if len(value) != 15:
        raise InvalidIns(MESSAGE_LENGTH.format(n=len(value)))
    if not _SHAPE.match(value):
        raise InvalidIns(MESSAGE_SHAPE)
    if int(value[13:]) != key_of(value[:13]):
        raise InvalidIns(MESSAGE_KEY)
    return Ins(value=value, kind=kind)


def with_key(first13: str) -> str:
    """Complete 13 characters with their key (used by the demo and the tests)."""
    first13 = normalise(first13)
    return f"{first13}{key_of(first13):02d}"
