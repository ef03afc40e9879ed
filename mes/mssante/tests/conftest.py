"""A running gateway (SMTP + LMTP) on free loopback ports, for tests that speak to it with a real
client (smtplib). The database is shared with the gateway's threads (transactional_db)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from mes.mssante import server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gateway(transactional_db: Any, settings: Any) -> Iterator[server.Gateway]:
    settings.MES_MSSANTE_MAX_MESSAGE_BYTES = 2 * 1024 * 1024
    gw = server.start(
        host="127.0.0.1",
        smtp_port=free_port(),
        lmtp_port=free_port(),
        require_starttls=False,
        threads=2,
    )
    try:
        yield gw
    finally:
        gw.stop()
