"""The Bundles of mes-spec §9.2 for the tests (and the demo's sample app)."""

from __future__ import annotations

import uuid
from typing import Any

from mes.measures import profiles

GLUCOSE = profiles.BY_CODE["GLUCOSE"]
FASTING = profiles.GLUCOSE_MOMENTS[0]


def glucose_bundle(
    espace_id: str,
    *,
    service_oid: str,
    value: float = 112,
    device_id: str = "LIBRE-3-0042",
    when: str = "2026-12-06T07:30:00+01:00",
    moment: bool = True,
    profile: str | None = None,
) -> dict[str, Any]:
    """One glucose Observation and its Device (PhdDevice, conditional create)."""
    device_url = f"urn:uuid:{uuid.uuid4()}"
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": [profile or GLUCOSE.profile_url]},
        "status": "final",
        "code": {"coding": [{"system": profiles.LOINC, "code": GLUCOSE.loinc}]},
        "subject": {"identifier": {"system": "urn:oid:1.2.250.1.213.1.4.10", "value": espace_id}},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": GLUCOSE.unit_label,
            "system": profiles.UCUM,
            "code": GLUCOSE.ucum,
        },
        "device": {"reference": device_url},
    }
    if moment:
        observation["extension"] = [
            {
                "url": profiles.MOMENT_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": FASTING.system, "code": FASTING.code}]
                },
            }
        ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": observation,
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "fullUrl": device_url,
                "resource": {
                    "resourceType": "Device",
                    "meta": {
                        "profile": ["http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice"]
                    },
                    "identifier": [{"system": f"urn:oid:{service_oid}.1", "value": device_id}],
                },
                "request": {
                    "method": "POST",
                    "url": "Device",
                    "ifNoneExist": f"identifier=urn:oid:{service_oid}.1|{device_id}",
                },
            },
        ],
    }
