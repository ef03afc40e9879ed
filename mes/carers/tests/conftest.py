"""The cast of the carers' stories: Jacqueline, 78, gives access to her daughter Isabelle."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from mes.carers.models import CarerDelegation, CarerInvitation
from mes.conftest import make_citizen
from mes.identity.models import Citizen


def make_jacqueline() -> Citizen:
    return make_citizen(
        "jacqueline",
        first13="2480275056123",
        first_name="Jacqueline",
        birth_name="Roux",
        birth_date=date(1948, 2, 11),
        sex="F",
        email="jacqueline@example.org",
    )


def make_isabelle() -> Citizen:
    return make_citizen(
        "isabelle",
        first13="2750475056045",
        first_name="Isabelle",
        birth_name="Roux",
        birth_date=date(1975, 4, 3),
        sex="F",
        email="isabelle@example.org",
    )


@pytest.fixture
def jacqueline(db: Any) -> Citizen:
    return make_jacqueline()


@pytest.fixture
def isabelle(db: Any) -> Citizen:
    return make_isabelle()


def delegate(aided: Citizen, carer: Citizen, **extra: Any) -> CarerDelegation:
    """An accepted delegation, written directly (the accept path has its own tests)."""
    now = timezone.now()
    invitation = CarerInvitation.objects.create(
        aided=aided,
        carer=carer,
        status=CarerInvitation.Status.ACCEPTED,
        expires_at=now + timedelta(days=60),
        answered_at=now,
    )
    fields = {"started_at": now, "ends_at": now + timedelta(days=365), **extra}
    return CarerDelegation.objects.create(aided=aided, carer=carer, invitation=invitation, **fields)
