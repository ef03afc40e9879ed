"""The agenda's stories happen on a fixed day: Monday 7 December 2026, 10:00 in Paris."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mes.conftest import make_citizen
from mes.enrolment.models import LegalRepresentation

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
TODAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def baby(camille):
    # Born on 1 December 2026: the 2nd-week examination opens on 8 December (tomorrow).
    child = make_citizen(
        None,
        first13="1261275056099",
        first_name="Lina",
        birth_name="Lefèvre",
        birth_date=date(2026, 12, 1),
        sex="F",
    )
    LegalRepresentation.objects.create(
        representative=camille, represented=child, role=LegalRepresentation.Role.MOTHER
    )
    return child
