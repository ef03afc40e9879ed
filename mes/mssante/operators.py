"""The liste blanche: operator domains of the MSSanté trust space, kept as data (a CSV named by
MES_MSSANTE_OPERATOR_DOMAINS_FILE; mes-spec §7.1)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from django.conf import settings


@cache
def _load(path: str) -> frozenset[str]:
    with Path(path).open(encoding="utf-8", newline="") as f:
        return frozenset(
            row["domain"].strip().lower() for row in csv.DictReader(f) if row["domain"].strip()
        )


def allowed_domains() -> frozenset[str]:
    return _load(settings.MES_MSSANTE_OPERATOR_DOMAINS_FILE)


def is_allowed(address: str) -> bool:
    """Is this sender address on a domain of the trust space?"""
    domain = address.rpartition("@")[2].strip().lower()
    return bool(domain) and domain in allowed_domains()
