"""The door of the FHIR API: tokens, scopes, the actor of each request, the access mode headers,
and the authorisation server's own rules (who may authorize, PKCE)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from oauth2_provider.models import AccessToken, Grant

from mes.access.actors import AccessMode
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.fhir.core.access import (
    ACTING_PROFESSIONAL_HEADER,
    JUSTIFICATION_HEADER,
    MODE_HEADER,
    SCOPE_CONSENT_WRITE,
    SCOPE_DOCUMENT_READ,
    SCOPE_PATIENT_READ,
    fhir_endpoint,
)
from mes.fhir.models import register_client
from mes.fhir.tests.conftest import (
    INS_NIR_SYSTEM,
    LPS_NAME,
    LPS_VERSION,
    REDIRECT_URI,
    FhirApi,
    fhir_json,
    issue_codes,
    issue_token,
    practice_software,
)

pytestmark = pytest.mark.django_db


def search(api: FhirApi, patient: Any, **headers: str) -> Any:
    return api.get("/fhir/Patient", headers=headers, identifier=f"{INS_NIR_SYSTEM}|{patient.ins}")


# --- No token, bad token ----------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(client, camille):
    response = client.get("/fhir/Patient", {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert issue_codes(response) == ["login"]
    assert "jeton" in fhir_json(response)["issue"][0]["diagnostics"]
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_a_session_cookie_is_no_token(client, dr_martin, camille):
    client.force_login(dr_martin.user)
    response = client.get("/fhir/Patient", {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"})
    assert response.status_code == 401


@pytest.mark.parametrize("header", ["Bearer inconnu", "Basic Zm9vOmJhcg==", "Bearer "])
def test_unknown_or_malformed_token_is_401(client, camille, header):
    response = client.get(
        "/fhir/Patient",
        {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
        headers={"Authorization": header},
    )
    assert response.status_code == 401
    assert issue_codes(response) == ["login"]
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_expired_token_is_401(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin, expires_in=timedelta(seconds=-1))
    response = search(api, camille)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_token_in_the_query_string_is_refused(client, fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    response = client.get(
        "/fhir/Patient",
        {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}", "access_token": api.token},
    )
    assert response.status_code == 401


def test_revoked_token_is_401(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    assert search(api, camille).status_code == 200
    app = practice_software().application
    revoked = api.client.post(
        reverse("oauth2_provider:revoke-token"), {"token": api.token, "client_id": app.client_id}
    )
    assert revoked.status_code == 200
    assert search(api, camille).status_code == 401


def test_missing_scope_is_403_insufficient_scope(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin, scopes=[SCOPE_CONSENT_WRITE])
    response = search(api, camille)
    assert response.status_code == 403
    assert issue_codes(response) == ["forbidden"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert f'scope="{SCOPE_PATIENT_READ}"' in response["WWW-Authenticate"]
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


# --- Who the token is for ---------------------------------------------------------------------


def test_a_citizens_token_is_403(client, camille):
    raw, _ = issue_token(practice_software().application, user=camille.user)
    response = client.get(
        "/fhir/Patient",
        {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 403
    assert issue_codes(response) == ["forbidden"]


def test_an_inactive_professional_is_refused(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    dr_martin.user.is_active = False
    dr_martin.user.save()
    assert search(api, camille).status_code == 403


def test_an_assurance_maladie_token_may_not_read(fhir_client_for, assurance_maladie_org, camille):
    api = fhir_client_for(assurance_maladie_org)
    response = search(api, camille)
    assert response.status_code == 403
    assert issue_codes(response) == ["forbidden"]
    assert "Assurance Maladie" in fhir_json(response)["issue"][0]["diagnostics"]
    read = api.get(f"/fhir/Patient/{camille.pk}")
    assert read.status_code == 403
    consent = api.post(f"/fhir/Patient/{camille.pk}/$declarer-consentement")
    assert consent.status_code == 403
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_an_assurance_maladie_token_has_no_emergency_mode(
    fhir_client_for, assurance_maladie_org, camille
):
    api = fhir_client_for(assurance_maladie_org, mode=AccessMode.CENTRE_15)
    assert search(api, camille).status_code == 403


def test_a_user_token_naming_another_professional_is_403(
    fhir_client_for, dr_martin, dr_durand, camille
):
    api = fhir_client_for(dr_martin)
    response = search(api, camille, **{ACTING_PROFESSIONAL_HEADER: dr_durand.national_id})
    assert response.status_code == 403
    same = search(api, camille, **{ACTING_PROFESSIONAL_HEADER: dr_martin.national_id})
    assert same.status_code == 200


# --- Client credentials: a structure's server vouching for its professionals ------------------


def test_structure_server_acts_for_a_member_and_is_traced_as_vouching(
    fhir_client_for, dr_leroy, hopital, camille
):
    api = fhir_client_for(dr_leroy, via_structure=True)
    response = search(api, camille)
    assert response.status_code == 200
    patient = fhir_json(response, "Bundle")["entry"][0]["resource"]
    status = {e["url"]: e for e in patient["extension"][0]["extension"]}
    assert status["authorisation"]["valueCode"] == "authorised"
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SEARCH_PATIENT)
    assert row.actor_id == dr_leroy.national_id
    assert row.actor_kind == "professional"
    assert row.organisation_name == hopital.name
    assert row.software == f"Serveur {hopital.name} 1.0 via {hopital.name}"


def test_structure_server_must_name_the_professional(fhir_client_for, dr_leroy, camille):
    api = fhir_client_for(dr_leroy, via_structure=True)
    api.headers.pop(ACTING_PROFESSIONAL_HEADER)
    response = search(api, camille)
    assert response.status_code == 400
    assert issue_codes(response) == ["required"]
    assert fhir_json(response)["issue"][0]["expression"] == [ACTING_PROFESSIONAL_HEADER]
    bad = search(api, camille, **{ACTING_PROFESSIONAL_HEADER: "10000000020"})
    assert bad.status_code == 400
    assert issue_codes(bad) == ["value"]


def test_structure_server_may_not_act_for_an_outsider(
    fhir_client_for, dr_leroy, dr_martin, camille
):
    api = fhir_client_for(dr_leroy, via_structure=True)
    # dr_martin is real and authorised on camille's dossier, but not a member of the hospital.
    response = search(api, camille, **{ACTING_PROFESSIONAL_HEADER: dr_martin.national_id})
    assert response.status_code == 403
    assert issue_codes(response) == ["forbidden"]
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_client_credentials_through_the_token_endpoint(client, dr_leroy, hopital, camille):
    registered = register_client(
        software_name="DPI Hôpital", software_version="7.1", organisation=hopital
    )
    basic = base64.b64encode(f"{registered.client_id}:{registered.client_secret}".encode()).decode()
    response = client.post(
        reverse("oauth2_provider:token"),
        {"grant_type": "client_credentials", "scope": SCOPE_PATIENT_READ},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.content
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert "refresh_token" not in token
    stored = AccessToken.objects.get(application__client_id=registered.client_id)
    assert stored.token == ""  # only the checksum is kept at rest
    found = client.get(
        "/fhir/Patient",
        {"identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"},
        headers={
            "Authorization": f"Bearer {token['access_token']}",
            ACTING_PROFESSIONAL_HEADER: dr_leroy.national_id,
        },
    )
    assert found.status_code == 200
    row = Trace.objects.get(patient_id=camille.pk)
    assert row.software == f"DPI Hôpital 7.1 via {hopital.name}"


def test_a_client_without_structure_cannot_use_client_credentials(client):
    registered = register_client(
        software_name="Logiciel", software_version="1", redirect_uris=REDIRECT_URI
    )
    response = client.post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
        },
    )
    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()


def _basic(registered: Any) -> dict[str, str]:
    pair = f"{registered.client_id}:{registered.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def test_introspection_only_for_the_tokens_own_client(client, dr_leroy, hopital, settings):
    """RFC 7662 §4 (issue 13 §6): a client learns about its own tokens only; a declared
    resource server about any; anyone else, and a client asking about another's token, get
    `active: false` (nothing about the token's scope or user)."""
    own = register_client(software_name="Serveur", software_version="1", organisation=hopital)
    raw, _ = issue_token(own.client.application, scopes=[SCOPE_DOCUMENT_READ])
    url = reverse("oauth2_provider:introspect")

    mine = client.post(url, {"token": raw}, headers=_basic(own))
    assert mine.status_code == 200
    assert mine.json()["active"] is True
    assert mine.json()["scope"] == SCOPE_DOCUMENT_READ
    assert mine["Cache-Control"] == "no-store"

    other = register_client(software_name="Passerelle", software_version="2", organisation=hopital)
    theirs = client.post(url, {"token": raw}, headers=_basic(other))
    assert theirs.status_code == 200
    assert theirs.json() == {"active": False}

    settings.MES_OAUTH_INTROSPECTION_CLIENTS = [other.client_id]
    resource_server = client.post(url, {"token": raw}, headers=_basic(other))
    assert resource_server.json()["active"] is True

    anonymous = client.post(url, {"token": raw})
    assert anonymous.status_code in (401, 403)


# --- The access mode, on every request --------------------------------------------------------


def test_the_mode_is_traced_on_every_request(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    search(api, camille)
    row = Trace.objects.get(patient_id=camille.pk)
    assert row.access_mode == "normal"
    assert row.software == f"{LPS_NAME} {LPS_VERSION}"


def test_unknown_mode_is_400(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    response = search(api, camille, **{MODE_HEADER: "urgence"})
    assert response.status_code == 400
    assert issue_codes(response) == ["value"]
    assert fhir_json(response)["issue"][0]["expression"] == [MODE_HEADER]


def test_break_glass_needs_a_justification(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS)
    response = api.get(f"/fhir/Patient/{camille.pk}")
    assert response.status_code == 400
    assert issue_codes(response) == ["required"]
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_the_justification_travels_percent_encoded(fhir_client_for, dr_durand, camille):
    reason = "Patiente inconsciente aux urgences, état de choc"
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification=reason)
    assert api.headers[JUSTIFICATION_HEADER] == quote(reason, safe="")
    response = api.get(f"/fhir/Patient/{camille.pk}")
    assert response.status_code == 200
    opened = Trace.objects.get(patient_id=camille.pk, action=TraceAction.BREAK_GLASS)
    assert opened.justification == reason
    assert opened.access_mode == "bris_de_glace"


def test_a_justification_that_is_not_utf8_is_400(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS)
    response = api.get(f"/fhir/Patient/{camille.pk}", headers={JUSTIFICATION_HEADER: "%FF%FE"})
    assert response.status_code == 400
    assert issue_codes(response) == ["value"]


def test_a_too_long_justification_is_400(fhir_client_for, dr_durand, camille):
    api = fhir_client_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="x" * 501)
    assert api.get(f"/fhir/Patient/{camille.pk}").status_code == 400


# --- Fail closed, methods, unknown paths ------------------------------------------------------


def test_an_endpoint_without_scopes_refuses_to_start():
    with pytest.raises(ImproperlyConfigured):
        fhir_endpoint(scopes=[])
    with pytest.raises(ImproperlyConfigured):
        fhir_endpoint(scopes=["user/Tout.read"])
    with pytest.raises(ImproperlyConfigured):
        fhir_endpoint(scopes=[SCOPE_PATIENT_READ], allow_insurer=True)


def test_every_fhir_route_declares_its_scopes_or_is_public():
    from django.urls import URLResolver, get_resolver

    from mes.fhir import urls

    assert get_resolver()  # the project's URLconf loads
    patterns = list(urls.urlpatterns)
    while patterns:  # included modules too (the apps' API under /fhir/services/)
        pattern = patterns.pop()
        if isinstance(pattern, URLResolver):
            patterns.extend(pattern.url_patterns)
            continue
        view = pattern.callback
        if view.mes_access == "fhir":
            assert view.fhir_scopes
        else:
            assert view.mes_access == "public"


def test_wrong_method_is_405_with_allow(fhir_client_for, dr_martin):
    api = fhir_client_for(dr_martin)
    response = api.post("/fhir/Patient", {})
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert issue_codes(response) == ["not-supported"]


def test_unknown_fhir_path_is_an_operation_outcome(client):
    response = client.get("/fhir/Observation")
    assert response.status_code == 501
    assert issue_codes(response) == ["not-supported"]


# --- The authorize endpoint: professionals only, PKCE required --------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def authorize_params(challenge: str | None, scope: str = "openid user/Patient.read") -> dict:
    params = {
        "response_type": "code",
        "client_id": practice_software().application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "etat-123",
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return params


def test_authorize_sends_an_anonymous_user_to_the_web_ps_login(client):
    _, challenge = pkce_pair()
    response = client.get(reverse("oauth2_provider:authorize"), authorize_params(challenge))
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.path == reverse("pro:login")
    assert parse_qs(target.query)["next"][0].startswith(reverse("oauth2_provider:authorize"))


def test_a_citizen_may_not_authorize(client, camille):
    client.force_login(camille.user)
    _, challenge = pkce_pair()
    response = client.get(reverse("oauth2_provider:authorize"), authorize_params(challenge))
    assert response.status_code == 403
    assert "Accès réservé aux professionnels de santé" in response.content.decode()
    assert not Grant.objects.exists()


def test_a_professional_gets_a_code(client, dr_martin):
    client.force_login(dr_martin.user)
    _, challenge = pkce_pair()
    response = client.get(reverse("oauth2_provider:authorize"), authorize_params(challenge))
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT_URI
    query = parse_qs(target.query)
    assert query["state"] == ["etat-123"]
    assert Grant.objects.get(code=query["code"][0]).user == dr_martin.user


def test_software_not_yet_approved_asks_the_professional_in_french(client, dr_martin):
    registered = register_client(
        software_name="Nouveau logiciel", software_version="0.9", redirect_uris=REDIRECT_URI
    )
    app = registered.client.application
    app.skip_authorization = False
    app.save()
    client.force_login(dr_martin.user)
    _, challenge = pkce_pair()
    params = {**authorize_params(challenge), "client_id": registered.client_id}
    page = client.get(reverse("oauth2_provider:authorize"), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Autoriser Nouveau logiciel 0.9" in html
    assert "Rechercher un patient par son INS" in html
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    approved = client.post(reverse("oauth2_provider:authorize"), {**data, "allow": "Autoriser"})
    assert approved.status_code == 302
    assert "code" in parse_qs(urlparse(approved["Location"]).query)
    refused = client.post(reverse("oauth2_provider:authorize"), data)
    assert parse_qs(urlparse(refused["Location"]).query)["error"] == ["access_denied"]


def test_pkce_is_required(client, dr_martin):
    client.force_login(dr_martin.user)
    response = client.get(reverse("oauth2_provider:authorize"), authorize_params(None))
    assert response.status_code == 302
    assert parse_qs(urlparse(response["Location"]).query)["error"] == ["invalid_request"]
    assert not Grant.objects.exists()


def test_a_professional_without_token_cannot_read_through_the_fhir_api(client, dr_martin, camille):
    # The refusal at the door leaves no row on the patient's chain (no patient was reached).
    response = client.get(f"/fhir/Patient/{camille.pk}")
    assert response.status_code == 401
    assert not Trace.objects.filter(patient_id=camille.pk, outcome=TraceOutcome.ALLOWED).exists()


# --- Registering clients (operators) ----------------------------------------------------------


def test_the_operator_registers_a_structure_server(hopital):
    from io import StringIO

    from django.core.management import call_command

    from mes.fhir.models import FhirClient

    out = StringIO()
    call_command(
        "fhir_client",
        "--software",
        "DPI",
        "--software-version",
        "3",
        "--finess",
        hopital.finess,
        stdout=out,
    )
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines() if "=" in line)
    client = FhirClient.objects.get(application__client_id=lines["client_id"])
    assert client.organisation == hopital
    assert client.application.authorization_grant_type == "client-credentials"
    assert client.application.client_secret != lines["client_secret"]  # hashed at rest
    listing = StringIO()
    call_command("fhir_client", "--list", stdout=listing)
    assert lines["client_id"] in listing.getvalue()


def test_practice_software_needs_a_redirect_uri():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("fhir_client", "--software", "Logiciel")
