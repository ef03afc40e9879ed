"""« Mes raccourcis » (portal.md §1.4): Camille chooses up to 5, for herself and for Louis."""

from __future__ import annotations

import pytest

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import InvalidInput, NotFound
from mes.preferences.actions import shortcuts_of, shortcuts_set
from mes.preferences.models import HomeShortcut, Shortcut

S = Shortcut


def test_camille_chooses_her_shortcuts_in_her_order(camille, camille_actor):
    chosen = shortcuts_set(
        actor=camille_actor, patient_id=camille.pk, codes=["TRAITEMENTS", "MALADIES"]
    )
    assert chosen == [S.TREATMENTS, S.DISEASES]
    assert shortcuts_of(camille) == [S.TREATMENTS, S.DISEASES]
    # A new choice replaces the old one; a code given twice counts once.
    shortcuts_set(actor=camille_actor, patient_id=camille.pk, codes=["ACCES", "ACCES", "MESURES"])
    assert shortcuts_of(camille) == [S.ACCESS, S.MEASURES]
    # The choice is display, not an access to health data: no trace.
    assert not Trace.objects.filter(action=TraceAction.SHORTCUTS).exists()


def test_no_more_than_five(camille, camille_actor):
    shortcuts_set(actor=camille_actor, patient_id=camille.pk, codes=["MESURES"])
    six = ["MALADIES", "TRAITEMENTS", "VACCINATIONS", "MESURES", "ACCES", "HISTORIQUE"]
    with pytest.raises(InvalidInput, match="pas ajouter plus de 5 raccourcis"):
        shortcuts_set(actor=camille_actor, patient_id=camille.pk, codes=six)
    assert shortcuts_of(camille) == [S.MEASURES]  # nothing half-stored


def test_an_unknown_code_changes_nothing(camille, camille_actor):
    with pytest.raises(InvalidInput):
        shortcuts_set(actor=camille_actor, patient_id=camille.pk, codes=["MESURES", "PIRATE"])
    assert not HomeShortcut.objects.exists()


def test_camille_chooses_louis_shortcuts_as_his_representative(camille, louis, camille_actor):
    shortcuts_set(actor=camille_actor, patient_id=louis.pk, codes=["VACCINATIONS"])
    assert shortcuts_of(louis) == [S.VACCINATIONS]
    assert shortcuts_of(camille) == []


@pytest.mark.parametrize("who", ["bob", "dr_martin", "dr_durand"])
def test_others_are_refused_as_not_found_and_traced(request, camille, who):
    person = request.getfixturevalue(who)
    actor = citizen_actor(person) if who == "bob" else pro(person)
    with pytest.raises(NotFound):
        shortcuts_set(actor=actor, patient_id=camille.pk, codes=["MESURES"])
    assert shortcuts_of(camille) == []
    refused = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SHORTCUTS)
    assert refused.outcome == TraceOutcome.REFUSED


def test_an_unknown_profile_is_not_found(camille_actor):
    import uuid

    with pytest.raises(NotFound):
        shortcuts_set(actor=camille_actor, patient_id=uuid.uuid4(), codes=[])
