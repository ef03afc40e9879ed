"""What Camille's agenda pages share: a fixed day (Monday 7 December 2026, 10:00 in Paris) so
that the calendar, the prevention items and the reminders fall on known dates, her signed-in
browser, and the page's text as a reader sees it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def fixed_day() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def as_camille(client: Client, camille: Any) -> Client:
    client.force_login(camille.user)
    return client


def text(response: Any) -> str:
    """The page's text, entities decoded and white space folded."""
    return unescape(re.sub(r"\s+", " ", response.content.decode()))
