"""Camille copies a dispensed drug into her treatments and a dispensed vaccine into her carnet;
the messaging finds the pharmacies she went to."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mes.access.actors import citizen_actor
from mes.conftest import pro
from mes.identity.models import Organisation
from mes.lib.errors import InvalidInput, NotFound
from mes.medical_profile.models import Treatment
from mes.reimbursements import actions
from mes.reimbursements.models import Category
from mes.reimbursements.selectors import Grouping, episodes_of, timeline, visited_pharmacies
from mes.vaccinations.models import Vaccination

from .conftest import episode


def test_add_this_treatment_once(camille, history):
    drug = history[1]
    done = actions.episode_add_treatment(actor=citizen_actor(camille), episode_id=drug.pk)
    treatment = Treatment.objects.get(pk=done.treatment_entry_id)
    assert treatment.name == "METFORMINE 1000 MG CPR" and treatment.patient_id == camille.pk
    with pytest.raises(InvalidInput, match="déjà ajouté"):
        actions.episode_add_treatment(actor=citizen_actor(camille), episode_id=drug.pk)
    with pytest.raises(InvalidInput, match="médicament"):
        actions.episode_add_treatment(actor=citizen_actor(camille), episode_id=history[0].pk)


def test_add_to_my_vaccinations(camille, history):
    vaccine = history[2]
    done = actions.episode_add_vaccination(actor=citizen_actor(camille), episode_id=vaccine.pk)
    vaccination = Vaccination.objects.get(pk=done.vaccination_id)
    assert vaccination.vaccine_code == "VAXIGRIPTETRA"
    assert vaccination.date == date(2025, 10, 20)


def test_an_unknown_vaccine_is_not_added(camille):
    odd = episode(camille, "Z1", Category.VACCINE, label="VACCIN INCONNU")
    with pytest.raises(InvalidInput, match="pas dans la liste"):
        actions.episode_add_vaccination(actor=citizen_actor(camille), episode_id=odd.pk)


def test_others_cannot_copy(camille, history, bob, dr_martin):
    for actor in (citizen_actor(bob), pro(dr_martin)):
        with pytest.raises((NotFound, InvalidInput)):
            actions.episode_add_treatment(actor=actor, episode_id=history[1].pk)
    assert not Treatment.objects.exists()


def test_timeline_groups(camille, history):
    episodes = list(episodes_of(camille))
    assert [g.label for g in timeline(episodes, Grouping.YEAR)] == ["2026", "2025"]
    assert [g.label for g in timeline(episodes, Grouping.MONTH)] == ["mars 2026", "octobre 2025"]
    assert [g.label for g in timeline(episodes, Grouping.DAY)] == [
        "12 mars 2026",
        "20 octobre 2025",
    ]
    assert [e.line_id for e in episodes_of(camille, [Category.DRUG])] == ["A2"]


def test_visited_pharmacies_of_the_last_year(camille, pharmacie_centre):
    today = date(2026, 6, 1)
    episode(
        camille,
        "P1",
        Category.DRUG,
        professional="PHARMACIE DU CENTRE",
        professional_id=pharmacie_centre.finess,
        date=today - timedelta(days=10),
    )
    episode(
        camille,
        "P2",
        Category.VACCINE,
        professional="Pharmacie de la Gare",
        professional_id="750000099",
        date=today - timedelta(days=100),
    )
    episode(
        camille,
        "P3",
        Category.DRUG,
        professional="Pharmacie ancienne",
        professional_id="750000098",
        date=today - timedelta(days=400),
    )
    episode(camille, "P4", Category.CARE, professional="Dr Martin", professional_id="10000000001")
    found = visited_pharmacies(camille, today=today)
    assert [(p.finess, p.name) for p in found] == [
        (pharmacie_centre.finess, pharmacie_centre.name),
        ("750000099", "Pharmacie de la Gare"),
    ]
    assert isinstance(found[0].organisation, Organisation) and found[1].organisation is None
