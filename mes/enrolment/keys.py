"""The citizen keys the population import makes: UUIDs in the order of the file, not at random.

A random key (uuid4, gen_random_uuid) lands anywhere in the primary-key index: every insert
touches another leaf page, and once the index outgrows the shared buffers (tens of millions of
people) each one is a read and, after each checkpoint, a full-page image in the WAL. These keys
grow with the run and the line, so each chunk appends to the right edge of the index.

The layout is RFC 9562's UUIDv7 (version 7, variant 10), its "random" bits used as the
dedicated counter the RFC allows (§6.2, method 1):

    48 bits  the run's start, in milliseconds since the epoch (ImportRun.started_at)
     4 bits  version 7
    12 bits  the line number's bits 28-39
     2 bits  variant 10
    28 bits  the line number's bits 0-27
    34 bits  the run's id (mod 2^34)

Deterministic: a chunk redone after an interruption gets the same keys, and two runs never
share one (another start, another run id). Version 7 never meets the uuid4 keys the rest of
the service makes (version 4). Written once in Python and once in SQL, tested equal
(test_import_keys.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

LINE_HIGH_SHIFT = 28
LINE_LOW_MASK = (1 << LINE_HIGH_SHIFT) - 1
LINE_HIGH_MASK = 0xFFF
RUN_BITS = 34
RUN_MASK = (1 << RUN_BITS) - 1
MAX_LINE = (1 << 40) - 1


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000) & ((1 << 48) - 1)


def ordered_key(*, started_ms: int, line: int, run: int) -> uuid.UUID:
    """The key of the person made from `line` of the run `run` started at `started_ms`."""
    if not 0 <= line <= MAX_LINE:
        raise ValueError("numéro de ligne hors limites pour la clé")
    value = (
        (started_ms << 80)
        | (0x7 << 76)
        | (((line >> LINE_HIGH_SHIFT) & LINE_HIGH_MASK) << 64)
        | (0b10 << 62)
        | ((line & LINE_LOW_MASK) << RUN_BITS)
        | (run & RUN_MASK)
    )
    return uuid.UUID(int=value)


def ordered_key_sql(line: str, *, started_ms: int, run: int) -> str:
    """The same key in SQL, `line` being a bigint expression; the run's parts are constants.
    to_hex of a bigint with its top bit set (the variant) gives its 16 digits unsigned."""
    return (
        f"('{started_ms:012x}7' || lpad(to_hex(({line} >> {LINE_HIGH_SHIFT}) & {LINE_HIGH_MASK}),"
        f" 3, '0') || to_hex(x'8000000000000000'::bigint | (({line} & {LINE_LOW_MASK}) "
        f"<< {RUN_BITS}) | {run & RUN_MASK}))::uuid"
    )
