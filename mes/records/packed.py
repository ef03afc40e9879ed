"""Multi-valued XDS metadata of a document packed into one text column (mes-spec §4.2).

`eventCodeList` (Document.event_codes) and `referenceIdList` (Document.reference_ids) are lists;
they are stored as delimited text so that a search is a plain LIKE on SQLite and PostgreSQL
alike, without JSON lookups or an extra table:

- reference ids: ``|value|value|``;
- event codes: ``|system^code|system^code|`` (an empty system: ``|^code|``);
- no value: the empty string.

Every item is framed by ``|`` on both sides, so ``contains "|value|"`` finds exactly one item and
``contains "^code|"`` a code under any system. Values may therefore not contain ``|`` (nor
``^`` in a system or a code): mes.records.actions.document_deposit refuses them with a French
message; `pack` / `pack_codes` raise ValueError as a last guard. Django escapes ``%`` and ``_``
in `contains`. On SQLite, LIKE ignores the case of ASCII letters (a Django caveat): a search there
may match a code differing only by case; PostgreSQL compares exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

ITEM_SEP = "|"
CODE_SEP = "^"


def pack(values: Iterable[str]) -> str:
    """``|a|b|`` for [a, b]; "" for no value."""
    values = list(values)
    if any(not v or ITEM_SEP in v for v in values):
        raise ValueError(f"Valeur vide ou contenant « {ITEM_SEP} ».")
    return ITEM_SEP + ITEM_SEP.join(values) + ITEM_SEP if values else ""


def unpack(text: str) -> list[str]:
    return [v for v in text.split(ITEM_SEP) if v]


def pack_codes(pairs: Iterable[tuple[str, str]]) -> str:
    """``|s1^c1|s2^c2|`` for [(s1, c1), (s2, c2)]; the system may be ""."""
    items = []
    for system, code in pairs:
        if not code or CODE_SEP in system or CODE_SEP in code:
            raise ValueError(f"Code vide ou contenant « {CODE_SEP} ».")
        items.append(f"{system}{CODE_SEP}{code}")
    return pack(items)


def unpack_codes(text: str) -> list[tuple[str, str]]:
    return [tuple(item.split(CODE_SEP, 1)) for item in unpack(text)]  # type: ignore[misc]


NO_MATCH = Q(pk__in=[])  # a value holding a separator was never stored


def value_q(field: str, value: str) -> Q:
    """Documents whose list in `field` holds this exact value."""
    if not value or ITEM_SEP in value:
        return NO_MATCH
    return Q(**{f"{field}__contains": f"{ITEM_SEP}{value}{ITEM_SEP}"})


def code_q(field: str, code: str, system: str | None = None) -> Q:
    """Documents whose code list in `field` holds this code: under `system`, or under any system
    when `system` is None ("" means: sent without a system)."""
    if not code or CODE_SEP in code or CODE_SEP in (system or ""):
        return NO_MATCH
    if system is None:
        if ITEM_SEP in code:
            return NO_MATCH
        return Q(**{f"{field}__contains": f"{CODE_SEP}{code}{ITEM_SEP}"})
    return value_q(field, f"{system}{CODE_SEP}{code}")
