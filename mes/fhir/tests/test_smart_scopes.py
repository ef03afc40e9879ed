"""Issue 12 §2: SMART v1 and v2 scopes, a subset granted and said in the token response."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from mes.fhir.auth import scopes
from mes.fhir.core.access import ACTING_PROFESSIONAL_HEADER
from mes.fhir.models import register_client
from mes.fhir.tests.conftest import FhirApi, fhir_json, issue_token
from mes.fhir.tests.mhd_fixtures import document, provide_bundle


@pytest.mark.parametrize(
    ("owned", "required", "granted"),
    [
        ("user/DocumentReference.read", "user/DocumentReference.read", True),
        ("user/DocumentReference.rs", "user/DocumentReference.read", True),
        ("user/DocumentReference.r", "user/DocumentReference.read", False),  # search missing
        ("user/DocumentReference.cud", "user/DocumentReference.write", True),
        ("user/DocumentReference.cruds", "user/DocumentReference.write", True),
        ("user/*.read", "user/Binary.read", True),
        ("user/*.*", "user/Immunization.write", True),
        ("system/*.read", "user/Patient.read", True),
        ("system/DocumentReference.write", "user/DocumentReference.read", False),
        ("patient/*.read", "user/Patient.read", False),  # the future patient-app layer
        ("user/DocumentReference.rs?category=10", "user/DocumentReference.read", False),
        ("user/Observation.read", "user/DocumentReference.read", False),
        ("openid profile", "user/Patient.read", False),
    ],
)
def test_v1_and_v2_syntaxes(owned, required, granted):
    assert scopes.grants(owned, required) is granted


def test_the_subset_a_client_may_have():
    asked = [
        "openid",
        "fhirUser",
        "launch/patient",
        "offline_access",
        "user/DocumentReference.rs",
        "patient/*.read",
        "user/Observation.read",
        "system/*.read",
        "user/*.cruds",
        "banana",
    ]
    assert scopes.grantable(asked, client_credentials=False, insurer=False) == [
        "openid",
        "offline_access",
        "user/DocumentReference.rs",
        "system/*.read",
        "user/*.cruds",
    ]
    assert scopes.grantable(asked, client_credentials=True, insurer=False) == [
        "user/DocumentReference.rs",
        "system/*.read",
        "user/*.cruds",
    ]
    insurer = ["system/DocumentReference.write", "system/*.read", "system/*.cruds"]
    assert scopes.grantable(insurer, client_credentials=True, insurer=True) == [
        "system/DocumentReference.write"
    ]


def _token(client, registered, scope: str):
    return client.post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
            "scope": scope,
        },
    )


def test_client_credentials_get_the_subset_and_are_told(client, dr_leroy, hopital, camille):
    server = register_client(software_name="Serveur", software_version="1", organisation=hopital)
    response = _token(
        client,
        server,
        "system/*.read system/DocumentReference.cud launch/patient fhirUser openid patient/*.rs",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "system/*.read system/DocumentReference.cud"
    api = FhirApi(client, body["access_token"], {ACTING_PROFESSIONAL_HEADER: dr_leroy.national_id})
    deposit = api.post("/fhir/", provide_bundle(camille, [document()]))
    assert deposit.status_code == 200, deposit.content
    found = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    assert fhir_json(found, "Bundle")["total"] == 1
    # Nothing the client may have: invalid_scope, no token.
    refused = _token(client, server, "patient/*.read launch")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


def test_an_insurer_never_gets_a_read_scope(client, assurance_maladie_org):
    insurer = register_client(
        software_name="CPAM", software_version="1", organisation=assurance_maladie_org
    )
    response = _token(client, insurer, "system/*.read system/DocumentReference.write")
    assert response.json()["scope"] == "system/DocumentReference.write"


def test_a_wildcard_token_is_still_bound_to_the_actor(fhir_client_for, dr_durand, camille):
    """`user/*.*` widens no access: the decision is per dossier (dr_durand has no consent)."""
    api = fhir_client_for(dr_durand, scopes=["user/*.*"])
    response = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    assert response.status_code == 404


def test_missing_scope_still_403(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin, scopes=["user/DocumentReference.r"])
    response = api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    assert response.status_code == 403
    assert "insufficient_scope" in response["WWW-Authenticate"]


def test_discovery_advertises_what_is_understood(client):
    config = client.get("/fhir/.well-known/smart-configuration").json()
    assert "permission-v2" in config["capabilities"]
    assert "launch-ehr" not in config["capabilities"]
    assert "system/*.read" in config["scopes_supported"]
    assert "fhirUser" not in config["scopes_supported"]


def test_authorization_code_gets_the_subset_and_is_told(client, dr_martin):
    software = register_client(
        software_name="LPS", software_version="1", redirect_uris="http://127.0.0.1/cb"
    )
    client.force_login(dr_martin.user)
    redirect = client.get(
        reverse("oauth2_provider:authorize"),
        {
            "response_type": "code",
            "client_id": software.client_id,
            "redirect_uri": "http://127.0.0.1/cb",
            "scope": "openid fhirUser user/*.rs launch/patient patient/*.read",
            # RFC 7636 appendix B
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    code = parse_qs(urlparse(redirect["Location"]).query)["code"][0]
    token = client.post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1/cb",
            "client_id": software.client_id,
            "client_secret": software.client_secret,
            "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        },
    )
    assert token.status_code == 200, token.content
    assert token.json()["scope"] == "openid user/*.rs"


def test_the_consent_page_describes_smart_scopes():
    described = scopes.SmartScopes().get_all_scopes()
    assert (
        described["user/*.rs"]
        == "Lire, rechercher : toutes les ressources (selon vos droits sur chaque dossier)"
    )
    assert described["user/Patient.read"].startswith("Rechercher un patient")
    with pytest.raises(KeyError):
        described["launch/patient"]


def test_a_token_issued_with_v2_scopes_works(client, dr_martin, camille):
    from mes.fhir.tests.conftest import practice_software

    raw, _ = issue_token(
        practice_software().application,
        user=dr_martin.user,
        scopes=["user/Patient.rs", "user/DocumentReference.cruds", "user/Binary.r"],
    )
    api = FhirApi(client, raw)
    assert api.get(f"/fhir/Patient/{camille.pk}").status_code == 200
    assert api.post("/fhir/", provide_bundle(camille, [document()])).status_code == 200


def test_oidc_discovery_advertises_only_rs256(client, db):
    config = client.get("/.well-known/openid-configuration").json()
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
