"""The authors of a page of DocumentReference, kept per process (issue 12 §6).

A search page names up to a hundred documents whose authors are a handful of professionals and
structures, the same from one page to the next. Rather than joining them to every page (two
more tables compiled and read for each request), they are kept here by id for
MES_FHIR_TOKEN_CACHE_SECONDS, as the token's own facts are (mes/fhir/auth/token_cache.py), and the
ones not yet known are read in one query per model.

Invalidation: a change to a professional or a structure saved or deleted in this process empties
the cache at once (signals, connected by token_cache.connect); in the other processes the name
or the profession shown in `author` is at most MES_FHIR_TOKEN_CACHE_SECONDS old. Only what is
rendered comes from here: the access decision never reads it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Model

from mes.identity.models import Organisation, Professional
from mes.records.models import Document

# Per process, at most this many of each (emptied when full).
MAX_ENTRIES = 10_000

T = TypeVar("T", bound=Model)

_cache: dict[type[Model], dict[Any, tuple[float, Model]]] = {Professional: {}, Organisation: {}}


def _known(model: type[T], ids: Iterable[Any]) -> dict[Any, T]:
    """These rows by id: from the cache while fresh, the others in one query."""
    now = time.monotonic()
    kept = _cache[model]
    found: dict[Any, T] = {}
    missing = set()
    for pk in ids:
        entry = kept.get(pk)
        if entry is not None and entry[0] > now:
            found[pk] = entry[1]  # type: ignore[assignment]
        else:
            missing.add(pk)
    if missing:
        if len(kept) + len(missing) > MAX_ENTRIES:
            kept.clear()
        deadline = now + settings.MES_FHIR_TOKEN_CACHE_SECONDS
        for row in model._default_manager.filter(pk__in=missing):
            kept[row.pk] = (deadline, row)
            found[row.pk] = row
    return found


def attach(documents: list[Document]) -> None:
    """Give each document its author professional and structure (what `render` reads)."""
    professionals = _known(
        Professional, {d.author_professional_id for d in documents if d.author_professional_id}
    )
    organisations = _known(
        Organisation, {d.author_organisation_id for d in documents if d.author_organisation_id}
    )
    for doc in documents:
        # Set through the descriptors' cache: no query when `render` reads them. A null
        # author stays null; an id not found is left to the descriptor (read on access).
        if doc.author_professional_id is None or doc.author_professional_id in professionals:
            doc.author_professional = professionals.get(doc.author_professional_id)
        if doc.author_organisation_id is None or doc.author_organisation_id in organisations:
            doc.author_organisation = organisations.get(doc.author_organisation_id)


def clear(**_: Any) -> None:
    """Forget every author (a professional or a structure changed in this process)."""
    for kept in _cache.values():
        kept.clear()
