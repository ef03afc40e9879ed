"""Passkeys, server side: a real (software) authenticator registers a key and signs in through
both portals' endpoints; every check that must refuse does, and refusals are traced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.identity.models import Passkey
from mes.identity.passkeys import PASSKEY_REFUSED
from mes.notifications.models import Notification

from .authenticator import SoftAuthenticator

ORIGIN = "http://testserver"
RP_ID = "testserver"


def _post_json(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _register(
    client: Client,
    authenticator: SoftAuthenticator,
    *,
    name: str = "Mon téléphone",
    origin: str = ORIGIN,
    ns: str = "portal",
) -> Any:
    options = _post_json(client, reverse(f"{ns}:passkey_register_options")).json()
    credential = authenticator.register(options, origin=origin)
    return _post_json(
        client, reverse(f"{ns}:passkey_register"), {"credential": credential, "name": name}
    )


def _sign_in(
    client: Client, authenticator: SoftAuthenticator, *, ns: str = "portal", **kwargs: Any
) -> Any:
    options = _post_json(client, reverse(f"{ns}:passkey_login_options")).json()
    kwargs.setdefault("origin", ORIGIN)
    kwargs.setdefault("rp_id", RP_ID)
    credential = authenticator.sign_in(options, **kwargs)
    return _post_json(client, reverse(f"{ns}:passkey_login"), {"credential": credential})


def _login_traces(citizen: Any) -> Any:
    return Trace.objects.filter(patient_id=citizen.pk, action=TraceAction.LOGIN).order_by("seq")


@pytest.fixture
def registered(camille: Any) -> SoftAuthenticator:
    """Camille's phone, associated to her account while she was signed in."""
    client = Client()
    client.force_login(camille.user)
    authenticator = SoftAuthenticator()
    response = _register(client, authenticator)
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "redirect": reverse("portal:passkeys")}
    return authenticator


def test_registering_keeps_only_the_public_key_traces_it_and_alerts_her(camille, registered):
    key = Passkey.objects.get(user=camille.user)
    assert key.name == "Mon téléphone"
    assert bytes(key.credential_id) == registered.credential_id
    assert key.transports == "internal"
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.ADD_PASSKEY)
    assert trace.outcome == TraceOutcome.ALLOWED
    assert trace.document_title == "Mon téléphone"
    alert = Notification.objects.get(profile=camille, code=Notification.Code.SECURITY_ALERT)
    assert "Mon téléphone" in alert.label


def test_a_passkey_signs_her_in_without_password_or_code(client, camille, registered):
    response = _sign_in(client, registered)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "redirect": reverse("portal:home")}
    assert client.session["_auth_user_id"] == str(camille.user.pk)
    trace = _login_traces(camille).get()
    assert trace.outcome == TraceOutcome.ALLOWED
    key = Passkey.objects.get(user=camille.user)
    assert key.sign_count == registered.sign_count == 1
    assert key.last_used_at is not None


def test_the_challenge_serves_once(client, camille, registered):
    options = _post_json(client, reverse("portal:passkey_login_options")).json()
    credential = registered.sign_in(options, origin=ORIGIN, rp_id=RP_ID)
    first = _post_json(client, reverse("portal:passkey_login"), {"credential": credential})
    assert first.status_code == 200
    client.logout()
    # The same answer again: its challenge is gone from the session.
    replay = _post_json(client, reverse("portal:passkey_login"), {"credential": credential})
    assert replay.status_code == 400
    assert replay.json()["message"] == PASSKEY_REFUSED
    # Nor does it pass against a new ceremony's challenge.
    _post_json(client, reverse("portal:passkey_login_options"))
    replay = _post_json(client, reverse("portal:passkey_login"), {"credential": credential})
    assert replay.status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_answer_made_for_another_origin_is_refused_and_traced(client, camille, registered):
    response = _sign_in(client, registered, origin="https://phishing.example")
    assert response.status_code == 400
    assert response.json()["message"] == PASSKEY_REFUSED
    assert "_auth_user_id" not in client.session
    trace = _login_traces(camille).get()
    assert trace.outcome == TraceOutcome.REFUSED
    assert trace.reason == "clé d'accès refusée : Mon téléphone"


def test_an_answer_for_another_relying_party_is_refused(client, camille, registered):
    response = _sign_in(client, registered, rp_id="phishing.example")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert _login_traces(camille).get().outcome == TraceOutcome.REFUSED


