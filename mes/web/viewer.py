"""The in-page document viewer shared by both portals (issue 8 item 5): the content served
inline under a Content-Security-Policy that sandboxes it, and what the page needs to show it.

The content is never framed: a PDF is fetched by our own pdf.js page script (vendored, served by
us) and drawn on canvases; an image is an <img>. So a hostile file (a PDF with JavaScript, an
SVG pretending to be a PNG) runs nothing: no browser plugin, `sandbox` and `default-src 'none'`
if it is opened on its own, `nosniff` against type confusion.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.http import HttpResponse

from mes.access.actors import Actor
from mes.records import actions
from mes.records.actions import VIEWABLE_TYPES
from mes.records.models import Document
from mes.vault.store import VaultError

from .downloads import attachment_response, download_name

logger = logging.getLogger(__name__)

VIEW_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'; form-action 'none'"


def viewer_kind(doc: Document) -> str:
    """ "pdf", "image", or "" when the format is only downloaded."""
    return VIEWABLE_TYPES.get(doc.mime_type, "")


def inline_response(doc: Document, content: bytes) -> HttpResponse:
    """The content for the viewer: inline, sandboxed, never cached, same-origin only."""
    response = HttpResponse(content, content_type=doc.mime_type)
    response["Content-Disposition"] = f'inline; filename="{download_name(doc)}"'
    response["Content-Security-Policy"] = VIEW_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store, private"
    return response


def document_file(
    actor: Actor,
    document_id: uuid.UUID,
    *,
    inline: bool,
    unavailable: Callable[[], HttpResponse],
) -> HttpResponse:
    """The document's content, inline for the viewer (AFFICHAGE_DOC trace) or always as an
    attachment under a name we make (TELECHARGEMENT_DOC): the records actions decide and trace.
    A file the vault cannot read is logged by the document's id only, and `unavailable`
    answers (the portal's French page, status 500)."""
    read = actions.document_view_content if inline else actions.document_content
    try:
        doc, content = read(actor=actor, document_id=document_id)
    except VaultError:
        logger.exception("Document %s illisible dans le coffre", document_id)
        return unavailable()
    if inline:
        return inline_response(doc, content)
    return attachment_response(content, content_type=doc.mime_type, filename=download_name(doc))
