"""How a stored document leaves the server as a file, for both portals."""

from __future__ import annotations

from django.utils.text import slugify

from mes.lib import filetypes
from mes.records.models import Document

DOWNLOAD_NAME_MAX = 80


def download_name(doc: Document) -> str:
    """An ASCII file name made from the title: the uploaded file name is never kept or trusted."""
    stem = slugify(doc.title)[:DOWNLOAD_NAME_MAX].strip("-") or "document"
    return f"{stem}.{filetypes.EXTENSIONS.get(doc.mime_type, 'bin')}"
