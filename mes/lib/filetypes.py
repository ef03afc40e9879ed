"""What a file really is, judged by its first bytes (never by its name or declared type).

The accepted formats are those of the real service (portal.md §3.2): PDF, JPEG, PNG, TIFF, RTF and
plain text.
"""

from __future__ import annotations

import re

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"{\\rtf", "application/rtf"),
)

EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tiff",
    "application/rtf": "rtf",
    "text/plain": "txt",
    "text/xml": "xml",
}

CDA_MIME = "text/xml"

ACCEPTED_LABEL = "PDF, JPEG, PNG, TIFF, RTF ou texte"


# Other names senders give the same formats (the stored type is always the one sniffed).
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "text/rtf": "application/rtf",
    "application/xml": CDA_MIME,
    "application/hl7-cda+xml": CDA_MIME,
}


def declared_as(declared: str, found: str) -> bool:
    """Whether a declared MIME type (a sender's contentType, parameters such as a charset
    ignored) names the format the content turned out to be."""
    name = declared.split(";", 1)[0].strip().lower()
    return _ALIASES.get(name, name) == found


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = text.lstrip()[:64].lower()
    # Markup would be rendered by some browsers: refused even when it is "text".
    if head.startswith(("<", "\ufeff<")):
        return False
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)


# A CDA R2 document (the structured documents of the CI-SIS): its root element, after an optional
# XML declaration, processing instructions (a stylesheet) and comments. Only the head is judged:
# a CDA that then turns out malformed is still kept as a document (portal.md §5.4).
_CDA_HEAD = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*)*<(?:[A-Za-z_][\w.-]*:)?"
    rb"ClinicalDocument\b[^>]*urn:hl7-org:v3",
    re.DOTALL,
)


def is_cda(data: bytes) -> bool:
    """Whether the content starts as an HL7 CDA R2 document."""
    return bool(_CDA_HEAD.match(data[:4096]))


def sniff(data: bytes) -> str | None:
    """The MIME type recognised from the content, or None when it is not an accepted format."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if is_cda(data):
        # Served only as a download or in the sandboxed viewer (never rendered as markup).
        return "text/xml"
    if data and _is_plain_text(data):
        return "text/plain"
    return None
