"""Camille's activity history read back: tabs, secret care of a minor, dates, pages."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from mes.access.actors import AccessMode, citizen_actor
from mes.audit import trace
from mes.audit.history import HistoryTab, history_page, history_traces
from mes.audit.models import TraceAction, TraceOutcome
from mes.conftest import pro

PARIS = ZoneInfo("Europe/Paris")


def _consult(professional, patient, title, **kwargs):
    return trace.record(
        actor=pro(professional, **kwargs.pop("actor", {})),
        action=TraceAction.CONSULT_DOC,
        patient_id=patient.pk,
        document_title=title,
        **kwargs,
    )


def test_professional_rows_carry_who_where_how_and_what(camille, dr_martin, dr_durand):
    _consult(dr_martin, camille, "Bilan sanguin")
    _consult(
        dr_durand,
        camille,
        "Lettre de liaison",
        actor={"mode": AccessMode.BREAK_GLASS, "justification": "Inconsciente"},
    )
    trace.record(
        actor=pro(dr_durand),
        action=TraceAction.CONSULT_DOC,
        outcome=TraceOutcome.REFUSED,
        patient_id=camille.pk,
        reason="aucune autorisation d'accès",
    )

    page = history_page(
        patient_id=camille.pk, for_representative=False, tab=HistoryTab.PROFESSIONALS
    )

    refused, emergency, normal = page.rows
    assert normal.actor_name == "Dr Anne Martin" and normal.profession_label == "Médecin"
    assert normal.organisation_name == "Cabinet médical République"
    assert normal.access_mode_label == "Accès normal" and not normal.is_emergency
    assert normal.action_label == "Consultation d'un document"
    assert normal.document_title == "Bilan sanguin"
    assert emergency.access_mode_label == "Accès en urgence (bris de glace)"
    assert emergency.is_emergency
    assert refused.refused and not normal.refused


def test_tabs_split_professionals_from_the_citizen_side(camille, camille_actor, dr_martin):
    _consult(dr_martin, camille, "Bilan")
    trace.record(actor=camille_actor, action=TraceAction.PRIVACY_SETTINGS, patient_id=camille.pk)
    pros = history_traces(
        patient_id=camille.pk, for_representative=False, tab=HistoryTab.PROFESSIONALS
    )
    mine = history_traces(patient_id=camille.pk, for_representative=False, tab=HistoryTab.CITIZENS)
    assert [t.action for t in pros] == [TraceAction.CONSULT_DOC]
    assert [t.action for t in mine] == [TraceAction.PRIVACY_SETTINGS]


def test_representatives_never_see_hidden_rows(camille, louis, dr_martin):
    _consult(dr_martin, louis, "Secret", hidden_from_representatives=True)
    _consult(dr_martin, louis, "Vaccin")
    trace.record(
        actor=citizen_actor(camille),
        action=TraceAction.CONSULT_DOC,
        patient_id=louis.pk,
        document_title="Carnet",
    )
    kwargs = {"patient_id": louis.pk, "tab": HistoryTab.PROFESSIONALS}
    as_parent = history_traces(for_representative=True, **kwargs)
    as_holder = history_traces(for_representative=False, **kwargs)
    assert [t.document_title for t in as_parent] == ["Vaccin"]
    assert [t.document_title for t in as_holder] == ["Vaccin", "Secret"]
    [row] = history_page(patient_id=louis.pk, for_representative=True, tab=HistoryTab.CITIZENS).rows
    assert row.by_representative and row.actor_name == "Camille Lefèvre"


def test_dates_are_whole_local_days(camille, dr_martin):
    # 23:30 in Paris on 4 March is 22:30 UTC: it belongs to 4 March, not 5 March.
    for at, title in (
        (datetime(2025, 3, 4, 23, 30, tzinfo=PARIS), "Le 4"),
        (datetime(2025, 3, 5, 0, 15, tzinfo=PARIS), "Le 5"),
    ):
        with time_machine.travel(at):
            _consult(dr_martin, camille, title)

    def titles(**dates):
        qs = history_traces(
            patient_id=camille.pk,
            for_representative=False,
            tab=HistoryTab.PROFESSIONALS,
            **dates,
        )
        return [t.document_title for t in qs]

    assert titles(start=date(2025, 3, 5)) == ["Le 5"]
    assert titles(end=date(2025, 3, 4)) == ["Le 4"]
    assert titles(start=date(2025, 3, 4), end=date(2025, 3, 5)) == ["Le 5", "Le 4"]
    assert titles() == ["Le 5", "Le 4"]


def test_pages_newest_first(camille, dr_martin):
    for i in range(5):
        _consult(dr_martin, camille, f"Doc {i}")
    kwargs = {"patient_id": camille.pk, "for_representative": False, "per_page": 2}
    first = history_page(tab=HistoryTab.PROFESSIONALS, **kwargs)
    third = history_page(tab=HistoryTab.PROFESSIONALS, page=3, **kwargs)
    assert [r.document_title for r in first.rows] == ["Doc 4", "Doc 3"]
    assert first.has_next and not first.has_previous
    assert [r.document_title for r in third.rows] == ["Doc 0"]
    assert not third.has_next and third.has_previous


def test_other_patients_rows_never_mix(camille, bob, dr_martin):
    _consult(dr_martin, bob, "Chez Bob")
    assert not history_traces(
        patient_id=camille.pk, for_representative=False, tab=HistoryTab.PROFESSIONALS
    ).exists()


def test_title_of_a_document_hidden_from_the_patient_never_shows_in_her_history(camille, dr_martin):
    from mes.audit.history import HIDDEN_TITLE, HistoryTab, history_page
    from mes.conftest import make_pdf, pro
    from mes.records.actions import document_deposit

    document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Résultat d'anatomopathologie",
        type_code="60568-3",
        hidden_from_patient=True,
    )
    page = history_page(
        patient_id=camille.pk, for_representative=False, tab=HistoryTab.PROFESSIONALS
    )
    titles = [row.document_title for row in page.rows]
    assert HIDDEN_TITLE in titles
    assert "Résultat d'anatomopathologie" not in titles
