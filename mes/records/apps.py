from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.apps import AppConfig


def _documents_referring_to(blob_ids: set[uuid.UUID]) -> Iterable[uuid.UUID]:
    from .models import Document

    # A document's blob id is its own id (mes.vault.store.put(patient, document.pk, ...)).
    return Document.objects.filter(pk__in=blob_ids).values_list("pk", flat=True)


class RecordsConfig(AppConfig):
    name = "mes.records"
    label = "records"

    def ready(self) -> None:
        from mes.vault.references import register

        register("records.Document", _documents_referring_to)
