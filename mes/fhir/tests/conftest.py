"""Fixtures for driving the FHIR API as an outside client would (reused by the MHD tests and the
bench): registered OAuth clients and real django-oauth-toolkit access tokens.

    def test_something(fhir_client_for, dr_martin, camille):
        api = fhir_client_for(dr_martin)                       # practice software, normal mode
        r = api.get("/fhir/Patient", identifier=f"{INS_NIR_SYSTEM}|{camille.ins}")
        api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Coma")
        api = fhir_client_for(dr_martin, via_structure=True)    # client credentials + header
        api = fhir_client_for(assurance_maladie_org)           # an Assurance Maladie token
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value

from mes.access.actors import AccessMode
from mes.fhir.core.access import (
    ACTING_PROFESSIONAL_HEADER,
    JUSTIFICATION_HEADER,
    MODE_HEADER,
    SCOPE_BINARY_READ,
    SCOPE_CONSENT_WRITE,
    SCOPE_DOCUMENT_READ,
    SCOPE_DOCUMENT_WRITE,
    SCOPE_IMMUNIZATION_READ,
    SCOPE_IMMUNIZATION_WRITE,
    SCOPE_PATIENT_READ,
    SCOPE_RELATED_PERSON_READ,
)
from mes.fhir.models import FhirClient, register_client
from mes.identity.models import Organisation, Professional
from mes.lib.ins import OID_INS_NIA, OID_INS_NIR

INS_NIR_SYSTEM = f"urn:oid:{OID_INS_NIR}"
INS_NIA_SYSTEM = f"urn:oid:{OID_INS_NIA}"
FHIR_JSON = "application/fhir+json"

ALL_DATA_SCOPES = (
    SCOPE_PATIENT_READ,
    SCOPE_CONSENT_WRITE,
    SCOPE_DOCUMENT_READ,
    SCOPE_DOCUMENT_WRITE,
    SCOPE_BINARY_READ,
    SCOPE_IMMUNIZATION_READ,
    SCOPE_IMMUNIZATION_WRITE,
    SCOPE_RELATED_PERSON_READ,
)
LPS_NAME = "MédiLogiciel"
LPS_VERSION = "4.2"
REDIRECT_URI = "http://127.0.0.1/callback"


@dataclass
class FhirApi:
    """A FHIR client with its bearer token and the request headers it sends every time."""

    client: Client
    token: str
    headers: dict[str, str] = field(default_factory=dict)
    access_token: AccessToken | None = None

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **self.headers, **(extra or {})}

    def get(self, path: str, headers: Mapping[str, str] | None = None, **params: Any) -> Any:
        return self.client.get(path, params or None, headers=self._headers(headers))

    def post(
        self,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = FHIR_JSON,
    ) -> Any:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        return self.client.post(
            path, data, content_type=content_type, headers=self._headers(headers)
        )

    def post_form(self, path: str, data: Mapping[str, Any]) -> Any:
        """A form-encoded POST (e.g. FHIR `_search` by POST)."""
        return self.client.post(path, data, headers=self._headers(None))

    def put(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        return self.client.put(
            path, json.dumps(body), content_type=FHIR_JSON, headers=self._headers(headers)
        )

    def patch(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        return self.client.patch(
            path, json.dumps(body), content_type=FHIR_JSON, headers=self._headers(headers)
        )

    def delete(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        return self.client.delete(path, headers=self._headers(headers))

    def with_mode(self, mode: AccessMode, justification: str = "") -> FhirApi:
        """The same token, another access mode (the mode is read on every request)."""
        return FhirApi(
            self.client,
            self.token,
            {**self.headers, **mode_headers(mode, justification)},
            self.access_token,
        )


def mode_headers(mode: AccessMode = AccessMode.NORMAL, justification: str = "") -> dict[str, str]:
    headers = {MODE_HEADER: mode.value}
    if justification:
        # HTTP headers are Latin-1: the justification travels percent-encoded UTF-8.
        headers[JUSTIFICATION_HEADER] = quote(justification, safe="")
    return headers


def issue_token(
    application: Application,
    *,
    user: Any = None,
    scopes: Iterable[str] = ALL_DATA_SCOPES,
    expires_in: timedelta = timedelta(hours=1),
) -> tuple[str, AccessToken]:
    """A real DOT access token, as the token endpoint would store it (hashed at rest)."""
    raw = secrets.token_urlsafe(30)
    token = AccessToken(
        user=user,
        application=application,
        expires=timezone.now() + expires_in,
        scope=" ".join(scopes),
    )
    set_token_value(token, raw)
    token.save()
    return raw, token


def practice_software() -> FhirClient:
    """The practice software (LPS) most tests use: authorization code + PKCE, public client."""
    existing = FhirClient.objects.filter(software_name=LPS_NAME, organisation=None).first()
    if existing:
        return existing
    return register_client(
        software_name=LPS_NAME,
        software_version=LPS_VERSION,
        redirect_uris=REDIRECT_URI,
        confidential=False,
    ).client


def structure_server(organisation: Organisation) -> FhirClient:
    """The server of a structure (client credentials), registered once per structure."""
    existing = FhirClient.objects.filter(organisation=organisation).first()
    if existing:
        return existing
    return register_client(
        software_name=f"Serveur {organisation.name}",
        software_version="1.0",
        organisation=organisation,
    ).client


@pytest.fixture
def fhir_client_for(client: Client) -> Callable[..., FhirApi]:
    """Factory: `fhir_client_for(professional_or_organisation, mode=..., justification=...,
    scopes=..., via_structure=False, expires_in=...)` -> FhirApi with a real access token.

    A Professional gets a token of the practice software bound to them (authorization code
    flow); `via_structure=True` gets a client-credentials token of their structure's server
    and names them in X-Mes-Professionnel. An Organisation (e.g. the Assurance Maladie) gets a
    client-credentials token of its server.
    """

    def make(
        who: Professional | Organisation,
        *,
        mode: AccessMode = AccessMode.NORMAL,
        justification: str = "",
        scopes: Iterable[str] = ALL_DATA_SCOPES,
        via_structure: bool = False,
        expires_in: timedelta = timedelta(hours=1),
    ) -> FhirApi:
        headers = mode_headers(mode, justification)
        if isinstance(who, Organisation):
            app = structure_server(who).application
            raw, token = issue_token(app, scopes=scopes, expires_in=expires_in)
        elif via_structure:
            assert who.organisation is not None, "le professionnel doit avoir une structure"
            app = structure_server(who.organisation).application
            raw, token = issue_token(app, scopes=scopes, expires_in=expires_in)
            headers[ACTING_PROFESSIONAL_HEADER] = who.national_id
        else:
            app = practice_software().application
            raw, token = issue_token(app, user=who.user, scopes=scopes, expires_in=expires_in)
        return FhirApi(client, raw, headers, token)

    return make


@pytest.fixture
def assurance_maladie_org(db: Any) -> Organisation:
    return Organisation.objects.create(
        finess="750000099", name="Assurance Maladie – CPAM de Paris", kind=Organisation.Kind.INSURER
    )


@pytest.fixture
def hopital(db: Any) -> Organisation:
    return Organisation.objects.create(
        finess="750000010", name="Hôpital Saint-Louis", kind=Organisation.Kind.HOSPITAL
    )


@pytest.fixture
def dr_leroy(hopital: Organisation, camille: Any) -> Professional:
    """A doctor of the Hôpital Saint-Louis, authorised by Camille: the professional a structure's
    server names (header, signed assertion, jwt-bearer grant)."""
    from mes.conftest import authorise, make_professional

    pro = make_professional("10000000020", "Claire", "Leroy", "10", "SM04", hopital)
    authorise(camille, pro)
    return pro


@pytest.fixture
def signing_key() -> Any:
    """The EC key a structure's server signs its assertions with (kid `dpi-2026`)."""
    from jwcrypto import jwk

    return jwk.JWK.generate(kty="EC", crv="P-256", kid="dpi-2026")


def fhir_json(response: Any, resource_type: str | None = None) -> dict[str, Any]:
    """The body of a FHIR response, checked: `application/fhir+json` and valid against the FHIR
    R4 models (fhir.resources R4B, wire-compatible for these resources)."""
    from fhir.resources.R4B import get_fhir_model_class

    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    body = json.loads(response.content)
    model = get_fhir_model_class(body["resourceType"])
    model.model_validate(body)
    if resource_type is not None:
        assert body["resourceType"] == resource_type, body
    return body


def issue_codes(response: Any) -> list[str]:
    """The issue codes of an OperationOutcome response (validated)."""
    body = fhir_json(response, "OperationOutcome")
    return [issue["code"] for issue in body["issue"]]
