"""What the app sends to Mon espace santé: the shapes of the apps' FHIR API (mes-spec §9.2 for
measures; docs/fhir-api.md « API des services synchronisés »)."""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime, time
from typing import Any

from .readings import PARIS, Reading

MESURES_IG = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/"
GLUCOSE_PROFILE = MESURES_IG + "mesures-observation-glucose"
MOMENT_EXTENSION = MESURES_IG + "mesures-moment-of-measurement"
PHD_DEVICE_PROFILE = "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice"
LOINC = "http://loinc.org"
TRE_A05 = "urn:oid:1.2.250.1.213.1.1.4.12"  # TRE_A05-TypeDocComplementaire
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


MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def report_title(day: date) -> str:
    """« Rapport de glycémie du 6 décembre 2026 » (a document's name takes no « / »)."""
    return f"Rapport de glycémie du {day.day} {MONTHS[day.month - 1]} {day.year}"


def agp_document(pdf: bytes, *, patient: str, day: date) -> dict[str, Any]:
    """The day's AGP report as a DocumentReference carrying its PDF."""
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {
            # The citizen's own types (TRE_A05): a report the app writes for them.
            "coding": [
                {"system": TRE_A05, "code": "DOCPAT03", "display": "CR déposé par le patient"},
            ],
            "text": "Rapport de glycémie (AGP)",
        },
        "subject": {"reference": f"Patient/{patient}"},
        "description": report_title(day),
        # An instant (FHIR R4): the end of the day the report covers, in Paris.
        "date": datetime.combine(day, time(23, 59), PARIS).isoformat(),
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": "fr-FR",
                    "title": report_title(day),
                    "data": base64.b64encode(pdf).decode("ascii"),
                }
            }
        ],
    }
