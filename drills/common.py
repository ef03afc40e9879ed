"""What the drills share: an ITI-65 deposit as the professionals' software sends it (the
bundle of scripts/deposit_document.py, the headers of the demo's cardiologue), and the
OAuth2 token it is sent with."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from deposit_document import SCOPES, oid, parse, provide_bundle

PROFESSIONAL = "810100034567"  # the cardiologue of the demo
CLIENT_ID = "demo-ch-villeneuve"


def token(base: str, secret: str, *, scopes: str = SCOPES) -> str:
    """An access token of the demo's hospital software (client credentials)."""
    response = httpx.post(
        f"{base}/o/token/",
        data={"grant_type": "client_credentials", "scope": scopes},
        auth=(CLIENT_ID, secret),
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def fhir_headers(access_token: str) -> dict[str, str]:
    """The headers of every call of the cardiologue's software (normal access mode)."""
    return {
        "Authorization": f"Bearer {access_token}",
        "X-Mes-Mode-Acces": "normal",
        "X-Mes-Professionnel": PROFESSIONAL,
    }


@dataclass(frozen=True)
class Deposit:
    """One ITI-65 deposit of a PDF, ready to send."""

    unique_id: str  # the document's unique id (an OID)
    digest: str  # sha256 of the PDF: what must be stored if the deposit is acknowledged
    body: str  # the transaction bundle, JSON

    def send(self, client: httpx.Client, base: str, access_token: str) -> httpx.Response:
        headers = {**fhir_headers(access_token), "Content-Type": "application/fhir+json"}
        return client.post(f"{base}/fhir/", content=self.body, headers=headers)


def deposit(access_token: str, ins: str, title: str, content: bytes) -> Deposit:
    """The ITI-65 deposit of `content` (a PDF) for the patient `ins`, with a fresh unique id."""
    unique_id = oid()
    args = parse(
        [
            *("--token", access_token, "--ins", ins, "--file", "-"),
            *("--title", title, "--unique-id", unique_id),
        ]
    )
    bundle = provide_bundle(args, content, "application/pdf")
    return Deposit(unique_id, hashlib.sha256(content).hexdigest(), json.dumps(bundle))
