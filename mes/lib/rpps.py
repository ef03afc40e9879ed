"""Professional and structure identifiers (mes-spec §2.4).

RPPS: 11 digits; the national id used in CPS cards, traces and MSSanté is "8" + RPPS.
FINESS: 9 characters, the first two the département (2A/2B for Corsica).
The check digits of RPPS and FINESS are not confirmed by the sources ([INF]), so only the shape is
enforced: refusing a real number on a guessed rule would lock a professional out.
"""

from __future__ import annotations

import re

OID_PS = "1.2.250.1.71.4.2.1"
OID_STRUCTURE = "1.2.250.1.71.4.2.2"

_RPPS = re.compile(r"^\d{11}$")
_FINESS = re.compile(r"^(?:\d{2}|2[AB])\d{7}$")


class InvalidIdentifier(ValueError):
    """str(error) is a French message for the user."""


def parse_rpps(raw: str) -> str:
    value = re.sub(r"\s", "", raw or "")
    if not _RPPS.match(value):
        raise InvalidIdentifier("Le numéro RPPS compte 11 chiffres.")
    return value


def national_id(rpps: str) -> str:
    """idNat_PS of a professional known by RPPS."""
    return "8" + rpps


def parse_finess(raw: str) -> str:
    value = re.sub(r"\s", "", raw or "").upper()
    if not _FINESS.match(value):
        raise InvalidIdentifier("Le numéro FINESS compte 9 caractères (2A ou 2B pour la Corse).")
    return value
