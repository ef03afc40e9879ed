"""« Mes professionnels de santé »: the directory search, the list, the roles, and the médecin
traitant that comes from the Assurance Maladie."""

from __future__ import annotations

import pytest

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_professional
from mes.lib.errors import InvalidInput, NotFound
from mes.medical_profile import actions, directory
from mes.medical_profile.models import ProfileProfessional


def add(actor, patient, **kw):
    return actions.profile_professional_add(actor=actor, patient_id=patient.pk, **kw)


def test_the_directory_is_searched_by_name_commune_and_profession(sf_leroy, ph_blanc, dr_durand):
    assert directory.search_professionals(name="ler") == [sf_leroy]
    assert directory.search_professionals(city="lyon") == [sf_leroy]
    assert directory.search_professionals(profession="21") == [ph_blanc]
    assert directory.search_professionals(name="paul durand") == [dr_durand]
    with pytest.raises(InvalidInput, match="au moins un champ"):
        directory.search_professionals()
    with pytest.raises(InvalidInput):
        directory.search_professionals(profession="999")


def test_structures_are_searched_by_name_commune_and_type(pharmacie_centre, cabinet):
    assert directory.search_organisations(name="centre") == [pharmacie_centre]
    assert directory.search_organisations(kind="practice") == [cabinet]
    with pytest.raises(InvalidInput):
        directory.search_organisations()


def test_the_treating_physician_comes_from_the_assurance_maladie(camille, dr_martin):
    assert directory.treating_physician(camille) == dr_martin


def test_camille_adds_a_professional_and_a_structure(
    camille, camille_actor, sf_leroy, pharmacie_centre
):
    entry = add(camille_actor, camille, professional_id=sf_leroy.pk)
    add(camille_actor, camille, organisation_id=pharmacie_centre.pk)
    assert entry.display_name == "Inès Leroy"
    assert ProfileProfessional.objects.filter(patient=camille).count() == 2
    rows = Trace.objects.filter(action=TraceAction.ADD_PROFILE_ENTRY)
    assert {r.document_title for r in rows} == {"Professionnels de santé"}
    with pytest.raises(InvalidInput, match="déjà dans la liste"):
        add(camille_actor, camille, professional_id=sf_leroy.pk)
    with pytest.raises(InvalidInput):
        add(camille_actor, camille)


def test_one_midwife_and_one_pharmacist_the_new_one_replaces_the_old(
    camille, camille_actor, sf_leroy, ph_blanc
):
    other_sf = make_professional("10000000051", "Zoé", "Faure", "50")
    first = add(camille_actor, camille, professional_id=sf_leroy.pk)
    second = add(camille_actor, camille, professional_id=other_sf.pk)
    pharma = add(camille_actor, camille, professional_id=ph_blanc.pk)
    actions.profile_professional_set_role(actor=camille_actor, entry_id=first.pk, role="MIDWIFE")
    actions.profile_professional_set_role(
        actor=camille_actor, entry_id=pharma.pk, role="PHARMACIST"
    )
    actions.profile_professional_set_role(actor=camille_actor, entry_id=second.pk, role="MIDWIFE")
    roles = dict(ProfileProfessional.objects.values_list("professional__last_name", "role"))
    assert roles == {"Leroy": "", "Faure": "MIDWIFE", "Blanc": "PHARMACIST"}
    actions.profile_professional_set_role(actor=camille_actor, entry_id=second.pk, role="")
    assert not ProfileProfessional.objects.filter(role="MIDWIFE").exists()


def test_a_role_needs_the_right_profession(camille, camille_actor, sf_leroy, pharmacie_centre):
    sf = add(camille_actor, camille, professional_id=sf_leroy.pk)
    shop = add(camille_actor, camille, organisation_id=pharmacie_centre.pk)
    with pytest.raises(InvalidInput, match="pharmacien correspondant"):
        actions.profile_professional_set_role(
            actor=camille_actor, entry_id=sf.pk, role="PHARMACIST"
        )
    with pytest.raises(InvalidInput):
        actions.profile_professional_set_role(actor=camille_actor, entry_id=shop.pk, role="MIDWIFE")
    with pytest.raises(InvalidInput):
        actions.profile_professional_set_role(actor=camille_actor, entry_id=sf.pk, role="CHEF")


def test_another_patient_cannot_touch_the_list(camille, camille_actor, bob, sf_leroy):
    entry = add(camille_actor, camille, professional_id=sf_leroy.pk)
    with pytest.raises(NotFound):
        actions.profile_professional_remove(actor=citizen_actor(bob), entry_id=entry.pk)
    with pytest.raises(NotFound):
        actions.profile_professional_set_role(
            actor=citizen_actor(bob), entry_id=entry.pk, role="MIDWIFE"
        )
    assert Trace.objects.filter(outcome=TraceOutcome.REFUSED, patient_id=camille.pk).count() == 2
    actions.profile_professional_remove(actor=camille_actor, entry_id=entry.pk)
    assert not ProfileProfessional.objects.exists()
