"""Fixtures of the profil médical stories: a fixed day, Camille's actor, a midwife and a
pharmacist of the directory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from mes.conftest import make_professional
from mes.identity.models import Organisation

TODAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def today():
    """Every story of these tests happens on TODAY (set before any other fixture runs)."""
    with time_machine.travel(TODAY, tick=False):
        yield TODAY.date()


@pytest.fixture
def sf_leroy(db):
    clinic = Organisation.objects.create(
        finess="750000010", name="Maison des sages-femmes", kind="practice", city="Lyon"
    )
    return make_professional("10000000050", "Inès", "Leroy", "50", organisation=clinic)


@pytest.fixture
def ph_blanc(pharmacie_centre):
    pharmacie_centre.city = "Paris"
    pharmacie_centre.save()
    return make_professional("10000000021", "Hugo", "Blanc", "21", organisation=pharmacie_centre)
