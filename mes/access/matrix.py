"""The habilitation matrix, read from data (mes/access/data/matrix.csv), never written as code.

A (profession, class) cell absent from the file means no read access: the matrix fails closed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mes.lib import codes

MATRIX_FILE = Path(__file__).parent / "data" / "matrix.csv"


@dataclass(frozen=True)
class Matrix:
    version: str
    # profession -> set of readable type codes
    readable: dict[str, frozenset[str]]

    def allows(self, profession: str, type_code: str) -> bool:
        return type_code in self.readable.get(profession, frozenset())

    def readable_types(self, profession: str) -> frozenset[str]:
        return self.readable.get(profession, frozenset())


def _parse(path: Path) -> Matrix:
    version = ""
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            if line.startswith("# version:"):
                version = line.split(":", 1)[1].strip()
            continue
        lines.append(line)
    if not version:
        raise ValueError(f"{path}: la version de la matrice est absente.")
    by_class: dict[str, set[str]] = {}
    for t in codes.type_codes().values():
        by_class.setdefault(t.class_code, set()).add(t.code)
    readable: dict[str, set[str]] = {}
    for row in csv.DictReader(lines):
        listed = set(row["types"].split())
        unknown = listed - set(codes.type_codes())
        if unknown:
            raise ValueError(f"{path}: types inconnus {sorted(unknown)}")
        in_class = by_class.get(row["class_code"], set())
        cell = {
            "all": in_class,
            "all_except": in_class - listed,
            "only": listed & in_class,
            "none": set(),
        }[row["access"]]
        readable.setdefault(row["profession"], set()).update(cell)
    return Matrix(version=version, readable={p: frozenset(t) for p, t in readable.items()})


@cache
def current() -> Matrix:
    return _parse(MATRIX_FILE)
