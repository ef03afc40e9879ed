"""A vaccination as an R4 Immunization, both ways, validated with fhir.resources."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from fhir.resources.R4B.immunization import Immunization

from mes.access.actors import citizen_actor
from mes.conftest import pro
from mes.lib.errors import InvalidInput
from mes.vaccinations import actions
from mes.vaccinations.fhir import (
    ATC_SYSTEM,
    IDNAT_PS_SYSTEM,
    KIND_EXTENSION,
    VACCINE_SYSTEM,
    immunization_patient_ins,
    immunization_to_fields,
    vaccination_to_immunization,
)
from mes.vaccinations.models import Vaccination


@pytest.fixture
def rappel(camille, dr_martin):
    return actions.vaccination_record_by_professional(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        vaccine_code="BOOSTRIXTETRA",
        vaccination_date=date(2026, 11, 2),
        kind=Vaccination.Kind.BOOSTER,
        lot="AB12",
        comment="Rappel des 25 ans fait en retard.",
        dose_number=1,
    )


def minimal(**extra):
    resource = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": VACCINE_SYSTEM, "code": "GARDASIL_9"}]},
        "patient": {"identifier": {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "x"}},
        "occurrenceDateTime": "2026-10-05",
    }
    resource.update(extra)
    return resource


def test_a_professional_entry_is_a_valid_primary_source_immunization(rappel, camille, dr_martin):
    resource = vaccination_to_immunization(rappel)
    Immunization.model_validate(resource)  # raises if not a valid R4 Immunization
    assert resource["id"] == str(rappel.pk) and resource["status"] == "completed"
    codings = resource["vaccineCode"]["coding"]
    assert codings[0] == {
        "system": VACCINE_SYSTEM,
        "code": "BOOSTRIXTETRA",
        "display": "BOOSTRIXTETRA",
    }
    assert codings[1] == {"system": ATC_SYSTEM, "code": "J07CA02"}
    assert resource["occurrenceDateTime"] == "2026-11-02"
    assert resource["lotNumber"] == "AB12" and resource["primarySource"] is True
    assert resource["patient"]["identifier"]["value"] == camille.ins
    performer = resource["performer"][0]["actor"]
    assert performer["identifier"] == {"system": IDNAT_PS_SYSTEM, "value": dr_martin.national_id}
    protocol = resource["protocolApplied"][0]
    assert protocol["doseNumberPositiveInt"] == 1
    assert [d["text"] for d in protocol["targetDisease"]] == [
        "Diphtérie",
        "Tétanos",
        "Coqueluche",
        "Poliomyélite",
    ]
    assert resource["extension"][0]["url"] == KIND_EXTENSION
    assert resource["extension"][0]["valueCoding"]["code"] == "BOOSTER"
    assert resource["note"] == [{"text": "Rappel des 25 ans fait en retard."}]


def test_a_citizen_entry_is_a_reported_immunization(camille):
    v = actions.vaccination_add(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        vaccine_code="MAL_GRIPPE",
        vaccination_date=date(2025, 10, 20),
        vaccinator_name="Pharmacie du Centre",
    )
    resource = vaccination_to_immunization(v)
    Immunization.model_validate(resource)
    assert resource["primarySource"] is False
    assert resource["reportOrigin"]["coding"][0]["code"] == "recall"
    assert resource["performer"][0]["actor"] == {"display": "Pharmacie du Centre"}
    assert len(resource["vaccineCode"]["coding"]) == 1  # a disease entry has no ATC code
    assert resource["protocolApplied"][0]["doseNumberString"] == "Je ne sais pas"
    assert "lotNumber" not in resource


def test_the_written_immunization_reads_back_to_the_same_fields(rappel):
    fields = immunization_to_fields(vaccination_to_immunization(rappel))
    assert fields == {
        "vaccine_code": "BOOSTRIXTETRA",
        "vaccination_date": date(2026, 11, 2),
        "kind": "BOOSTER",
        "lot": "AB12",
        "comment": "Rappel des 25 ans fait en retard.",
        "dose_number": 1,
    }


def test_an_incoming_immunization_is_recorded_by_the_professional(camille, dr_martin):
    resource = minimal(lotNumber="Z9", occurrenceDateTime="2026-10-05T11:30:00+02:00")
    assert immunization_patient_ins(resource) == "x"
    v = actions.vaccination_record_by_professional(
        actor=pro(dr_martin), patient_id=camille.pk, **immunization_to_fields(resource)
    )
    assert v.vaccine_label == "GARDASIL 9" and v.date == date(2026, 10, 5)
    assert v.kind == "IMMUNIZ" and v.lot == "Z9" and v.read_only


@pytest.mark.parametrize(
    ("vaccine_code", "expected"),
    [
        # One brand for this ATC code.
        ({"coding": [{"system": ATC_SYSTEM, "code": "J07BM03"}]}, "GARDASIL_9"),
        # Every flu vaccine shares J07BB02: the brand's name decides, else the disease.
        (
            {"coding": [{"system": ATC_SYSTEM, "code": "J07BB02", "display": "Efluelda"}]},
            "EFLUELDA",
        ),
        ({"coding": [{"system": ATC_SYSTEM, "code": "J07BB02"}]}, "MAL_GRIPPE"),
        ({"text": "Vaxigrip Tetra"}, "VAXIGRIPTETRA"),
    ],
)
def test_the_vaccine_is_found_by_atc_code_or_name(vaccine_code, expected):
    assert immunization_to_fields(minimal(vaccineCode=vaccine_code))["vaccine_code"] == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "not-done"}, "Seule une vaccination réalisée"),
        ({"status": "entered-in-error"}, "Seule une vaccination réalisée"),
        ({"vaccineCode": {"text": "Vaccin inventé"}}, "Vaccin inconnu"),
        ({"occurrenceDateTime": None, "occurrenceString": "au printemps"}, "obligatoire"),
        ({"occurrenceDateTime": "2024-05"}, "complète"),
        ({"vaccineCode": "GRIPPE"}, r"invalide \(vaccineCode"),
        ({"resourceType": "Observation"}, "Immunization"),
        ({"extension": [{"url": KIND_EXTENSION, "valueCoding": {"code": "AUTRE"}}]}, "Type"),
    ],
)
def test_a_bad_immunization_is_refused_in_french(change, message):
    resource = minimal()
    resource.update(copy.deepcopy(change))
    resource = {k: v for k, v in resource.items() if v is not None}
    with pytest.raises(InvalidInput, match=message):
        immunization_to_fields(resource)


def test_a_missing_date_is_refused(camille):
    resource = minimal()
    del resource["occurrenceDateTime"]
    with pytest.raises(InvalidInput):
        immunization_to_fields(resource)
