"""The demo's médecin traitant declared by a professional: Claire is told who and when, can
contest it, and a second load changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from mes.access.models import ProfessionalAccess, TreatingSource
from mes.audit.models import Trace, TraceAction
from mes.demo import dataset
from mes.demo.story_signin import load_signin_stories
from mes.identity.models import Citizen
from mes.notifications.models import Notification


@pytest.fixture
def loaded(db: Any) -> None:
    dataset.load()


def test_dr_rousseau_declared_herself_claires_medecin_traitant_once(loaded: None) -> None:
    assert load_signin_stories() == {"médecins traitants déclarés par un professionnel": 1}
    claire = Citizen.objects.get(user__username="claire")
    row = ProfessionalAccess.objects.get(patient=claire, is_treating_physician=True)
    assert row.professional.last_name == "Rousseau"
    assert row.treating_source == TreatingSource.PROFESSIONAL
    notice = Notification.objects.get(profile=claire, code=Notification.Code.TREATING_PHYSICIAN)
    assert "Emma Rousseau a déclaré être votre médecin traitant" in notice.label
    assert load_signin_stories() == {}
    assert (
        Trace.objects.filter(patient_id=claire.pk, action=TraceAction.DECLARE_TREATING).count() == 1
    )
