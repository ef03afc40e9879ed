"""The acting professional's signed assertion as an RFC 7523 jwt-bearer grant (issue 12 §2): a
structure's confidential client exchanges it at the token endpoint for an access token bound to
that professional, who then acts exactly as with the X-Mes-Professionnel header. Every way the
assertion can be wrong is `invalid_grant` (RFC 6749 §5.2), traced; driven with Authlib's
requests client over real HTTP, and with Django's client for each refusal."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import AssertionSession, OAuth2Session
from joserfc.jwk import ECKey
from jwcrypto import jwk, jwt

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_professional
from mes.fhir.auth.assertion import ASSERTION_HEADER, register_assertion_key
from mes.fhir.auth.jwt_bearer import JWT_BEARER, oauth_text
from mes.fhir.core.access import ACTING_PROFESSIONAL_HEADER
from mes.fhir.models import AssertedToken, RegisteredClient, UsedAssertion, register_client
from mes.fhir.tests.conftest import INS_NIR_SYSTEM, REDIRECT_URI
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.identity.models import Organisation

TOKEN_URL = "http://testserver/o/token/"
SCOPE = "system/Patient.read system/DocumentReference.rs system/DocumentReference.cud"


@pytest.fixture
def server(hopital, signing_key) -> RegisteredClient:
    registered = register_client(software_name="DPI", software_version="9", organisation=hopital)
    register_assertion_key(client=registered.client, key_text=signing_key.export_public())
    return registered


def assertion(
    server: RegisteredClient, key: jwk.JWK, *, aud: Any = TOKEN_URL, **overrides: Any
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": server.client_id,
        "sub": "810000000020",
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        **overrides,
    }
    signed = jwt.JWT(header={"alg": "ES256", "kid": key.get("kid")}, claims=claims)
    signed.make_signed_token(key)
    return str(signed.serialize())


def basic(server: RegisteredClient, secret: str | None = None) -> str:
    pair = f"{server.client_id}:{secret if secret is not None else server.client_secret}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def exchange(client: Any, server: RegisteredClient, signed: str, **extra: str) -> Any:
    return client.post(
        "/o/token/",
        {"grant_type": JWT_BEARER, "assertion": signed, "scope": SCOPE, **extra},
        HTTP_AUTHORIZATION=basic(server),
    )


def refused_grant(response: Any, code: str) -> None:
    """invalid_grant, its description in RFC 6749 §5.2's characters, the refusal traced."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_grant", body
    assert body["error_description"].startswith(f"{code}: "), body
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in body["error_description"])
    assert "access_token" not in body
    row = Trace.objects.filter(action=TraceAction.LOGIN, outcome=TraceOutcome.REFUSED).last()
    assert row is not None and row.patient_id is None
    assert row.actor_kind == "structure" and row.organisation_name == "Hôpital Saint-Louis"
    assert code in row.reason and "jwt-bearer" in row.reason
    assert not AssertedToken.objects.exists()


def bearer_get(client: Any, token: str, path: str, **params: Any) -> Any:
    return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")


