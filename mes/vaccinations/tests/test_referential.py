"""The vaccine list a carnet can name: brands used in France, and diseases alone."""

from __future__ import annotations

import pytest

from mes.lib.errors import InvalidInput
from mes.prevention.calendar import default_calendar
from mes.vaccinations import referential


def test_the_usual_french_vaccines_are_listed_with_their_valences():
    vaccines = referential.vaccines()
    for code in (
        "INFANRIX_HEXA",
        "HEXYON",
        "VAXELIS",
        "PRIORIX",
        "M_M_RVAXPRO",
        "PREVENAR_20",
        "VAXNEUVANCE",
        "NEISVAC_C",
        "NIMENRIX",
        "MENQUADFI",
        "BEXSERO",
        "TRUMENBA",
        "GARDASIL_9",
        "BOOSTRIXTETRA",
        "REPEVAX",
        "REVAXIS",
        "VAXIGRIPTETRA",
        "INFLUVAC_TETRA",
        "EFLUELDA",
        "COMIRNATY",
        "ENGERIX_B",
        "HAVRIX",
        "ROTARIX",
        "ROTATEQ",
        "AREXVY",
        "ABRYSVO",
        "SHINGRIX",
    ):
        assert code in vaccines, code
    assert set(vaccines["INFANRIX_HEXA"].valences) == {
        "DIPHTERIE",
        "TETANOS",
        "COQUELUCHE",
        "POLIO",
        "HIB",
        "HEPB",
    }
    assert vaccines["REVAXIS"].valences == ("DIPHTERIE", "TETANOS", "POLIO")
    assert vaccines["VAXIGRIPTETRA"].display == "VAXIGRIPTETRA (Grippe)"


def test_nirsevimab_is_listed_as_an_antibody_not_a_vaccine():
    beyfortus = referential.vaccines()["BEYFORTUS"]
    assert beyfortus.kind == "anticorps" and "pas un vaccin" in beyfortus.note


def test_every_disease_of_the_calendar_can_be_recorded_without_the_brand():
    diseases = [v.valences for v in referential.vaccines().values() if v.kind == "maladie"]
    for valence in default_calendar().valences:
        # Alone, or for meningococci A, W and Y in the ACWY entry (no single-serogroup vaccine).
        assert (valence,) in diseases or valence in ("MENA", "MENW", "MENY"), valence
    assert ("MENA", "MENC", "MENW", "MENY") in diseases
    assert referential.vaccines()["MAL_GRIPPE"].display == "Grippe"


def test_a_vaccine_outside_the_list_is_refused():
    with pytest.raises(InvalidInput) as refused:
        referential.vaccine("VACCIN_IMAGINAIRE")
    assert refused.value.field == "vaccine"
    assert referential.by_label("vaxigrip tetra").code == "VAXIGRIPTETRA"
    assert {v.code for v in referential.by_atc("J07AH09")} == {"BEXSERO", "TRUMENBA"}


def test_the_list_is_grouped_for_the_form():
    groups = dict(referential.categories())
    assert list(groups)[-1] == "Je ne connais pas le nom du vaccin"
    assert any(v.code == "GARDASIL_9" for v in groups["Adolescents et adultes"])
