"""Discovery: CapabilityStatement, SMART configuration, OpenID Connect documents."""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, reverse

from mes.fhir import urls as fhir_urls
from mes.fhir.resources.metadata import SMART_OAUTH_URIS
from mes.fhir.tests.conftest import fhir_json, issue_codes

pytestmark = pytest.mark.django_db


def test_metadata_is_a_public_r4_capability_statement(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    cs = fhir_json(response, "CapabilityStatement")
    assert cs["fhirVersion"] == "4.0.1"
    assert cs["kind"] == "instance"
    assert "application/fhir+json" in cs["format"]
    (rest,) = cs["rest"]
    assert rest["mode"] == "server"
    service = rest["security"]["service"][0]["coding"][0]
    assert service["code"] == "SMART-on-FHIR"


def test_metadata_has_the_smart_oauth_uris(client):
    cs = fhir_json(client.get("/fhir/metadata"))
    (ext,) = [e for e in cs["rest"][0]["security"]["extension"] if e["url"] == SMART_OAUTH_URIS]
    uris = {e["url"]: e["valueUri"] for e in ext["extension"]}
    assert uris == {
        "authorize": "http://testserver/o/authorize/",
        "token": "http://testserver/o/token/",
        "revoke": "http://testserver/o/revoke_token/",
        "introspect": "http://testserver/o/introspect/",
    }


def test_metadata_lists_what_is_routed(client):
    """Each resource type declared has a route under /fhir/, and each routed resource type is
    declared: the statement says exactly what is supported."""
    cs = fhir_json(client.get("/fhir/metadata"))
    declared = {r["type"] for r in cs["rest"][0]["resource"]}
    routed = set()
    for pattern in fhir_urls.urlpatterns:
        if str(pattern.pattern) == "services/":
            continue  # the catalogue's services have their own base (docs/fhir-api.md)
        assert isinstance(pattern, URLPattern)
        head = str(pattern.pattern).split("/")[0]
        if head[:1].isupper():
            routed.add(head)
    assert declared == routed
    system = {i["code"] for i in cs["rest"][0]["interaction"]}
    assert system == {"transaction"}
    assert any(str(p.pattern) == "" for p in fhir_urls.urlpatterns)  # POST [base]
    patient = next(r for r in cs["rest"][0]["resource"] if r["type"] == "Patient")
    assert {op["name"] for op in patient["operation"]} == {
        "declarer-consentement",
        "retirer-consentement",
    }


def test_metadata_refuses_writes(client):
    response = client.post("/fhir/metadata", {})
    assert response.status_code == 405
    assert issue_codes(response) == ["not-supported"]


def test_smart_configuration(client):
    response = client.get("/fhir/.well-known/smart-configuration")
    assert response.status_code == 200
    conf = response.json()
    assert conf["authorization_endpoint"] == "http://testserver/o/authorize/"
    assert conf["token_endpoint"] == "http://testserver/o/token/"
    assert conf["code_challenge_methods_supported"] == ["S256"]
    assert "user/Patient.read" in conf["scopes_supported"]
    assert "launch-standalone" in conf["capabilities"]
    assert conf["issuer"] == client.get("/.well-known/openid-configuration").json()["issuer"]


def test_openid_configuration_and_jwks(client):
    conf = client.get("/.well-known/openid-configuration").json()
    assert conf["issuer"] == "http://testserver"
    assert conf["authorization_endpoint"] == "http://testserver" + reverse(
        "oauth2_provider:authorize"
    )
    assert conf["response_types_supported"] == ["code"]
    assert conf["code_challenge_methods_supported"] == ["S256"]
    assert "idnat" in conf["claims_supported"]
    keys = client.get(conf["jwks_uri"].removeprefix("http://testserver")).json()["keys"]
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert "d" not in keys[0]  # the public half only


def test_oauth_authorization_server_metadata(client):
    conf = client.get("/.well-known/oauth-authorization-server").json()
    assert conf["token_endpoint"] == "http://testserver/o/token/"
    assert "implicit" not in conf.get("grant_types_supported", [])


def test_discovery_documents_promise_nothing_more_than_supported(client):
    """Issue 12 §2: no default that promises more (OpenID Connect Discovery defaults the grant
    types to the implicit one and `request_uri_parameter_supported` to true), the two documents
    and the SMART configuration in agreement."""
    oidc = client.get("/.well-known/openid-configuration").json()
    rfc8414 = client.get("/.well-known/oauth-authorization-server").json()
    smart = client.get("/fhir/.well-known/smart-configuration").json()
    grants = [
        "authorization_code",
        "client_credentials",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",  # RFC 7523, a structure's server
    ]
    for conf in (oidc, rfc8414):
        assert conf["grant_types_supported"] == grants
        assert conf["response_types_supported"] == ["code"]
        assert conf["response_modes_supported"] == ["query"]
        assert conf["scopes_supported"] == smart["scopes_supported"]
        assert "offline_access" in conf["scopes_supported"]
        assert "user/DocumentReference.rs" not in conf["scopes_supported"]  # v2 via wildcards
    assert smart["grant_types_supported"] == grants
    assert oidc["request_uri_parameter_supported"] is False
    assert oidc["request_parameter_supported"] is False
    assert oidc["claims_parameter_supported"] is False
    assert oidc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "none" in rfc8414["token_endpoint_auth_methods_supported"]
    assert (
        rfc8414["token_endpoint_auth_methods_supported"]
        == (oidc["token_endpoint_auth_methods_supported"])
    )
    assert "implicit" not in json.dumps([oidc, rfc8414, smart])


def test_the_capability_statement_lists_exactly_what_iti67_searches(client):
    """Issue 12 §4: every search parameter ITI-67 understands is declared, and nothing else."""
    from mes.fhir.mhd import search

    cs = fhir_json(client.get("/fhir/metadata"), "CapabilityStatement")
    resources = {r["type"]: r for r in cs["rest"][0]["resource"]}
    declared = {p["name"] for p in resources["DocumentReference"]["searchParam"]}
    implemented = {
        *search.TOKEN_PARAMS,
        *search.DATE_PARAMS,
        *search.STRING_PARAMS,
        *search.CONTROL_PARAMS,
        *search.PATIENT_PARAMS,
    }
    assert declared == implemented
    assert set(cs["format"]) == {"application/fhir+json", "json", "application/fhir+xml", "xml"}
    assert cs["rest"][0]["security"]["cors"] is True
