"""The acting professional as a signed assertion (issue 12 §2, RFC 7523 style): a structure's
server signs, with a key registered for it, a JWT naming the professional; every way it can be
wrong is refused (403, with its code) and traced, and a replay never passes."""

from __future__ import annotations

import json
import time
import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from jwcrypto import jwk, jwt

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_professional
from mes.fhir.auth.assertion import ASSERTION_HEADER, register_assertion_key
from mes.fhir.core.access import ACTING_PROFESSIONAL_HEADER
from mes.fhir.models import AssertionKey, UsedAssertion
from mes.fhir.tests.conftest import INS_NIR_SYSTEM, fhir_json, structure_server
from mes.identity.models import Organisation

pytestmark = pytest.mark.django_db

AUDIENCE = "http://testserver/fhir/"


@pytest.fixture
def server(hopital, signing_key):
    client = structure_server(hopital)
    register_assertion_key(client=client, key_text=signing_key.export_public())
    return client


@pytest.fixture
def api(fhir_client_for, dr_leroy, server):
    """The hospital's server with a client-credentials token, naming nobody in a header."""
    api = fhir_client_for(dr_leroy, via_structure=True)
    api.headers.pop(ACTING_PROFESSIONAL_HEADER)
    return api


def assertion(
    server: Any, key: jwk.JWK, *, alg: str = "ES256", kid: str | None = None, **overrides: Any
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": server.application.client_id,
        "sub": "810000000020",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.JWT(header={"alg": alg, "kid": kid or key.get("kid")}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def search(api: Any, patient: Any, signed: str) -> Any:
    return api.get(
        "/fhir/Patient",
        headers={ASSERTION_HEADER: signed},
        identifier=f"{INS_NIR_SYSTEM}|{patient.ins}",
    )


def refused_with(response: Any, detail: str, code: str = "security") -> None:
    assert response.status_code == 403, response.content
    issue = fhir_json(response, "OperationOutcome")["issue"][0]
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == (code, detail)
    assert issue["expression"] == [ASSERTION_HEADER]
    row = Trace.objects.filter(action=TraceAction.LOGIN, outcome=TraceOutcome.REFUSED).last()
    assert row is not None and row.patient_id is None
    assert row.actor_kind == "structure" and row.organisation_name == "Hôpital Saint-Louis"
    assert detail in row.reason


# --- success ----------------------------------------------------------------------------------


def test_a_signed_assertion_names_the_acting_professional(api, server, signing_key, camille):
    response = search(api, camille, assertion(server, signing_key))
    assert response.status_code == 200, response.content
    assert fhir_json(response, "Bundle")["total"] == 1
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SEARCH_PATIENT)
    assert row.actor_id == "810000000020"
    assert row.software.endswith("via Hôpital Saint-Louis")
    assert UsedAssertion.objects.count() == 1


def test_rsa_and_an_audience_list_without_slash(api, server, hopital, camille):
    rsa = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")
    register_assertion_key(client=server, key_text=rsa.export_to_pem().decode(), kid="rsa-1")
    signed = assertion(server, rsa, alg="PS256", aud=["https://autre", AUDIENCE.rstrip("/")])
    assert search(api, camille, signed).status_code == 200


def test_the_header_and_the_assertion_must_agree(api, server, signing_key, camille, dr_martin):
    signed = assertion(server, signing_key)
    response = api.get(
        "/fhir/Patient",
        headers={ASSERTION_HEADER: signed, ACTING_PROFESSIONAL_HEADER: dr_martin.national_id},
        identifier=f"{INS_NIR_SYSTEM}|{camille.ins}",
    )
    assert response.status_code == 403
    assert fhir_json(response)["issue"][0]["expression"] == [ACTING_PROFESSIONAL_HEADER]


# --- denials ----------------------------------------------------------------------------------


def test_a_bad_signature_is_refused(api, server, camille):
    stranger_key = jwk.JWK.generate(kty="EC", crv="P-256", kid="dpi-2026")
    refused_with(search(api, camille, assertion(server, stranger_key)), "ASSERTION_SIGNATURE")
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_a_tampered_payload_is_refused(api, server, signing_key, camille):
    header, _payload, signature = assertion(server, signing_key).split(".")
    other = assertion(server, signing_key, sub="810000000001").split(".")[1]
    refused_with(search(api, camille, f"{header}.{other}.{signature}"), "ASSERTION_SIGNATURE")


def test_unsigned_and_symmetric_assertions_are_refused(api, server, signing_key, camille):
    secret = jwk.JWK.generate(kty="oct", size=256, kid="dpi-2026")
    refused_with(
        search(api, camille, assertion(server, secret, alg="HS256")), "ASSERTION_SIGNATURE"
    )
    unsigned = assertion(server, signing_key).split(".")
    none_header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    refused_with(search(api, camille, f"{none_header}.{unsigned[1]}."), "ASSERTION_SIGNATURE")
    refused_with(search(api, camille, "pas.un-jwt"), "ASSERTION_ILLISIBLE")


def test_an_expired_assertion_is_refused(api, server, signing_key, camille):
    now = int(time.time())
    expired = assertion(server, signing_key, iat=now - 400, exp=now - 200)
    refused_with(search(api, camille, expired), "ASSERTION_EXPIREE")


def test_the_clock_skew_is_bounded(api, server, signing_key, camille):
    now = int(time.time())
    # 30 s late: within the minute of skew; 10 minutes ahead: refused.
    late = assertion(server, signing_key, exp=now - 30, iat=now - 90)
    assert search(api, camille, late).status_code == 200
    future = assertion(server, signing_key, iat=now + 600, exp=now + 700)
    refused_with(search(api, camille, future), "ASSERTION_INVALIDE")
    too_long = assertion(server, signing_key, iat=now, exp=now + 3600)
    refused_with(search(api, camille, too_long), "ASSERTION_INVALIDE")
    refused_with(
        search(api, camille, assertion(server, signing_key, exp=None)), "ASSERTION_INVALIDE"
    )


def test_a_wrong_audience_is_refused(api, server, signing_key, camille):
    other = assertion(server, signing_key, aud="https://autre-dmp.example.org/fhir/")
    refused_with(search(api, camille, other), "ASSERTION_AUDIENCE")


def test_another_issuer_is_refused(api, server, signing_key, camille):
    refused_with(
        search(api, camille, assertion(server, signing_key, iss="quelquun-d-autre")),
        "ASSERTION_EMETTEUR",
    )


def test_a_replayed_assertion_is_refused(api, server, signing_key, camille):
    signed = assertion(server, signing_key)
    assert search(api, camille, signed).status_code == 200
    refused_with(search(api, camille, signed), "ASSERTION_REJOUEE")
    refused_with(
        search(api, camille, assertion(server, signing_key, jti=None)), "ASSERTION_INVALIDE"
    )


def test_an_unknown_professional_is_refused(api, server, signing_key, camille):
    unknown = assertion(server, signing_key, sub="899999999999")
    refused_with(search(api, camille, unknown), "PROFESSIONNEL_HORS_STRUCTURE", "forbidden")
    malformed = assertion(server, signing_key, sub="10000000020")
    refused_with(search(api, camille, malformed), "ASSERTION_INVALIDE")


def test_a_professional_of_another_structure_is_refused(
    api, server, signing_key, camille, dr_martin
):
    outsider = assertion(server, signing_key, sub=dr_martin.national_id)
    refused_with(search(api, camille, outsider), "PROFESSIONNEL_HORS_STRUCTURE", "forbidden")
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_a_revoked_key_no_longer_signs(api, server, signing_key, camille):
    AssertionKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    refused_with(search(api, camille, assertion(server, signing_key)), "ASSERTION_SIGNATURE")


def test_one_structure_s_key_does_not_sign_for_another(
    fhir_client_for, signing_key, camille, server
):
    other = Organisation.objects.create(
        finess="750000028", name="Clinique du Parc", kind=Organisation.Kind.HOSPITAL
    )
    colleague = make_professional("10000000038", "Louis", "Parc", "10", "SM04", other)
    api = fhir_client_for(colleague, via_structure=True)
    api.headers.pop(ACTING_PROFESSIONAL_HEADER)
    other_server = structure_server(other)
    # Signed with the hospital's key, claiming to come from the clinic: no key of the clinic.
    signed = assertion(other_server, signing_key, sub=colleague.national_id)
    response = search(api, camille, signed)
    assert response.status_code == 403
    assert fhir_json(response)["issue"][0]["details"]["coding"][0]["code"] == (
        "ASSERTION_SIGNATURE"
    )


# --- registering keys -------------------------------------------------------------------------


def test_registering_keys(server, signing_key, tmp_path):
    with pytest.raises(ValueError, match="déjà"):
        register_assertion_key(client=server, key_text=signing_key.export_public())
    with pytest.raises(ValueError, match="asymétriques"):
        register_assertion_key(
            client=server, key_text=jwk.JWK.generate(kty="oct", size=256).export()
        )
    private = jwk.JWK.generate(kty="EC", crv="P-256")
    stored = register_assertion_key(client=server, key_text=private.export(), kid="k2")
    assert "d" not in stored.public_jwk  # only the public part is kept
    pem = tmp_path / "cle.pem"
    pem.write_bytes(jwk.JWK.generate(kty="RSA", size=2048).export_to_pem())
    out = StringIO()
    call_command(
        "fhir_client",
        "--client-id",
        server.application.client_id,
        "--assertion-key",
        str(pem),
        "--kid",
        "k3",
        stdout=out,
    )
    assert "assertion_kid=k3" in out.getvalue()
    assert json.dumps(AssertionKey.objects.get(kid="k3").public_jwk).count('"n"') == 1
    with pytest.raises(CommandError):
        call_command("fhir_client", "--client-id", "inconnu", "--assertion-key", str(pem))
