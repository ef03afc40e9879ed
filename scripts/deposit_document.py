#!/usr/bin/env python3
"""Deposit a document (PDF, JPEG, PNG, TIFF, RTF or text) in a patient's DMP through the FHIR API
(IHE MHD ITI-65), as a hospital's server or a practice software would.

Standalone: it needs only httpx. The patient is named by INS; the document is sent in a
transaction Bundle (SubmissionSet List + DocumentReference + Binary) with its size and SHA-1.

With a structure's server (client credentials; the acting professional named by their idNat):

    python scripts/deposit_document.py --base http://localhost:8000 \\
        --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" --professional 810000000020 \\
        --ins 285057505601252 --file lettre.pdf --title "Lettre de liaison de sortie" \\
        --type 11490-0 --date 2026-11-20

With an access token obtained otherwise (authorization code + PKCE):

    python scripts/deposit_document.py --token "$TOKEN" --ins 285057505601252 --file cr.pdf

Prints the new DocumentReference's location (and any warning of the server); exits 1 with the
server's French diagnostic when the deposit is refused.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import mimetypes
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

MHD = "https://profiles.ihe.net/ITI/MHD/"
INS_SYSTEMS = {"NIR": "urn:oid:1.2.250.1.213.1.4.8", "NIA": "urn:oid:1.2.250.1.213.1.4.9"}
LOINC = "http://loinc.org"
TRE_A05 = "urn:oid:1.2.250.1.213.1.1.4.12"  # French document types (PROT_ALD, REMB…)
TRE_A07 = "urn:oid:1.2.250.1.213.1.1.4.13"  # visibility: MASQUE_PS, INVISIBLE_PATIENT…
SCOPES = "user/DocumentReference.write"
# The software's own OID root for the SubmissionSet sourceId; 2.25 = UUID-derived OIDs (X.667).
DEFAULT_SOURCE_ID = "2.25.329800735698586629295641978511506172918"


def oid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def token_by_client_credentials(base: str, client_id: str, client_secret: str) -> str:
    response = httpx.post(
        f"{base}/o/token/",
        data={"grant_type": "client_credentials", "scope": SCOPES},
        auth=(client_id, client_secret),
        timeout=30,
    )
    if response.status_code != 200:
        sys.exit(f"Jeton refusé ({response.status_code}) : {response.text}")
    return str(response.json()["access_token"])


def provide_bundle(args: argparse.Namespace, content: bytes, mime: str) -> dict[str, Any]:
    doc_url, binary_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    subject = {"identifier": {"system": INS_SYSTEMS[args.ins_kind], "value": args.ins}}
    labels = [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}
            ]
        }
    ]
    for flag, wanted in (
        ("MASQUE_PS", args.masked),
        ("INVISIBLE_PATIENT", args.invisible_patient),
        ("INVISIBLE_REPRESENTANTS_LEGAUX", args.invisible_representatives),
    ):
        if wanted:
            labels.append({"coding": [{"system": TRE_A07, "code": flag}]})
    type_system = LOINC if args.type[:1].isdigit() else TRE_A05
    document: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "masterIdentifier": {
            "system": "urn:ietf:rfc:3986",
            "value": f"urn:oid:{args.unique_id or oid()}",
        },
        "status": "current",
        "type": {"coding": [{"system": type_system, "code": args.type}]},
        "subject": subject,
        "securityLabel": labels,
        "content": [
            {
                "attachment": {
                    "contentType": mime,
                    "url": binary_url,
                    "size": len(content),
                    "hash": base64.b64encode(
                        hashlib.sha1(content, usedforsecurity=False).digest()
                    ).decode(),
                    "title": args.title,
                }
            }
        ],
        "context": {"period": {"start": args.date}},
    }
    if args.description:
        document["description"] = args.description
    submission_set = {
        "resourceType": "List",
        "extension": [
            {
                "url": MHD + "StructureDefinition/ihe-sourceId",
                "valueIdentifier": {"value": f"urn:oid:{args.source_id}"},
            }
        ],
        "identifier": [
            {"use": "official", "system": "urn:ietf:rfc:3986", "value": f"urn:oid:{oid()}"}
        ],
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": MHD + "CodeSystem/MHDlistTypes", "code": "submissionset"}]},
        "subject": subject,
        "date": date.today().isoformat(),
        "entry": [{"item": {"reference": doc_url}}],
    }
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [MHD + "StructureDefinition/IHE.MHD.Minimal.ProvideBundle"]},
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": submission_set,
                "request": {"method": "POST", "url": "List"},
            },
            {
                "fullUrl": doc_url,
                "resource": document,
                "request": {"method": "POST", "url": "DocumentReference"},
            },
            {
                "fullUrl": binary_url,
                "resource": {
                    "resourceType": "Binary",
                    "contentType": mime,
                    "data": base64.b64encode(content).decode(),
                },
                "request": {"method": "POST", "url": "Binary"},
            },
        ],
    }


def deposit(args: argparse.Namespace) -> str:
    """Send the bundle; the location of the new DocumentReference."""
    base = args.base.rstrip("/")
    path = Path(args.file)
    content = path.read_bytes()
    mime = args.content_type or mimetypes.guess_type(path.name)[0] or "application/pdf"
    token = args.token or token_by_client_credentials(base, args.client_id, args.client_secret)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/fhir+json",
        "Accept": "application/fhir+json",
        "X-Mes-Mode-Acces": args.mode,
    }
    if args.professional:
        headers["X-Mes-Professionnel"] = args.professional
    if args.justification:
        headers["X-Mes-Justification"] = quote(args.justification, safe="")
    response = httpx.post(
        f"{base}/fhir/",
        content=json.dumps(provide_bundle(args, content, mime)).encode(),
        headers=headers,
        timeout=60,
    )
    body = response.json()
    if response.status_code != 200:
        problems = "; ".join(issue.get("diagnostics", "") for issue in body.get("issue", []))
        raise SystemExit(f"Dépôt refusé ({response.status_code}) : {problems}")
    entry = body["entry"][1]["response"]
    for issue in (entry.get("outcome") or {}).get("issue", []):
        print(f"Avertissement : {issue['diagnostics']}", file=sys.stderr)
    return str(entry["location"])


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Dépose un document dans le DMP d'un patient (ITI-65).")
    p.add_argument(
        "--base", default="http://localhost:8000", help="adresse du service (sans /fhir)"
    )
    auth = p.add_argument_group("authentification : --token, ou --client-id et --client-secret")
    auth.add_argument("--token", help="jeton d'accès OAuth 2.0 déjà obtenu")
    auth.add_argument("--client-id")
    auth.add_argument("--client-secret")
    p.add_argument("--professional", help="idNat du professionnel qui agit (« 8 » + RPPS)")
    p.add_argument("--ins", required=True, help="INS du patient (15 caractères, clé comprise)")
    p.add_argument("--ins-kind", choices=sorted(INS_SYSTEMS), default="NIR")
    p.add_argument("--file", required=True, help="le document à déposer")
    p.add_argument("--content-type", help="type MIME (deviné d'après l'extension sinon)")
    p.add_argument("--title", default="Document", help="nom du document")
    p.add_argument("--description", default="")
    p.add_argument("--type", default="11490-0", help="typeCode (LOINC ou TRE_A05), JDV_J07")
    p.add_argument("--date", default=date.today().isoformat(), help="date du document (AAAA-MM-JJ)")
    p.add_argument("--unique-id", help="OID du document (engendré sinon)")
    p.add_argument("--source-id", default=DEFAULT_SOURCE_ID, help="OID du logiciel émetteur")
    p.add_argument("--masked", action="store_true", help="masqué aux professionnels (MASQUE_PS)")
    p.add_argument("--invisible-patient", action="store_true", help="INVISIBLE_PATIENT")
    p.add_argument(
        "--invisible-representatives", action="store_true", help="INVISIBLE_REPRESENTANTS_LEGAUX"
    )
    p.add_argument("--mode", choices=["normal", "bris_de_glace", "centre_15"], default="normal")
    p.add_argument("--justification", default="", help="obligatoire en bris de glace")
    args = p.parse_args(argv)
    if not args.token and not (args.client_id and args.client_secret):
        p.error("donnez --token, ou --client-id et --client-secret")
    return args


def main(argv: list[str] | None = None) -> int:
    print(deposit(parse(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
