"""SMS backends: a callable (phone, text) -> None chosen by settings.MES_SMS_BACKEND."""

from __future__ import annotations

import logging

logger = logging.getLogger("mes.sms")

outbox: list[tuple[str, str]] = []  # memory_backend's sent messages (tests)


def console_backend(phone: str, text: str) -> None:
    logger.info("SMS à %s : %s", phone, text)


def memory_backend(phone: str, text: str) -> None:
    outbox.append((phone, text))
