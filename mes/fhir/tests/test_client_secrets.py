"""OAuth client secrets are kept with a fast salted SHA-256 (mes/fhir/auth/client_secrets.py),
people's passwords still with Argon2; a wrong secret is refused and counted as before, and a
secret hashed with Argon2 before still works and moves to the fast hasher on its next use."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import Application

from config import base
from mes.fhir.auth import client_secrets
from mes.fhir.auth.client_secrets import ALGORITHM, MIN_LENGTH, ClientSecretHasher
from mes.fhir.models import FhirClient, register_client
from mes.identity.models import Organisation, SignInFailure

OWNER = "203.0.113.10"


@pytest.fixture
def production_hashers(settings: Any) -> None:
    """The deployed PASSWORD_HASHERS (the tests' settings use MD5 for people's passwords)."""
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


@pytest.fixture
def hospital(db: Any) -> Organisation:
    return Organisation.objects.create(
        finess="750000001", name="Hôpital Saint-Louis", kind=Organisation.Kind.HOSPITAL
    )


def _token(client: Client, client_id: str, secret: str, *, in_body: bool = False) -> Any:
    data = {"grant_type": "client_credentials", "scope": "user/DocumentReference.read"}
    if in_body:  # client_secret_post (RFC 6749 §2.3.1)
        return client.post(
            reverse("oauth2_provider:token"),
            {**data, "client_id": client_id, "client_secret": secret},
            REMOTE_ADDR=OWNER,
        )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        reverse("oauth2_provider:token"),
        data,
        headers={"Authorization": f"Basic {basic}"},
        REMOTE_ADDR=OWNER,
    )


def _stored(client_id: str) -> str:
    return str(Application.objects.get(client_id=client_id).client_secret)


def test_a_client_secret_is_kept_with_the_fast_hasher_and_a_password_with_argon2(
    production_hashers: None, hospital: Organisation, django_user_model: Any
) -> None:
    registered = register_client(software_name="DPI", software_version="1", organisation=hospital)
    stored = _stored(registered.client_id)
    assert stored.startswith(f"{ALGORITHM}$")
    assert registered.client_secret not in stored
    assert check_password(registered.client_secret, stored)

    user = django_user_model.objects.create_user(username="camille", password="Un-mot2passe!")
    assert user.password.startswith("argon2$argon2id$v=19$m=65536,t=3,p=4$")
    # The fast hasher is never the default one, whatever asks for a hash.
    assert make_password("Un-mot2passe!").startswith("argon2$")


@pytest.mark.parametrize("in_body", [False, True], ids=["basic", "post"])
def test_the_right_secret_gets_a_token_and_a_wrong_one_is_refused_and_counted(
    client: Client, hospital: Organisation, in_body: bool
) -> None:
    registered = register_client(software_name="DPI", software_version="1", organisation=hospital)
    stored = _stored(registered.client_id)

    response = _token(client, registered.client_id, registered.client_secret, in_body=in_body)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]
    assert SignInFailure.objects.count() == 0

    wrong = registered.client_secret[:-1] + ("A" if registered.client_secret[-1] != "A" else "B")
    response = _token(client, registered.client_id, wrong, in_body=in_body)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # Counted for the throttle, by client address and by client id, exactly as before.
    assert sorted(SignInFailure.objects.values_list("scope", flat=True)) == [
        SignInFailure.Scope.TOKEN_ADDRESS,
        SignInFailure.Scope.TOKEN_CLIENT,
    ]
    assert _stored(registered.client_id) == stored  # nothing re-hashed for a wrong secret


def test_a_secret_hashed_with_argon2_still_works_and_moves_to_the_fast_hasher(
    production_hashers: None, client: Client, hospital: Organisation
) -> None:
    registered = register_client(software_name="DPI", software_version="1", organisation=hospital)
    legacy = make_password(registered.client_secret, hasher="argon2")  # as stored before
    Application.objects.filter(client_id=registered.client_id).update(client_secret=legacy)

    wrong = secrets.token_urlsafe(32)
    assert _token(client, registered.client_id, wrong).status_code == 401
    assert _stored(registered.client_id) == legacy  # a wrong secret changes nothing

    response = _token(client, registered.client_id, registered.client_secret)
    assert response.status_code == 200, response.content
    upgraded = _stored(registered.client_id)
    assert upgraded.startswith(f"{ALGORITHM}$")
    assert check_password(registered.client_secret, upgraded)
    # And it keeps working under its new hash.
    assert _token(client, registered.client_id, registered.client_secret).status_code == 200
    assert _stored(registered.client_id) == upgraded


def test_the_hasher_refuses_wrong_and_malformed_hashes_and_salts_each_one() -> None:
    hasher = ClientSecretHasher()
    secret = secrets.token_urlsafe(32)
    one = make_password(secret, hasher=ALGORITHM)
    two = make_password(secret, hasher=ALGORITHM)
    assert one != two  # salted: the same secret never gives the same hash
    assert hasher.verify(secret, one) and hasher.verify(secret, two)
    assert not hasher.verify(secret + "x", one)
    assert not hasher.verify(secret, f"{ALGORITHM}$sans-condensat")
    assert not hasher.verify(secret, one.replace(ALGORITHM, "md5", 1))
    assert not hasher.must_update(one)
    summary = hasher.safe_summary(one)
    assert summary["algorithm"] == ALGORITHM
    assert one.split("$")[2] not in str(summary)  # the digest is masked
    assert type(identify_hasher(one)) is ClientSecretHasher


def test_a_short_secret_is_refused_and_nothing_is_stored(hospital: Organisation) -> None:
    with pytest.raises(ValueError, match=f"au moins {MIN_LENGTH} caractères"):
        register_client(
            software_name="DPI",
            software_version="1",
            organisation=hospital,
            client_secret="motdepasse",
        )
    assert not Application.objects.exists()
    assert not FhirClient.objects.exists()
    # A public client (desktop software, PKCE) has no secret at all: registered as before.
    public = register_client(
        software_name="Logiciel", redirect_uris="http://127.0.0.1/callback", confidential=False
    )
    assert public.client_secret == ""
    assert _stored(public.client_id).startswith(f"{ALGORITHM}$")


def test_only_a_secret_hashed_otherwise_is_rehashed(production_hashers: None) -> None:
    secret = secrets.token_urlsafe(32)
    # Kept in clear on purpose (hash_client_secret=False, an HS256 key): left as it is.
    assert not client_secrets.needs_rehash(secret)
    assert not client_secrets.needs_rehash(make_password(secret, hasher=ALGORITHM))
    assert client_secrets.needs_rehash(make_password(secret, hasher="argon2"))
    # A legacy secret too short for the fast hasher keeps its Argon2 hash (no row is touched).
    assert not client_secrets.rehash_if_needed(
        stored=make_password("court", hasher="argon2"), secret="court"
    )
