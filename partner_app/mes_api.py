"""What the app sends to Mon espace santé: the shapes of the apps' FHIR API (mes-spec §9.2 for
measures; docs/fhir-api.md « API des services synchronisés »)."""

from __future__ import annotations

import base64
import uuid
from datetime import date
from typing import Any

from .readings import Reading

MESURES_IG = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/"
GLUCOSE_PROFILE = MESURES_IG + "mesures-observation-glucose"
MOMENT_EXTENSION = MESURES_IG + "mesures-moment-of-measurement"
PHD_DEVICE_PROFILE = "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# JDV_J157-MomentGlucose: a continuous sensor measures at no particular moment.
OTHER_MOMENT = {"system": LOINC, "code": "LA46-8", "display": "Autre"}


def device(editor_oid: str, serial: str) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "meta": {"profile": [PHD_DEVICE_PROFILE]},
        "identifier": [{"system": f"urn:oid:{editor_oid}", "value": serial}],
        "manufacturer": "Glycémie Plus",
        "deviceName": [{"name": "Capteur Glycémie Plus", "type": "user-friendly-name"}],
    }


def glucose_bundle(
    reading: Reading, *, patient: str, editor_oid: str, serial: str
) -> dict[str, Any]:
    """The transaction Bundle of one reading: one Observation, one Device (conditional create)."""
    device_url = f"urn:uuid:{uuid.uuid4()}"
    observation = {
        "resourceType": "Observation",
        "meta": {"profile": [GLUCOSE_PROFILE]},
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": "2339-0", "display": "Glucose"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": reading.at.isoformat(),
        "valueQuantity": {
            "value": reading.mg_dl,
            "unit": "mg/dL",
            "system": UCUM,
            "code": "mg/dL",
        },
        "extension": [
            {"url": MOMENT_EXTENSION, "valueCodeableConcept": {"coding": [OTHER_MOMENT]}}
        ],
        "device": {"reference": device_url},
    }
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
                "resource": device(editor_oid, serial),
                "request": {
                    "method": "POST",
                    "url": "Device",
                    "ifNoneExist": f"identifier=urn:oid:{editor_oid}|{serial}",
                },
            },
        ],
    }


def agp_document(pdf: bytes, *, patient: str, day: date) -> dict[str, Any]:
    """The day's AGP report as a DocumentReference carrying its PDF."""
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {
            "coding": [
                {"system": LOINC, "code": "11526-1", "display": "Pathology study"},
            ],
            "text": "Rapport de glycémie (AGP)",
        },
        "subject": {"reference": f"Patient/{patient}"},
        "description": f"Rapport de glycémie du {day:%d/%m/%Y}",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": "fr-FR",
                    "title": f"Rapport de glycémie du {day:%d/%m/%Y}",
                    "data": base64.b64encode(pdf).decode("ascii"),
                }
            }
        ],
    }
