"""Building MHD requests as practice software would, for the test_mhd_* stories.

bundle = provide_bundle(camille, [letter()])
response = api.post("/fhir/", bundle)
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import uuid
from typing import Any

from mes.conftest import make_pdf
from mes.fhir.mhd import systems
from mes.identity.models import Citizen, Professional

MINIMAL = systems.MHD_PROFILE + "IHE.MHD.Minimal.ProvideBundle"
_counter = itertools.count(1)


def new_oid() -> str:
    return f"1.2.250.1.999.1.{next(_counter)}.{uuid.uuid4().int % 10**12}"


def sha1_b64(content: bytes) -> str:
    return base64.b64encode(hashlib.sha1(content).digest()).decode()


def document(
    content: bytes | None = None,
    *,
    type_code: str = "11490-0",
    type_system: str | None = systems.LOINC,
    category: str | None = "10",
    title: str = "Lettre de liaison de sortie",
    labels: tuple[str, ...] = ("N",),
    unique_id: str | None = None,
    replaces: str | None = None,
    size: int | None = None,
    hash_: str | None = None,
    content_type: str = "application/pdf",
    period_start: str = "2024-03-01",
    author: Professional | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One document: the DocumentReference and the Binary it points at (in `_binary`)."""
    content = make_pdf(title) if content is None else content
    binary_url = f"urn:uuid:{uuid.uuid4()}"
    type_coding: dict[str, str] = {"code": type_code}
    if type_system:
        type_coding["system"] = type_system
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "masterIdentifier": {
            "system": systems.RFC3986,
            "value": f"urn:oid:{unique_id or new_oid()}",
        },
        "status": "current",
        "type": {"coding": [type_coding]},
        "securityLabel": [
            {
                "coding": [
                    {
                        "system": systems.HL7_CONFIDENTIALITY
                        if label in ("N", "R", "V")
                        else systems.TRE_A07,
                        "code": label,
                    }
                ]
            }
            for label in labels
        ],
        "content": [
            {
                "attachment": {
                    "contentType": content_type,
                    "url": binary_url,
                    "size": len(content) if size is None else size,
                    "hash": sha1_b64(content) if hash_ is None else hash_,
                    "title": title,
                    "creation": "2024-03-01T10:00:00+01:00",
                },
                "format": {"system": systems.IHE_FORMAT, "code": "urn:ihe:iti:xds-sd:pdf:2008"},
            }
        ],
        "context": {"period": {"start": period_start}},
    }
    if category:
        resource["category"] = [{"coding": [{"system": systems.TRE_A03, "code": category}]}]
    if replaces:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{replaces}"}}
        ]
    if author is not None:
        resource["contained"] = [
            {
                "resourceType": "Practitioner",
                "id": "auteur",
                "identifier": [{"system": systems.RPPS, "value": author.national_id}],
                "name": [{"family": author.last_name, "given": [author.first_name]}],
            }
        ]
        resource["author"] = [{"reference": "#auteur"}]
    resource.update(extra)
    return {
        "resource": resource,
        "_binary": {
            "fullUrl": binary_url,
            "resource": {
                "resourceType": "Binary",
                "contentType": content_type,
                "data": base64.b64encode(content).decode(),
            },
            "request": {"method": "POST", "url": "Binary"},
        },
    }


def subject_of(patient: Citizen | str) -> dict[str, Any]:
    if isinstance(patient, Citizen):
        return {"reference": f"Patient/{patient.pk}"}
    return {"reference": patient}


def provide_bundle(
    patient: Citizen | str | dict[str, Any],
    documents: list[dict[str, Any]],
    *,
    submission_sets: int = 1,
    extra_entries: list[dict[str, Any]] | None = None,
    profile: str = MINIMAL,
) -> dict[str, Any]:
    """An ITI-65 transaction: the SubmissionSet, then each DocumentReference and its Binary."""
    subject = patient if isinstance(patient, dict) else subject_of(patient)
    doc_entries = []
    binaries = []
    for doc in documents:
        url = f"urn:uuid:{uuid.uuid4()}"
        resource = {**doc["resource"], "subject": subject}
        doc_entries.append(
            {
                "fullUrl": url,
                "resource": resource,
                "request": {"method": "POST", "url": "DocumentReference"},
            }
        )
        binaries.append(doc["_binary"])
    lists = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {
                "resourceType": "List",
                "extension": [
                    {
                        "url": systems.MHD_SOURCE_ID,
                        "valueIdentifier": {"value": "urn:oid:1.2.250.1.999.42"},
                    }
                ],
                "identifier": [
                    {"use": "official", "system": systems.RFC3986, "value": f"urn:oid:{new_oid()}"}
                ],
                "status": "current",
                "mode": "working",
                "code": {"coding": [{"system": systems.MHD_LIST_TYPES, "code": "submissionset"}]},
                "subject": subject,
                "date": "2024-03-02T09:00:00+01:00",
                "entry": [{"item": {"reference": e["fullUrl"]}} for e in doc_entries],
            },
            "request": {"method": "POST", "url": "List"},
        }
        for _ in range(submission_sets)
    ]
    entries = [*lists]
    for doc_entry, binary in zip(doc_entries, binaries, strict=True):
        entries += [doc_entry, binary]
    entries += extra_entries or []
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [profile]},
        "type": "transaction",
        "entry": entries,
    }
