from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.apps import AppConfig


def _attachments_referring_to(blob_ids: set[uuid.UUID]) -> Iterable[uuid.UUID]:
    from .models import Attachment

    # An attachment's blob id is its own id (mes.vault.store.put(patient, attachment.pk, ...)).
    return Attachment.objects.filter(pk__in=blob_ids).values_list("pk", flat=True)


class MessagingConfig(AppConfig):
    name = "mes.messaging"
    label = "messaging"

    def ready(self) -> None:
        from mes.vault.references import register

        register("messaging.Attachment", _attachments_referring_to)
