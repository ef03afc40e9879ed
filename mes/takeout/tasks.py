"""Background entry points over the takeout actions (thin: the rules live in the actions)."""

from __future__ import annotations

import uuid

from django_tasks import task

from .export import export_build, export_failed


@task()
def build_data_export(export_id: str) -> str:
    """Build one « Télécharger mes données » zip (idempotent: at-least-once delivery). On an
    error the export is marked failed, so that the citizen can ask again."""
    try:
        return export_build(export_id=uuid.UUID(export_id)).status
    except Exception:
        export_failed(export_id=uuid.UUID(export_id))
        raise
