from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.apps import AppConfig
from django.db.models import Q
from django.utils import timezone


def _exports_referring_to(blob_ids: set[uuid.UUID]) -> Iterable[uuid.UUID]:
    from .models import DataExport

    # An export's zip is the blob of the export's id; once its link expired nobody may download
    # it, so the sweep may take it back.
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return DataExport.objects.filter(live, pk__in=blob_ids).values_list("pk", flat=True)


class TakeoutConfig(AppConfig):
    """Data leaving the espace at the citizen's request: « Télécharger mes données » and share
    links (issue 15)."""

    name = "mes.takeout"
    label = "takeout"

    def ready(self) -> None:
        from mes.vault.references import register

        register("takeout.DataExport", _exports_referring_to)
