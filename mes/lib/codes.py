"""Terminologies shipped as data files (mes-spec §4.3–4.5, portal.md §3.1).

Loaded once per process; the files under mes/lib/data are the single source of these codes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

LOINC = "http://loinc.org"
TRE_A05 = "urn:oid:1.2.250.1.213.1.1.4.12"
CLASS_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.1"
FORMAT_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.2.282"
PROFESSION_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
)


class UnknownCode(ValueError):
    """str(error) is a French message."""


@dataclass(frozen=True)
class TypeCode:
    code: str
    system: str  # "LOINC" or "TRE_A05"
    display: str
    class_code: str
    current: bool  # False: retired code, readable but refused on a new deposit

    @property
    def system_uri(self) -> str:
        return LOINC if self.system == "LOINC" else TRE_A05


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    colour: str
    type_code: str
    choosable: bool


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def type_codes() -> dict[str, TypeCode]:
    return {
        r["code"]: TypeCode(
            code=r["code"],
            system=r["system"],
            display=r["display"],
            class_code=r["class_code"],
            current=r["status"] == "current",
        )
        for r in _rows("type_codes.csv")
    }


@cache
def class_codes() -> dict[str, str]:
    return {r["code"]: r["display"] for r in _rows("class_codes.csv")}


@cache
def format_codes() -> dict[str, str]:
    return {r["code"]: r["display"] for r in _rows("format_codes.csv")}


@cache
def format_for_mime() -> dict[str, str]:
    out: dict[str, str] = {}
    for r in _rows("format_codes.csv"):
        for mime in filter(None, r["mime_types"].split(";")):
            out[mime] = r["code"]
    return out


@cache
def categories() -> dict[str, Category]:
    return {
        r["code"]: Category(
            code=r["code"],
            label=r["label"],
            colour=r["colour"],
            type_code=r["type_code"],
            choosable=r["choosable"] == "yes",
        )
        for r in _rows("citizen_categories.csv")
    }


def type_code(code: str, *, for_deposit: bool = False) -> TypeCode:
    """The type code, or UnknownCode. A retired code is refused for a new deposit."""
    found = type_codes().get(code)
    if found is None:
        raise UnknownCode(f"Type de document inconnu : « {code} ».")
    if for_deposit and not found.current:
        raise UnknownCode(f"Le type de document « {code} » n'est plus accepté pour un dépôt.")
    if for_deposit and found.class_code == "99":
        raise UnknownCode(f"Le type de document « {code} » n'est pas un document du DMP.")
    return found


def class_of(code: str) -> str:
    """classCode derived from typeCode (ASS_X04); never taken from the sender."""
    return type_code(code).class_code


# Citizen categories for documents deposited by others: by type first, then by class.
_CATEGORY_BY_TYPE = {
    "11502-2": "BIOLOGIE",
    "51969-4": "BIOLOGIE",
    "96173-0": "BIOLOGIE",
    "75482-0": "DEPISTAG",
    "75492-9": "DEPISTAG",
    "68817-6": "DEPISTAG",
    "83869-8": "DEPISTAG",
    "DOCPAT08": "SYNTH_PML",
    "EXPPAT_3": "DIR_ANT",
    "74465-6": "QUEST_SANTE",
    "REMB": "REMB",
}
_CATEGORY_BY_CLASS = {
    "10": "CPT_REND",
    "11": "SYNTHESE",
    "31": "RADIO_SC",
    "42": "ORD_SOIN",
    "43": "ORD_SOIN",
    "44": "ORD_SOIN",
    "45": "ORD_SOIN",
    "52": "CERT_MED",
    "60": "REMB",
    "90": "AUTR_DOC",
    "95": "DOC_ADM",
}


def category_for_type(code: str) -> str:
    """The citizen category (portal.md §3.1) under which a document of this type is listed."""
    for cat in categories().values():
        if cat.choosable and cat.type_code == code:
            return cat.code
    return _CATEGORY_BY_TYPE.get(code) or _CATEGORY_BY_CLASS.get(class_of(code), "AUTR_DOC")


@cache
def professions() -> dict[str, str]:
    """TRE_G15 profession codes -> French label (mes-spec §2.4)."""
    return {r["code"]: r["display"] for r in _rows("professions.csv")}


@cache
def specialties() -> dict[str, str]:
    """TRE_R38 specialty codes used in the project -> French label (subset, [INF])."""
    return {r["code"]: r["display"] for r in _rows("specialties.csv")}
