"""The agenda's stories happen on a fixed day: Monday 7 December 2026, 10:00 in Paris."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
TODAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(NOW, tick=False):
        yield