# --- with Authlib's requests client over real HTTP --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_authlib_assertion_session_gets_a_token_bound_to_the_professional(
    live_server, server, signing_key, dr_leroy, camille
):
    token_url = f"{live_server.url}/o/token/"
    discovery = requests.get(f"{live_server.url}/.well-known/openid-configuration", timeout=30)
    assert JWT_BEARER in discovery.json()["grant_types_supported"]
    # Authlib's RFC 7523 client: it signs a fresh assertion (its own jti) whenever it needs a
    # token; the client authenticates with its secret (HTTP Basic) as for any grant.
    session = AssertionSession(
        token_endpoint=token_url,
        issuer=server.client_id,
        subject=dr_leroy.national_id,
        audience=token_url,
        scope=SCOPE,
        key=ECKey.import_key(signing_key.export(private_key=True, as_dict=True)),
        alg="ES256",
        header={"alg": "ES256", "kid": "dpi-2026"},
        expires_in=60,
        default_timeout=30,
    )
    session.auth = requests.auth.HTTPBasicAuth(server.client_id, server.client_secret)
    found = session.get(
        f"{live_server.url}/fhir/Patient",
        params={"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
    )
    assert found.status_code == 200, found.text
    assert found.json()["total"] == 1
    token = session.token
    assert token["token_type"] == "Bearer" and "refresh_token" not in token
    assert set(token["scope"].split()) == set(SCOPE.split())

    # A deposit with the same token: the bound professional is its author, via the structure.
    deposit = session.post(
        f"{live_server.url}/fhir/",
        data=json.dumps(provide_bundle(camille, [document()])),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert deposit.status_code == 200, deposit.text
    rows = Trace.objects.filter(patient_id=camille.pk).exclude(action=TraceAction.LOGIN)
    assert rows.count() >= 2
    assert {r.actor_id for r in rows} == {"810000000020"}
    assert all(r.software == "DPI 9 via Hôpital Saint-Louis" for r in rows)
    issued = Trace.objects.get(action=TraceAction.LOGIN, outcome=TraceOutcome.ALLOWED)
    assert issued.actor_id == "810000000020" and issued.patient_id is None
    assert issued.software == "DPI 9 via Hôpital Saint-Louis" and "jwt-bearer" in issued.reason
    assert AssertedToken.objects.get().professional == dr_leroy
    session.close()


@pytest.mark.django_db(transaction=True)
def test_authlib_oauth2_session_fetch_token_and_a_replay(
    live_server, server, signing_key, dr_leroy
):
    token_url = f"{live_server.url}/o/token/"
    oauth = OAuth2Session(
        client_id=server.client_id,
        client_secret=server.client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope=SCOPE,
    )
    signed = assertion(server, signing_key, aud=token_url)
    token = oauth.fetch_token(token_url, grant_type=JWT_BEARER, assertion=signed, timeout=30)
    assert token["access_token"] and token["expires_in"] == 3600
    with pytest.raises(OAuthError) as replay:
        oauth.fetch_token(token_url, grant_type=JWT_BEARER, assertion=signed, timeout=30)
    assert replay.value.error == "invalid_grant"
    assert replay.value.description.startswith("ASSERTION_REJOUEE: ")
    assert AssertedToken.objects.count() == 1
    row = Trace.objects.get(action=TraceAction.LOGIN, outcome=TraceOutcome.REFUSED)
    assert "ASSERTION_REJOUEE" in row.reason
    oauth.close()


# --- every refusal, invalid_grant and traced ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 660}, "ASSERTION_EXPIREE"),
        ({"aud": "http://testserver/fhir/"}, "ASSERTION_AUDIENCE"),  # the header's audience
        ({"iss": "un-autre-client"}, "ASSERTION_EMETTEUR"),
        ({"sub": "899999999999"}, "PROFESSIONNEL_HORS_STRUCTURE"),  # unknown RPPS
        ({"exp": int(time.time()) + 3600}, "ASSERTION_INVALIDE"),  # lives more than 5 min
    ],
)
def test_a_wrong_claim_is_invalid_grant(client, server, signing_key, dr_leroy, claims, code):
    refused_grant(exchange(client, server, assertion(server, signing_key, **claims)), code)


@pytest.mark.django_db
def test_an_unsigned_assertion_is_refused(client, server, dr_leroy):
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": server.client_id, "sub": "810000000020", "aud": TOKEN_URL}
    claims |= {"iat": now, "exp": now + 60, "jti": "j-1"}
    unsigned = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    refused_grant(exchange(client, server, unsigned), "ASSERTION_SIGNATURE")
    assert not UsedAssertion.objects.exists()


@pytest.mark.django_db
def test_a_key_not_registered_for_the_client_is_refused(client, server, dr_leroy):
    stranger = jwk.JWK.generate(kty="EC", crv="P-256", kid="dpi-2026")
    refused_grant(exchange(client, server, assertion(server, stranger)), "ASSERTION_SIGNATURE")


@pytest.mark.django_db
def test_a_professional_of_another_structure_is_refused(client, server, signing_key):
    clinique = Organisation.objects.create(
        finess="690000011", name="Clinique du Parc", kind=Organisation.Kind.HOSPITAL
    )
    make_professional("10000000031", "Marc", "Petit", "10", "SM04", clinique)
    signed = assertion(server, signing_key, sub="810000000031")
    refused_grant(exchange(client, server, signed), "PROFESSIONNEL_HORS_STRUCTURE")


@pytest.mark.django_db
def test_an_assertion_spent_in_the_header_is_a_replay_here(
    client, fhir_client_for, server, signing_key, dr_leroy, camille
):
    jti = "une-seule-fois"
    api = fhir_client_for(dr_leroy, via_structure=True)
    api.headers.pop(ACTING_PROFESSIONAL_HEADER)
    header_assertion = assertion(server, signing_key, aud="http://testserver/fhir/", jti=jti)
    assert (
        api.get(
            "/fhir/Patient",
            headers={ASSERTION_HEADER: header_assertion},
            identifier=f"{INS_NIR_SYSTEM}|{camille.ins}",
        ).status_code
        == 200
    )
    refused_grant(
        exchange(client, server, assertion(server, signing_key, jti=jti)), "ASSERTION_REJOUEE"
    )


