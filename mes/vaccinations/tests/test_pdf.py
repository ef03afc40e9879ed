"""« Synthèse de mes vaccinations »: a real PDF, in French, traced as data leaving the service."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import NotFound
from mes.vaccinations import actions


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_camilles_synthesis_lists_what_is_done_and_what_is_due(camille, dr_martin):
    actions.vaccination_add(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        vaccine_code="VAXIGRIPTETRA",
        vaccination_date=date(2025, 10, 20),
        lot="X1234",
    )
    actions.vaccination_record_by_professional(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        vaccine_code="REVAXIS",
        vaccination_date=date(2026, 11, 2),
    )
    patient, content = actions.vaccination_synthesis(
        actor=citizen_actor(camille), patient_id=camille.pk
    )
    assert patient == camille and content.startswith(b"%PDF")
    text = text_of(content)
    assert "Synthèse de mes vaccinations" in text
    assert "Camille Lefèvre" in text and "LEFÈVRE" in text and "14/05/1985" in text
    assert "Vaccinations réalisées" in text and "VAXIGRIPTETRA" in text and "X1234" in text
    assert "Ajoutée par Camille Lefèvre" in text and "Ajoutée par Dr Anne Martin" in text
    assert "Vaccinations à réaliser" in text
    # 41 years old, born after 1980: the measles catch-up is due (2 doses in total).
    assert "Rougeole, oreillons, rubéole : rattrapage – 1re dose" in text
    assert "À faire dès maintenant" in text
    assert "Calendrier des vaccinations 2025" in text and "S:16" in text
    (row,) = Trace.objects.filter(action=TraceAction.DOWNLOAD_VACCINATIONS)
    assert row.patient_id == camille.pk and row.actor_id == camille.ins


def test_the_synthesis_of_louis_speaks_of_him(camille, louis):
    _, content = actions.vaccination_synthesis(actor=citizen_actor(camille), patient_id=louis.pk)
    text = text_of(content)
    assert "Synthèse des vaccinations de Louis Lefèvre" in text
    assert "Aucune vaccination n'a encore été renseignée." in text
    row = Trace.objects.get(action=TraceAction.DOWNLOAD_VACCINATIONS)
    assert row.patient_id == louis.pk and row.acting_citizen_id == camille.pk


def test_bob_cannot_download_camilles_synthesis(camille, bob):
    with pytest.raises(NotFound):
        actions.vaccination_synthesis(actor=citizen_actor(bob), patient_id=camille.pk)
    row = Trace.objects.get(action=TraceAction.DOWNLOAD_VACCINATIONS)
    assert row.outcome == TraceOutcome.REFUSED and row.actor_id == bob.ins
