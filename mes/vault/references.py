"""Which blobs committed rows still refer to.

The vault sits below the apps that own blobs (records' documents, messaging's attachments,
exports ...), so it cannot know their tables; each of those apps registers, in its
AppConfig.ready, a function answering « which of these blob ids do you refer to? ». The sweeper
removes a blob only when no registered owner claims it: an owner that forgets to register makes
the sweeper delete its blobs, so `owners()` is checked by a test against every model that
stores blobs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

Claim = Callable[[set[uuid.UUID]], Iterable[uuid.UUID]]
_owners: dict[str, Claim] = {}


def register(name: str, claim: Claim) -> None:
    """`claim(ids)` returns those of `ids` that a committed row of `name` refers to."""
    _owners[name] = claim


def owners() -> dict[str, Claim]:
    return dict(_owners)


def referenced(blob_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for claim in _owners.values():
        found.update(claim(blob_ids - found))
        if found == blob_ids:
            break
    return found