# --- who may use the grant ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_client_must_authenticate(client, server, signing_key, dr_leroy):
    signed = assertion(server, signing_key)
    anonymous = client.post("/o/token/", {"grant_type": JWT_BEARER, "assertion": signed})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    wrong = client.post(
        "/o/token/",
        {"grant_type": JWT_BEARER, "assertion": signed},
        HTTP_AUTHORIZATION=basic(server, "pas-le-bon-secret"),
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    # Nothing was checked, nothing spent: the assertion still works for its own client.
    assert not UsedAssertion.objects.exists()
    assert exchange(client, server, signed).status_code == 200


@pytest.mark.django_db
def test_practice_software_and_the_insurer_may_not_use_it(
    client, server, signing_key, dr_leroy, assurance_maladie_org
):
    software = register_client(software_name="LPS", redirect_uris=REDIRECT_URI)
    insurer = register_client(software_name="CPAM", organisation=assurance_maladie_org)
    for other in (software, insurer):
        response = exchange(client, other, assertion(server, signing_key, iss=other.client_id))
        assert response.status_code == 400
        assert response.json()["error"] == "unauthorized_client", response.content
    assert not AssertedToken.objects.exists()


@pytest.mark.django_db
def test_an_assertion_is_required(client, server, dr_leroy):
    response = client.post(
        "/o/token/", {"grant_type": JWT_BEARER}, HTTP_AUTHORIZATION=basic(server)
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.django_db
def test_scopes_are_a_structure_servers(client, server, signing_key, dr_leroy):
    """As for client credentials: no openid, profile nor offline_access (nobody signed in)."""
    response = exchange(
        client,
        server,
        assertion(server, signing_key),
        scope="openid offline_access user/Patient.read",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "user/Patient.read" and "refresh_token" not in body
    assert "id_token" not in body


# --- the token, bound ---------------------------------------------------------------------------


@pytest.fixture
def bound_token(client, server, signing_key, dr_leroy) -> str:
    response = exchange(client, server, assertion(server, signing_key))
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


@pytest.mark.django_db
def test_the_bound_token_acts_as_the_header_would(client, bound_token, camille, dr_leroy):
    found = bearer_get(
        client, bound_token, "/fhir/Patient", identifier=f"{INS_NIR_SYSTEM}|{camille.ins}"
    )
    assert found.status_code == 200, found.content
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SEARCH_PATIENT)
    assert row.actor_id == dr_leroy.national_id and row.actor_kind == "professional"
    assert row.software == "DPI 9 via Hôpital Saint-Louis"
    # Naming the same professional beside it is fine; naming another is refused.
    same = client.get(
        "/fhir/Patient",
        {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
        HTTP_AUTHORIZATION=f"Bearer {bound_token}",
        HTTP_X_MES_PROFESSIONNEL=dr_leroy.national_id,
    )
    assert same.status_code == 200


@pytest.mark.django_db
def test_the_bound_token_never_acts_for_another_professional(client, bound_token, camille, hopital):
    make_professional("10000000042", "Paul", "Roux", "10", "SM04", hopital)
    other = client.get(
        "/fhir/Patient",
        {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
        HTTP_AUTHORIZATION=f"Bearer {bound_token}",
        HTTP_X_MES_PROFESSIONNEL="810000000042",
    )
    assert other.status_code == 403
    assert other.json()["issue"][0]["expression"] == [ACTING_PROFESSIONAL_HEADER]
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


@pytest.mark.django_db
def test_the_bound_professional_reaches_only_what_they_may(client, bound_token, bob):
    """Another patient, who never authorised Dr Leroy: the same 404 as an unknown one."""
    response = bearer_get(
        client, bound_token, "/fhir/DocumentReference", patient=str(bob.pk), status="current"
    )
    assert response.status_code == 404, response.content
    refused = Trace.objects.get(patient_id=bob.pk)
    assert refused.outcome == TraceOutcome.REFUSED and refused.actor_id == "810000000020"


@pytest.mark.django_db
def test_a_professional_who_left_the_structure_stops_acting(client, bound_token, camille, dr_leroy):
    dr_leroy.organisation = Organisation.objects.create(
        finess="690000011", name="Clinique du Parc", kind=Organisation.Kind.HOSPITAL
    )
    dr_leroy.save()
    response = bearer_get(
        client, bound_token, "/fhir/Patient", identifier=f"{INS_NIR_SYSTEM}|{camille.ins}"
    )
    assert response.status_code == 403, response.content
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == (
        "PROFESSIONNEL_HORS_STRUCTURE"
    )
    row = Trace.objects.filter(action=TraceAction.LOGIN, outcome=TraceOutcome.REFUSED).get()
    assert "PROFESSIONNEL_HORS_STRUCTURE" in row.reason


@pytest.mark.django_db
def test_a_revoked_bound_token_is_refused(client, server, bound_token, camille):
    revoked = client.post(
        "/o/revoke_token/", {"token": bound_token}, HTTP_AUTHORIZATION=basic(server)
    )
    assert revoked.status_code == 200
    assert not AssertedToken.objects.exists()
    response = bearer_get(
        client, bound_token, "/fhir/Patient", identifier=f"{INS_NIR_SYSTEM}|{camille.ins}"
    )
    assert response.status_code == 401


def test_oauth_text_keeps_to_rfc6749_characters():
    text = oauth_text("Ce professionnel n'est pas rattaché à « Hôpital Saint-Louis » : « x ».")
    assert text == "Ce professionnel n'est pas rattache a 'Hopital Saint-Louis' : 'x'."
