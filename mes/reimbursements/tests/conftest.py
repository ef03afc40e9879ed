from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mes.identity.models import Citizen
from mes.reimbursements.models import Category, Episode, ImportBatch


def episode(patient: Citizen, line_id: str, category: str = Category.CARE, **extra: Any) -> Episode:
    batch = ImportBatch.objects.first() or ImportBatch.objects.create(file_name="t", sha256="0")
    fields = {
        "date": date(2026, 3, 12),
        "professional": "Dr Martin",
        "label": "Consultation",
        **extra,
    }
    return Episode.objects.create(
        patient=patient, line_id=line_id, batch=batch, category=category, **fields
    )


@pytest.fixture
def history(camille: Citizen) -> list[Episode]:
    return [
        episode(camille, "A1"),
        episode(
            camille,
            "A2",
            Category.DRUG,
            label="METFORMINE 1000 MG CPR",
            professional="Pharmacie du Centre",
            professional_id="750000001",
            quantity=2,
            therapeutic_group="Antidiabétiques",
            prescriber="Dr Martin",
        ),
        episode(
            camille,
            "A3",
            Category.VACCINE,
            label="VAXIGRIPTETRA",
            professional="Pharmacie du Centre",
            professional_id="750000001",
            valence="Grippe",
            date=date(2025, 10, 20),
        ),
    ]
