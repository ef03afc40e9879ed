"""Structured logs: one JSON object per line with the request id, and a last line of defence
that keeps identifiers out of the logs.

No log line may carry health data or an INS (DESIGN.md §5). The code never logs either on
purpose; `RedactIdentifiers` blanks any run of 13 to 15 digits (a NIR/NIA with or without its key,
an INS) and any e-mail address that slipped into a message or its arguments anyway, so that a
future careless `logger.info("%s", citizen.ins)` still leaks nothing.
"""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("mes_request_id", default="-")

_IDENTIFIER = re.compile(r"(?<!\d)(?:\d[ .]?){12,14}\d(?!\d)|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[masqué]"


def redact(text: str) -> str:
    return _IDENTIFIER.sub(REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Adds the id of the request (or task) being served to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactIdentifiers(logging.Filter):
    """Formats the message once, blanks identifiers in it, and drops the arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            # Exception texts can quote input (an INS in a ValueError): format and redact them
            # here, and drop the live exception so that no formatter renders it again.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def json_formatter() -> Any:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )
