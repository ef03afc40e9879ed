"""The requests of each benchmark, built before the clock starts.

ITI-67 (Find Document References): the professional's practice software asks for a patient's
current documents, one page of PAGE_SIZE, newest first; the baseline asks the bare view for the
same page of the same patient.

ITI-65 (Provide Document Bundle): the practice software deposits one PDF letter in a transaction
Bundle (SubmissionSet List + DocumentReference + Binary, MHD Minimal); the baseline receives the
very same bytes and stores the row and the encrypted blob. Every bundle carries its own uniqueId,
as real deposits do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import cycle, islice
from typing import Any
from urllib.parse import urlencode

from bench.load import Call

PAGE_SIZE = 20  # the same page for both (bench/baseline_urls.PAGE_SIZE)
FHIR_JSON = "application/fhir+json"
MHD = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/"
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
LOINC = "http://loinc.org"
CLASS_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.1"  # TRE_A03-ClasseDocument
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
FORMAT_SYSTEM = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
RFC3986 = "urn:ietf:rfc:3986"
# The sending software's OID (MHD sourceId): a private arc for the bench.
SOURCE_ID = "urn:oid:1.2.250.1.999.1.1"

# What a TLS-terminating reverse proxy adds in production (config.base trusts it): with it the
# production settings (HTTPS redirect, secure cookies) stay on, on plain HTTP to localhost.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    mes: list[Call]
    baseline: list[Call]
    mes_status: int
    baseline_status: int


def api_headers(token: str) -> dict[str, str]:
    return {
        **PROXY_HEADERS,
        "Authorization": f"Bearer {token}",
        "Accept": FHIR_JSON,
        "X-Mes-Mode-Acces": "normal",  # explicit on every request (issue 3, access modes)
    }


def search_calls(patients: Sequence[dict[str, Any]], token: str, count: int) -> list[Call]:
    headers = api_headers(token)
    return [
        Call(
            "GET",
            "/fhir/DocumentReference?"
            + urlencode({"patient": p["id"], "status": "current", "_count": PAGE_SIZE}),
            headers,
        )
        for p in islice(cycle(patients), count)
    ]


def baseline_search_calls(patients: Sequence[dict[str, Any]], count: int) -> list[Call]:
    return [
        Call("GET", "/bench/baseline/documents?" + urlencode({"patient": p["id"]}), PROXY_HEADERS)
        for p in islice(cycle(patients), count)
    ]


def provide_bundle(patient_id: str, pdf: bytes, *, title: str) -> bytes:
    """An ITI-65 transaction Bundle (MHD Minimal ProvideBundle) holding one PDF letter."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    submission_set, document, binary = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    subject = {"reference": f"Patient/{patient_id}"}
    bundle = {
        "resourceType": "Bundle",
        "meta": {"profile": [MHD + "IHE.MHD.Minimal.ProvideBundle"]},
        "type": "transaction",
        "entry": [
            {
                "fullUrl": submission_set,
                "resource": {
                    "resourceType": "List",
                    "meta": {"profile": [MHD + "IHE.MHD.Minimal.SubmissionSet"]},
                    "extension": [
                        {
                            "url": MHD + "ihe-sourceId",
                            "valueIdentifier": {"system": RFC3986, "value": SOURCE_ID},
                        }
                    ],
                    "identifier": [
                        {
                            "use": "usual",
                            "system": RFC3986,
                            "value": f"urn:oid:2.25.{uuid.uuid4().int}",
                        },
                        {"use": "official", "system": RFC3986, "value": submission_set},
                    ],
                    "status": "current",
                    "mode": "working",
                    "code": {"coding": [{"system": MHD_LIST_TYPES, "code": "submissionset"}]},
                    "subject": subject,
                    "date": now,
                    "entry": [{"item": {"reference": document}}],
                },
                "request": {"method": "POST", "url": "List"},
            },
            {
                "fullUrl": document,
                "resource": {
                    "resourceType": "DocumentReference",
                    "meta": {"profile": [MHD + "IHE.MHD.Minimal.DocumentReference"]},
                    "masterIdentifier": {
                        "system": RFC3986,
                        "value": f"urn:oid:2.25.{uuid.uuid4().int}",
                    },
                    "identifier": [{"use": "official", "system": RFC3986, "value": document}],
                    "status": "current",
                    "type": {
                        "coding": [
                            {
                                "system": LOINC,
                                "code": "11488-4",
                                "display": "CR ou fiche de consultation ou de visite",
                            }
                        ]
                    },
                    "category": [
                        {
                            "coding": [
                                {"system": CLASS_SYSTEM, "code": "10", "display": "Compte rendu"}
                            ]
                        }
                    ],
                    "subject": subject,
                    "date": now,
                    "securityLabel": [{"coding": [{"system": CONFIDENTIALITY, "code": "N"}]}],
                    "content": [
                        {
                            "attachment": {
                                "contentType": "application/pdf",
                                "url": binary,
                                "size": len(pdf),
                                "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode(),  # noqa: S324 - MHD's hash is SHA-1
                                "title": title,
                                "creation": now,
                            },
                            "format": {
                                "system": FORMAT_SYSTEM,
                                "code": "urn:ihe:iti:xds-sd:pdf:2008",
                            },
                        }
                    ],
                    "context": {"period": {"start": date.today().isoformat()}},
                },
                "request": {"method": "POST", "url": "DocumentReference"},
            },
            {
                "fullUrl": binary,
                "resource": {
                    "resourceType": "Binary",
                    "contentType": "application/pdf",
                    "data": base64.b64encode(pdf).decode(),
                },
                "request": {"method": "POST", "url": "Binary"},
            },
        ],
    }
    return json.dumps(bundle).encode()


def deposit_calls(
    patients: Sequence[dict[str, Any]], token: str, pdf: bytes, count: int
) -> list[Call]:
    headers = {**api_headers(token), "Content-Type": FHIR_JSON}
    return [
        Call("POST", "/fhir/", headers, provide_bundle(p["id"], pdf, title=f"Lettre {n}"))
        for n, p in enumerate(islice(cycle(patients), count))
    ]


def baseline_deposit_calls(
    patients: Sequence[dict[str, Any]], pdf: bytes, count: int
) -> list[Call]:
    headers = {**PROXY_HEADERS, "Content-Type": FHIR_JSON}
    return [
        Call(
            "POST",
            "/bench/baseline/deposit?" + urlencode({"patient": p["id"]}),
            headers,
            provide_bundle(p["id"], pdf, title=f"Lettre {n}"),
        )
        for n, p in enumerate(islice(cycle(patients), count))
    ]


def build(manifest: dict[str, Any], pdf: bytes, count: int) -> list[Scenario]:
    """The two scenarios, ITI-67 first: it runs on the dataset as built, before any deposit."""
    patients, token = manifest["patients"], manifest["token"]
    return [
        Scenario(
            "iti67",
            "ITI-67 search",
            search_calls(patients, token, count),
            baseline_search_calls(patients, count),
            200,
            200,
        ),
        Scenario(
            "iti65",
            "ITI-65 deposit",
            deposit_calls(patients, token, pdf, count),
            baseline_deposit_calls(patients, pdf, count),
            200,
            201,
        ),
    ]
