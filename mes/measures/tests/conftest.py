"""The measures' tests happen on a fixed day, set before the cast is created (autouse fixtures
run first), so that representations, ages and « not in the future » are deterministic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

TODAY = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[datetime]:
    with time_machine.travel(TODAY, tick=False):
        yield TODAY
