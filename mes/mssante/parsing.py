"""From the bytes of an SMTP DATA to an `IncomingMail` (MIME, MSSanté headers, XDM), or a
delivery status notification about a message a citizen sent.

Anything that cannot be read cleanly raises `Malformed` (the gateway answers 554): the mail is
refused whole, never stored in part.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

from mes.messaging.actions import HIDDEN_FROM_REPS_HEADER, IncomingFile, IncomingMail

from . import xdm


class Malformed(ValueError):
    """Unreadable mail (French message, sent back in the 554 reply)."""


@dataclass(frozen=True)
class Bounce:
    original_message_id: str
    reason: str


def _header(msg: EmailMessage, name: str) -> str:
    value = msg.get(name)
    return str(value).strip() if value is not None else ""


def _addresses(msg: EmailMessage, name: str) -> list[str]:
    return [a.lower() for _, a in getaddresses([str(v) for v in msg.get_all(name, [])]) if a][:50]


def _ids(value: str) -> list[str]:
    return [part if part.startswith("<") else f"<{part}>" for part in value.split() if part][:100]


def _text(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, ValueError) as exc:
        raise Malformed("Corps de message illisible (encodage).") from exc


def parse(data: bytes, *, max_bytes: int) -> IncomingMail | Bounce:
    """Read one message; `max_bytes` bounds what an XDM archive may inflate to."""
    if b"\x00" in data:
        raise Malformed("Caractère NUL refusé dans le message.")
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the email package raises many kinds on broken input
        raise Malformed("Message MIME illisible.") from exc
    assert isinstance(msg, EmailMessage)
    if msg.defects and any(
        type(d).__name__
        in {
            "MissingHeaderBodySeparatorDefect",
            "NoBoundaryInMultipartDefect",
            "StartBoundaryNotFoundDefect",
            "MultipartInvariantViolationDefect",
        }
        for d in msg.defects
    ):
        raise Malformed("Structure MIME invalide.")
    if msg.get_content_type() == "multipart/report":
        return _bounce(msg)
    senders = _addresses(msg, "From")
    if len(senders) != 1:
        raise Malformed("En-tête From absent ou multiple.")
    message_id = _header(msg, "Message-ID")
    if not message_id:
        # Without one, a content hash keeps a retried delivery idempotent.
        message_id = f"<{hashlib.sha256(data).hexdigest()}@sans-message-id>"
    try:
        date = parsedate_to_datetime(_header(msg, "Date")) if msg.get("Date") else timezone.now()
    except (TypeError, ValueError):
        date = timezone.now()
    if date.tzinfo is None:
        date = timezone.make_aware(date)
    body_text, body_html = "", ""
    body = msg.get_body(preferencelist=("plain",))
    if body is not None:
        body_text = _text(body)  # type: ignore[arg-type]
    html = msg.get_body(preferencelist=("html",))
    if html is not None:
        body_html = _text(html)  # type: ignore[arg-type]
    files: list[IncomingFile] = []
    secret_care = _secret_care_header(msg)
    for part in msg.iter_attachments():
        found, labelled = _files_of(part, max_bytes=max_bytes)
        files.extend(found)
        secret_care = secret_care or labelled
    mes = _header(msg, "X-MSS-MES").upper()
    refs = _ids(_header(msg, "References"))
    in_reply_to = (_ids(_header(msg, "In-Reply-To")) or [""])[0]
    return IncomingMail(
        sender_address=senders[0],
        subject=_subject(_header(msg, "Subject")),
        message_id=message_id[:255],
        at=date,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        body_html=body_html,
        body_text=body_text,
        in_reply_to=in_reply_to,
        references=refs,
        mss_codecda=_header(msg, "X-MSS-CODECDA"),
        mss_ins=_header(msg, "X-MSS-INS")[:1].upper(),
        mss_nil=_header(msg, "X-MSS-NIL"),
        end_of_exchange=mes == "FIN",
        files=files,
        hidden_from_representatives=secret_care,
    )


def _secret_care_header(msg: EmailMessage) -> bool:
    """X-MES-INVISIBLE-REP-LEGAUX: Y marks a minor's secret care, for software that sends no
    XDM archive (docs/decisions.md, Messagerie); anything but Y or N is refused."""
    values = {str(v).strip().upper() for v in msg.get_all(HIDDEN_FROM_REPS_HEADER, [])}
    if not values <= {"Y", "N"}:
        raise Malformed(f"En-tête {HIDDEN_FROM_REPS_HEADER} invalide : Y ou N attendu.")
    if len(values) > 1:
        raise Malformed(f"En-tête {HIDDEN_FROM_REPS_HEADER} contradictoire.")
    return values == {"Y"}


def _subject(subject: str) -> str:
    # Ref #2: hide the « XDM/1.0/DDM+ » prefix that practice software puts on XDM mails.
    for prefix in ("XDM/1.0/DDM+", "XDM/1.0/DDM"):
        if subject.upper().startswith(prefix):
            return subject[len(prefix) :].strip()
    return subject


def _files_of(part: EmailMessage, *, max_bytes: int) -> tuple[list[IncomingFile], bool]:
    """The files of one attachment (an XDM archive's documents, or the file itself), and
    whether one is labelled INVISIBLE_REPRESENTANTS_LEGAUX in METADATA.XML."""
    filename = part.get_filename() or "piece-jointe"
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        raise Malformed("Pièce jointe illisible.") from exc
    if not isinstance(payload, bytes):
        raise Malformed("Pièce jointe illisible.")
    if filename.upper().endswith("IHE_XDM.ZIP") or part.get_content_type() == "application/zip":
        try:
            docs = xdm.read(payload, max_bytes=max_bytes)
        except xdm.XdmError as exc:
            raise Malformed(str(exc)) from exc
        files = [
            IncomingFile(
                filename=d.title if "." in d.title else d.path.rsplit("/", 1)[-1],
                content=d.content,
                declared_type=d.mime_type,
                cda_type_code=d.type_code,
            )
            for d in docs
        ]
        return files, any(d.secret_care for d in docs)
    file = IncomingFile(filename=filename, content=payload, declared_type=part.get_content_type())
    return [file], False


def _bounce(msg: EmailMessage) -> Bounce:
    """RFC 3464: the failed action and the original Message-ID from the returned headers."""
    original, reason = "", ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            text = part.as_string()
            for line in text.splitlines():
                key, _, value = line.partition(":")
                if key.strip().lower() == "diagnostic-code":
                    reason = value.strip()[:200]
        elif ctype in ("text/rfc822-headers", "message/rfc822"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) else None
            if inner is not None and not isinstance(inner, str):
                original = str(inner.get("Message-ID", "")).strip()
            else:
                headers = email.message_from_string(str(payload), policy=email.policy.default)
                original = str(headers.get("Message-ID", "")).strip()
    if not original:
        raise Malformed("Avis de non-distribution sans Message-ID d'origine.")
    return Bounce(original_message_id=original, reason=reason)