def test_a_registration_for_another_origin_is_refused(camille):
    client = Client()
    client.force_login(camille.user)
    response = _register(client, SoftAuthenticator(), origin="https://phishing.example")
    assert response.status_code == 400
    assert "n'a pas pu être associé" in response.json()["message"]
    assert not Passkey.objects.exists()


def test_a_counter_that_does_not_move_on_is_refused(client, camille, registered):
    assert _sign_in(client, registered).status_code == 200
    client.logout()
    # A cloned authenticator shows the count the original already used.
    response = _sign_in(client, registered, counter_step=0)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert Passkey.objects.get(user=camille.user).sign_count == 1


def test_user_verification_is_required(client, camille, registered):
    response = _sign_in(client, registered, user_verified=False)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_removed_passkey_no_longer_signs_in(client, camille, registered):
    key = Passkey.objects.get(user=camille.user)
    owner = Client()
    owner.force_login(camille.user)
    response = owner.post(reverse("portal:passkey_remove", args=[key.pk]))
    assert response["Location"] == reverse("portal:passkeys")
    assert not Passkey.objects.exists()
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.REMOVE_PASSKEY)
    assert trace.document_title == "Mon téléphone"
    assert Notification.objects.filter(
        profile=camille, code=Notification.Code.SECURITY_ALERT, label__contains="n'est plus"
    ).exists()
    response = _sign_in(client, registered)
    assert response.status_code == 400
    assert response.json()["message"] == PASSKEY_REFUSED
    assert "_auth_user_id" not in client.session


def test_she_lists_and_renames_her_devices(camille, registered):
    client = Client()
    client.force_login(camille.user)
    key = Passkey.objects.get()
    html = client.get(reverse("portal:passkeys")).content.decode()
    assert "Mon téléphone" in html
    assert "jamais utilisé pour se connecter" in html
    response = client.post(
        reverse("portal:passkey_rename", args=[key.pk]), {f"k{key.pk}-name": "  Téléphone  pro "}
    )
    assert response["Location"] == reverse("portal:passkeys")
    key.refresh_from_db()
    assert key.name == "Téléphone pro"


def test_nobody_else_renames_or_removes_her_device(bob, camille, registered):
    key = Passkey.objects.get()
    other = Client()
    other.force_login(bob.user)
    assert other.post(reverse("portal:passkey_remove", args=[key.pk])).status_code == 404
    assert (
        other.post(
            reverse("portal:passkey_rename", args=[key.pk]), {f"k{key.pk}-name": "À moi"}
        ).status_code
        == 404
    )
    assert "Aucun appareil n'est associé" in other.get(reverse("portal:passkeys")).content.decode()
    assert Passkey.objects.get().name == "Mon téléphone"


def test_anonymous_and_professionals_have_no_devices_page(client, camille, dr_durand):
    response = client.get(reverse("portal:passkeys"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert client.post(reverse("portal:passkey_register_options")).status_code == 302
    client.force_login(dr_durand.user)
    assert client.get(reverse("portal:passkeys")).status_code == 404


def test_a_citizens_key_does_not_open_the_professional_space(client, camille, registered):
    response = _sign_in(client, registered, ns="pro")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_professional_registers_and_signs_in_on_the_web_ps(client, dr_martin):
    owner = Client()
    owner.force_login(dr_martin.user)
    authenticator = SoftAuthenticator()
    response = _register(owner, authenticator, name="Poste du cabinet", ns="pro")
    assert response.json() == {"ok": True, "redirect": reverse("pro:passkeys")}
    assert "Poste du cabinet" in owner.get(reverse("pro:passkeys")).content.decode()
    trace = Trace.objects.get(action=TraceAction.ADD_PASSKEY)
    assert trace.actor_id == dr_martin.national_id
    assert trace.patient_id is None
    response = _sign_in(client, authenticator, ns="pro")
    assert response.json() == {"ok": True, "redirect": reverse("pro:home")}
    assert client.session["_auth_user_id"] == str(dr_martin.user.pk)
    # ...and not on the citizen portal.
    other = Client()
    assert _sign_in(other, authenticator).status_code == 400


def test_a_garbled_answer_is_refused_without_error(client, registered):
    _post_json(client, reverse("portal:passkey_login_options"))
    response = client.post(
        reverse("portal:passkey_login"), "pas du json", content_type="application/json"
    )
    assert response.status_code == 400
    _post_json(client, reverse("portal:passkey_login_options"))
    response = _post_json(
        client, reverse("portal:passkey_login"), {"credential": {"id": "%%%", "response": {}}}
    )
    assert response.status_code == 400
