"""The OAuth flows end to end over real HTTP (httpx against a live server), as practice software
and an establishment's server would run them."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest
from django.conf import settings
from django.test import Client
from jwcrypto import jwk, jwt

from mes.access.actors import AccessMode
from mes.audit.models import Trace, TraceAction
from mes.fhir.core.access import ACTING_PROFESSIONAL_HEADER, JUSTIFICATION_HEADER, MODE_HEADER
from mes.fhir.models import register_client
from mes.fhir.tests.conftest import INS_NIR_SYSTEM, REDIRECT_URI
from mes.identity.models import Professional

SCOPES = "openid profile user/Patient.read user/Consent.write"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def session_cookie_of(professional: Professional) -> dict[str, str]:
    """Sign the professional in, as the Web PS login does, and hand the session to httpx."""
    browser = Client()
    browser.force_login(professional.user)
    return {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}


@pytest.mark.django_db(transaction=True)
def test_authorization_code_with_pkce_then_fhir_calls(live_server, dr_martin, camille):
    software = register_client(
        software_name="MédiLogiciel", software_version="4.2", redirect_uris=REDIRECT_URI
    )
    base = live_server.url
    discovery = httpx.get(f"{base}/fhir/.well-known/smart-configuration").json()
    verifier, challenge = pkce_pair()

    with httpx.Client(base_url=base, cookies=session_cookie_of(dr_martin)) as browser:
        response = browser.get(
            discovery["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": software.client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": SCOPES,
                "state": "xyz",
                "nonce": "n-0S6",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
    assert response.status_code == 302
    callback = urlparse(response.headers["Location"])
    query = parse_qs(callback.query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]

    with httpx.Client(base_url=base) as software_http:
        # A wrong verifier is refused: the code is bound to the challenge.
        stolen = software_http.post(
            discovery["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": "x" * 50,
            },
            auth=(software.client_id, software.client_secret),
        )
        assert stolen.status_code == 400
        token = software_http.post(
            discovery["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(software.client_id, software.client_secret),
        )
        assert token.status_code == 200, token.text
        tokens = token.json()
        assert tokens["expires_in"] == 3600
        assert set(tokens["scope"].split()) == set(SCOPES.split())
        assert tokens["refresh_token"]

        # The ID token is signed with the published key and names the professional.
        keys = software_http.get(discovery["jwks_uri"]).json()["keys"]
        key = jwk.JWK(**keys[0])
        claims = json.loads(jwt.JWT(jwt=tokens["id_token"], key=key).claims)
        assert claims["sub"] == dr_martin.national_id
        assert claims["nonce"] == "n-0S6"
        assert claims["aud"] == software.client_id
        assert claims["name"] == "Dr Anne Martin"
        assert claims["organisation_name"] == "Cabinet médical République"
        userinfo = software_http.get(
            discovery["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        ).json()
        assert userinfo["idnat"] == dr_martin.national_id

        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        metadata = software_http.get("/fhir/metadata", headers={"Accept": "application/fhir+json"})
        assert metadata.status_code == 200
        assert metadata.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
        found = software_http.get(
            "/fhir/Patient",
            params={"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
            headers=bearer,
        )
        assert found.status_code == 200
        assert found.json()["entry"][0]["resource"]["id"] == str(camille.pk)

        # Refresh: a new access token, the old refresh token rotated out.
        refreshed = software_http.post(
            discovery["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(software.client_id, software.client_secret),
        )
        assert refreshed.status_code == 200, refreshed.text
        again = software_http.get(
            "/fhir/Patient",
            params={"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        )
        assert again.status_code == 200

        # Revocation ends it.
        revoked = software_http.post(
            discovery["revocation_endpoint"],
            data={"token": refreshed.json()["access_token"]},
            auth=(software.client_id, software.client_secret),
        )
        assert revoked.status_code == 200
        gone = software_http.get(
            "/fhir/Patient",
            params={"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        )
        assert gone.status_code == 401
        assert gone.headers["WWW-Authenticate"].startswith("Bearer ")

    rows = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.SEARCH_PATIENT)
    assert rows.count() == 2
    assert {r.software for r in rows} == {"MédiLogiciel 4.2"}


@pytest.mark.django_db(transaction=True)
def test_a_public_client_exchanges_its_code_with_pkce_alone(live_server, dr_martin):
    software = register_client(
        software_name="Poste", software_version="1", redirect_uris=REDIRECT_URI, confidential=False
    )
    verifier, challenge = pkce_pair()
    with httpx.Client(base_url=live_server.url, cookies=session_cookie_of(dr_martin)) as browser:
        response = browser.get(
            "/o/authorize/",
            params={
                "response_type": "code",
                "client_id": software.client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": "user/Patient.read",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
    code = parse_qs(urlparse(response.headers["Location"]).query)["code"][0]
    token = httpx.post(
        f"{live_server.url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": software.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text


@pytest.mark.django_db(transaction=True)
def test_client_credentials_with_the_acting_professional(live_server, hopital, camille):
    from mes.conftest import make_professional

    urgentiste = make_professional("10000000030", "Yves", "Garnier", "10", "SM04", hopital)
    server = register_client(
        software_name="DPI Saint-Louis", software_version="12.0", organisation=hopital
    )
    with httpx.Client(base_url=live_server.url) as http:
        token = http.post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": "user/Patient.read"},
            auth=(server.client_id, server.client_secret),
        ).json()["access_token"]
        reason = "Patiente inconsciente admise au déchocage"
        found = http.get(
            f"/fhir/Patient/{camille.pk}",
            headers={
                "Authorization": f"Bearer {token}",
                ACTING_PROFESSIONAL_HEADER: urgentiste.national_id,
                MODE_HEADER: AccessMode.BREAK_GLASS.value,
                JUSTIFICATION_HEADER: quote(reason, safe=""),
            },
        )
        assert found.status_code == 200, found.text
        anonymous_structure = http.get(
            f"/fhir/Patient/{camille.pk}", headers={"Authorization": f"Bearer {token}"}
        )
        assert anonymous_structure.status_code == 400

    opened = Trace.objects.get(patient_id=camille.pk, action=TraceAction.BREAK_GLASS)
    assert opened.actor_id == urgentiste.national_id
    assert opened.justification == reason
    assert opened.software == f"DPI Saint-Louis 12.0 via {hopital.name}"
    assert opened.organisation_name == hopital.name
