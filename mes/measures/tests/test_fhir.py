"""A stored value is an R4 Observation of the ANS profiles, valid for fhir.resources; an incoming
Observation becomes the arguments of measurement_import, with the write flow's refusals."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.observation import Observation

from mes.access.actors import citizen_actor, system_actor
from mes.lib.errors import InvalidInput
from mes.measures import actions, fhir
from mes.measures.models import Measurement

PARIS = ZoneInfo("Europe/Paris")
BASE = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/"


def add(citizen, **kwargs):
    args = {
        "type_code": "WEIGHT",
        "value": "72.5",
        "effective_at": datetime(2026, 2, 1, 8, tzinfo=PARIS),
    }
    args.update(kwargs)
    return actions.measurement_add(actor=citizen_actor(citizen), patient_id=citizen.pk, **args)


def valid(obs: dict) -> Observation:
    # JSON round trip: what goes on the wire is what is validated.
    return Observation.model_validate(json.loads(json.dumps(obs)))


def test_a_weight_is_a_mes_body_weight_observation(camille):
    m = add(camille, comment="après le petit déjeuner")
    obs = fhir.measurement_to_observation(m)
    parsed = valid(obs)
    assert obs["meta"]["profile"] == [BASE + "mesures-fr-observation-body-weight"]
    assert obs["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "29463-7",
        "display": "Body weight",
    }
    assert obs["valueQuantity"] == {
        "value": 72.5,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    }
    assert obs["subject"]["identifier"] == {
        "system": "urn:oid:1.2.250.1.213.1.4.8",
        "value": camille.ins,
    }
    assert obs["effectiveDateTime"] == "2026-02-01T08:00:00+01:00"
    assert obs["category"][0]["coding"][0]["code"] == "vital-signs"
    assert obs["note"] == [{"text": "après le petit déjeuner"}]
    assert parsed.status == "final" and parsed.performer[0].display == "Camille Lefèvre"


def test_a_blood_pressure_has_two_components_and_no_value(camille):
    m = add(camille, type_code="BLOOD_PRESSURE", value="132", diastolic="82")
    obs = fhir.measurement_to_observation(m)
    valid(obs)
    assert "valueQuantity" not in obs and obs["code"]["coding"][0]["code"] == "85354-9"
    assert [
        (c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in obs["component"]
    ] == [
        ("8480-6", 132),
        ("8462-4", 82),
    ]
    assert obs["component"][0]["valueQuantity"]["code"] == "mm[Hg]"


def test_a_glucose_carries_its_moment_extension(camille):
    m = add(camille, type_code="GLUCOSE", value="1.42", unit="g/L", moment="53049-3")
    obs = fhir.measurement_to_observation(m)
    valid(obs)
    assert obs["meta"]["profile"] == [BASE + "mesures-observation-glucose"]
    assert obs["valueQuantity"]["value"] == 142 and obs["valueQuantity"]["code"] == "mg/dL"
    ext = obs["extension"][0]
    assert ext["url"] == BASE + "mesures-moment-of-measurement"
    assert ext["valueCodeableConcept"]["coding"][0] == {
        "system": "https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc",
        "code": "53049-3",
        "display": "Glucose à jeun",
    }


@pytest.mark.parametrize(
    ("code", "value", "loinc", "ucum"),
    [
        ("HEIGHT", "165", "8302-2", "cm"),
        ("HEART_RATE", "72", "8867-4", "/min"),
        ("BODY_TEMPERATURE", "37.8", "8310-5", "Cel"),
        ("WAIST_CIRCUMFERENCE", "98", "8280-0", "cm"),
        ("STEPS_BY_DAY", "8500", "41950-7", "/d"),
        ("PAIN_SEVERITY", "4", "72514-3", "{score}"),
    ],
)
def test_every_entered_type_maps_to_a_valid_observation(camille, code, value, loinc, ucum):
    obs = fhir.measurement_to_observation(add(camille, type_code=code, value=value))
    valid(obs)
    assert obs["code"]["coding"][0]["code"] == loinc and obs["valueQuantity"]["code"] == ucum


def test_a_device_identifier_becomes_the_device_reference(camille):
    m = actions.measurement_import(
        actor=system_actor("fhir-mesures"),
        patient_id=camille.pk,
        type_code="WEIGHT",
        value=Decimal("72.53"),
        effective_at=datetime(2026, 2, 1, 7, tzinfo=PARIS),
        source=Measurement.Source.APP,
        author_label="Balance connectée",
        device_identifier="urn:oid:1.2.250.1.999.1|74E8FFFEFF051C00",
    )
    assert m.value == Decimal("72.5")  # a device's extra decimals are rounded, not refused
    obs = fhir.measurement_to_observation(m)
    valid(obs)
    assert obs["device"] == {
        "identifier": {"system": "urn:oid:1.2.250.1.999.1", "value": "74E8FFFEFF051C00"}
    }


def test_round_trip_observation_to_fields_to_import(camille):
    m = add(camille, type_code="GLUCOSE", value="98", moment="16915-1", comment="après le déjeuner")
    fields = fhir.observation_to_fields(fhir.measurement_to_observation(m))
    assert fields == {
        "type_code": "GLUCOSE",
        "value": Decimal("98"),
        "diastolic": None,
        "unit": "mg/dL",
        "effective_at": datetime(2026, 2, 1, 8, tzinfo=PARIS),
        "moment": "16915-1",
        "comment": "après le déjeuner",
    }
    again = actions.measurement_import(
        actor=system_actor("fhir-mesures"),
        patient_id=camille.pk,
        source=Measurement.Source.APP,
        author_label="Lecteur de glycémie",
        **fields,
    )
    assert (again.value, again.moment, again.editable_by_citizen) == (Decimal(98), "16915-1", False)


def test_blood_pressure_round_trip(camille):
    m = add(camille, type_code="BLOOD_PRESSURE", value="132", diastolic="82")
    fields = fhir.observation_to_fields(fhir.measurement_to_observation(m))
    assert (fields["value"], fields["diastolic"]) == (Decimal(132), Decimal(82))


def observation(**extra):
    obs = {
        "resourceType": "Observation",
        "meta": {"profile": [BASE + "mesures-observation-glucose"]},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
        "subject": {"reference": "Patient/1"},
        "effectiveDateTime": "2022-11-06",
        "valueQuantity": {
            "value": 92,
            "unit": "mg/dL",
            "system": "http://unitsofmeasure.org",
            "code": "mg/dL",
        },
    }
    obs.update(extra)
    return obs


def test_the_write_flows_refusals():
    with pytest.raises(InvalidInput, match=r"Observation\.extension\.moment is mandatory"):
        fhir.observation_to_fields(observation())
    no_value = observation(
        extension=[
            {
                "url": BASE + "mesures-moment-of-measurement",
                "valueCodeableConcept": {"coding": [{"code": "53049-3"}]},
            }
        ]
    )
    del no_value["valueQuantity"]
    with pytest.raises(InvalidInput, match="Observation value quantity not provided"):
        fhir.observation_to_fields(no_value)
    bmi = observation(meta={"profile": [BASE + "mesures-fr-observation-bmi"]})
    with pytest.raises(InvalidInput, match="Bmi observation cannot be created"):
        fhir.observation_to_fields(bmi)
    with pytest.raises(InvalidInput, match="Observation invalide"):
        fhir.observation_to_fields({"resourceType": "Observation", "status": "nimporte"})


def test_a_date_without_time_is_that_day_at_midnight():
    obs = observation(
        extension=[
            {
                "url": BASE + "mesures-moment-of-measurement",
                "valueCodeableConcept": {"coding": [{"code": "53049-3"}]},
            }
        ]
    )
    assert fhir.observation_to_fields(obs)["effective_at"] == datetime(2022, 11, 6, tzinfo=PARIS)
