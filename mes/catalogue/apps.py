from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.apps import AppConfig


def _profile_shares_referring_to(blob_ids: set[uuid.UUID]) -> Iterable[uuid.UUID]:
    from .models import ProfileShare

    # A synthèse sent to a service is sealed under its ProfileShare's id.
    return ProfileShare.objects.filter(pk__in=blob_ids).values_list("pk", flat=True)


class CatalogueConfig(AppConfig):
    name = "mes.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue de services"

    def ready(self) -> None:
        from mes.vault.references import register

        register("catalogue.ProfileShare", _profile_shares_referring_to)
