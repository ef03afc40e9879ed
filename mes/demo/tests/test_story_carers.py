"""The demo's proches aidants: Isabelle is Jacqueline's aidante and acts for her; loaded twice."""

from __future__ import annotations

from datetime import date

from mes.access.actors import carer_actor
from mes.access.decision import Action, Role, decide
from mes.audit.history import HistoryTab, history_page
from mes.audit.trace import verify_all
from mes.carers.models import CarerDelegation
from mes.demo import dataset
from mes.demo.story_carers import load_carer_stories
from mes.identity.models import Citizen
from mes.records.models import Document

TODAY = date(2026, 11, 24)


def _citizen(key):
    return Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == key).ins)


def test_isabelle_acts_for_jacqueline(db):
    dataset.load(TODAY)
    assert load_carer_stories(TODAY).created["délégations de proche aidant"] == 1
    assert load_carer_stories(TODAY).nothing_new
    jacqueline, isabelle = _citizen("jacqueline"), _citizen("isabelle")
    delegation = CarerDelegation.objects.get(aided=jacqueline, carer=isabelle)
    assert delegation.started_at.date() == date(2026, 10, 16)
    assert Document.objects.filter(pk=delegation.aided_proof_id, patient=jacqueline).exists()
    assert Document.objects.filter(pk=delegation.carer_proof_id, patient=isabelle).exists()
    st = decide(carer_actor(isabelle, aided=jacqueline), Action.READ, jacqueline).standing
    assert st.role is Role.CARER
    rows = history_page(
        patient_id=jacqueline.pk, for_representative=False, tab=HistoryTab.CITIZENS
    ).rows
    by_isabelle = [r for r in rows if r.by_carer]
    assert {r.action_label for r in by_isabelle} >= {"Ajout d'un document"}
    assert all(r.actor_name == "Isabelle Moreau" for r in by_isabelle)
    assert not list(verify_all())
