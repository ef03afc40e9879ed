"""How a stored document leaves the server as a file, for both portals."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.text import slugify

from mes.lib import filetypes
from mes.records.models import Document

DOWNLOAD_NAME_MAX = 80


def download_name(doc: Document) -> str:
    """An ASCII file name made from the title: the uploaded file name is never kept or trusted."""
    stem = slugify(doc.title)[:DOWNLOAD_NAME_MAX].strip("-") or "document"
    return f"{stem}.{filetypes.EXTENSIONS.get(doc.mime_type, 'bin')}"


def file_name(uploaded: str, mime_type: str, default: str = "piece-jointe") -> str:
    """An ASCII file name made from an uploaded file's name (a message's attachment): its stem
    slugified, the extension from the checked content type, never from the name."""
    stem = slugify(uploaded.rsplit(".", 1)[0])[:DOWNLOAD_NAME_MAX] or default
    return f"{stem}.{filetypes.EXTENSIONS.get(mime_type, 'bin')}"


def attachment_response(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    """The file as a download only, under `filename` (a name we made, ASCII): never sniffed as
    another type, and sandboxed should a browser render it anyway."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
