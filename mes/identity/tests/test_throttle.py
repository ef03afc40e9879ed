"""Sign-in abuse (issue 13 item 5): an attacker is slowed per address and per identifier, yet
never locks the owner out; unknown and attacked identifiers answer alike; the OAuth token
endpoint is throttled before any secret is hashed."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import PASSWORD
from mes.fhir.models import register_client
from mes.identity import throttle
from mes.identity.actions import (
    BAD_CREDENTIALS,
    CODE_FIRST_REFUSED,
    CODE_FIRST_REQUIRED,
    LoginRefused,
    login_check_code_first,
    login_check_password,
    one_time_code_send_first,
)
from mes.identity.models import SignInFailure, User

ATTACKER = "198.51.100.7"
OWNER = "203.0.113.20"


@pytest.fixture(autouse=True)
def _quick_code_first(settings):
    settings.MES_SIGNIN_CODE_FIRST_MIN_DURATION = timedelta(0)


def _code_from_mail() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match
    return match.group(1)


@pytest.fixture
def hasher_calls(monkeypatch):
    """Every password hash computed or checked, in order."""
    calls: list[str] = []
    set_password, check_password = User.set_password, User.check_password

    def spy_set(self, raw):
        calls.append("hash")
        return set_password(self, raw)

    def spy_check(self, raw):
        calls.append("check")
        return check_password(self, raw)

    monkeypatch.setattr(User, "set_password", spy_set)
    monkeypatch.setattr(User, "check_password", spy_check)
    return calls


def _fail_passwords(identifier: str, count: int, *, address: str = ATTACKER) -> None:
    for _ in range(count):
        with pytest.raises(LoginRefused):
            login_check_password(identifier=identifier, password="Devine-1!", address=address)


# --- Per client address --------------------------------------------------------------------


def test_an_address_past_its_allowance_waits_a_doubling_delay(camille, settings, hasher_calls):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail_passwords("quelquun", settings.MES_SIGNIN_ADDRESS_FREE_FAILURES)
        _fail_passwords("quelquun", 1)  # the first beyond the allowance is still checked
        hasher_calls.clear()
        with pytest.raises(LoginRefused) as refused:
            login_check_password(identifier="camille", password=PASSWORD, address=ATTACKER)
    assert refused.value.throttled
    assert str(refused.value) == (
        "Trop de tentatives de connexion depuis votre connexion internet. "
        "Réessayez dans 2 secondes."
    )
    assert hasher_calls == []  # nothing hashed while the address waits
    # Camille, elsewhere, is not slowed down by it.
    with time_machine.travel(start, tick=False):
        assert login_check_password(identifier="camille", password=PASSWORD, address=OWNER)
    # Past the delay the address may try again; one more failure doubles it.
    with time_machine.travel(start + timedelta(seconds=2), tick=False):
        _fail_passwords("quelquun", 1)
        assert throttle.address_wait(ATTACKER).seconds == 4


@pytest.mark.parametrize(
    ("attempt", "words"),
    [
        (throttle.Attempt.SIGN_IN, "Trop de tentatives de connexion"),
        (throttle.Attempt.CODE, "Trop de tentatives de saisie de code"),
        (throttle.Attempt.CARD, "Trop de tentatives de saisie de carte Vitale"),
    ],
)
def test_the_wait_message_names_what_was_tried(attempt, words):
    """The enrolment pages share the sign-in's address counter, not its wording."""
    message = throttle.wait_message(throttle.Wait(seconds=120), attempt)
    assert message == f"{words} depuis votre connexion internet. Réessayez dans 2 minutes."


def test_the_delay_is_bounded(db, settings):
    now = timezone.now()
    for _ in range(settings.MES_SIGNIN_ADDRESS_FREE_FAILURES + 40):
        throttle.record_failure(throttle.Scope.ADDRESS, ATTACKER, now=now)
    assert throttle.address_wait(ATTACKER, now=now).seconds == int(
        settings.MES_SIGNIN_MAX_DELAY.total_seconds()
    )


def test_failures_older_than_the_window_are_forgotten(db, settings):
    old = timezone.now() - settings.MES_SIGNIN_WINDOW - timedelta(seconds=1)
    throttle.record_failure(throttle.Scope.ADDRESS, ATTACKER, now=old)
    throttle.record_failure(throttle.Scope.ADDRESS, OWNER)
    assert SignInFailure.objects.count() == 1
    assert throttle.recent_failures(throttle.Scope.ADDRESS, ATTACKER) == []


def test_ipv6_addresses_count_per_64_network():
    class Request:
        META = {"REMOTE_ADDR": "2001:db8:1:2:aaaa::1"}

    other = type("R", (), {"META": {"REMOTE_ADDR": "2001:db8:1:2:bbbb::9"}})
    assert throttle.client_address(Request()) == throttle.client_address(other())  # type: ignore[arg-type]
    assert throttle.client_address(Request()) == "2001:db8:1:2::/64"  # type: ignore[arg-type]


def test_the_table_holds_neither_addresses_nor_identifiers(camille):
    _fail_passwords("camille", 1)
    row = SignInFailure.objects.get(scope=throttle.Scope.ACCOUNT)
    assert re.fullmatch(r"[0-9a-f]{64}", row.key)
    assert "camille" not in row.key
    assert ATTACKER not in SignInFailure.objects.get(scope=throttle.Scope.ADDRESS).key


# --- Per identifier: the code-first road ---------------------------------------------------


def test_an_attacked_identifier_needs_a_code_first_but_is_never_locked(camille, settings):
    # An attacker from many addresses guesses Camille's password.
    for n in range(settings.MES_SIGNIN_ACCOUNT_FREE_FAILURES):
        _fail_passwords("camille", 1, address=f"198.51.100.{n + 1}")
    # Now even the right password alone does not open the account (no oracle for guesses)...
    with pytest.raises(LoginRefused) as refused:
        login_check_password(identifier="camille", password=PASSWORD, address=OWNER)
    assert refused.value.code_first
    assert str(refused.value) == CODE_FIRST_REQUIRED
    assert "code de connexion" in CODE_FIRST_REQUIRED and "clé d'accès" in CODE_FIRST_REQUIRED
    reason = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.LOGIN).last().reason
    assert "code demandé d'abord" in reason
    # ...but Camille gets in with the code she receives, then her password.
    user = one_time_code_send_first(identifier="camille", address=OWNER)
    assert user == camille.user
    signed_in = login_check_code_first(
        user=user, code=_code_from_mail(), password=PASSWORD, address=OWNER, identifier="camille"
    )
    assert signed_in == camille.user
    allowed = Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.LOGIN, outcome=TraceOutcome.ALLOWED
    )
    assert allowed.count() == 1
    # Her success clears the identifier: the password works on its own again.
    assert login_check_password(identifier="camille", password=PASSWORD, address=OWNER)


def test_unknown_and_attacked_identifiers_answer_alike_at_the_same_cost(
    camille, bob, settings, hasher_calls
):
    free = settings.MES_SIGNIN_ACCOUNT_FREE_FAILURES
    for identifier in ("camille", "personne"):
        for n in range(free):
            _fail_passwords(identifier, 1, address=f"198.51.100.{n + 1}")
    answers = {}
    for identifier in ("camille", "personne"):
        hasher_calls.clear()
        with pytest.raises(LoginRefused) as refused:
            login_check_password(identifier=identifier, password="Devine-2!", address=OWNER)
        answers[identifier] = (str(refused.value), refused.value.code_first, list(hasher_calls))
    assert answers["camille"] == answers["personne"] == (CODE_FIRST_REQUIRED, True, ["hash"])
    # And before any attack: one hash for an unknown identifier, one check for a wrong password.
    hasher_calls.clear()
    with pytest.raises(LoginRefused) as unknown:
        login_check_password(identifier="inconnu", password="Devine-3!", address=OWNER)
    with pytest.raises(LoginRefused) as wrong:
        login_check_password(identifier=bob.user.username, password="x", address="192.0.2.1")
    assert str(unknown.value) == str(wrong.value) == BAD_CREDENTIALS
    assert hasher_calls == ["hash", "check"]


def test_code_first_says_the_same_for_unknown_and_known_identifiers(camille, settings):
    settings.MES_SIGNIN_CODE_FIRST_MIN_DURATION = timedelta(milliseconds=200)
    durations = []
    for identifier in ("personne", "camille"):
        started = time.monotonic()
        one_time_code_send_first(identifier=identifier, address=OWNER)
        durations.append(time.monotonic() - started)
    assert min(durations) >= 0.2  # the floor hides the sending time
    assert len(mail.outbox) == 1  # only the real account received a code
    with pytest.raises(LoginRefused) as unknown:
        login_check_code_first(
            user=None, code="123456", password=PASSWORD, address=OWNER, identifier="personne"
        )
    good = _code_from_mail()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    with pytest.raises(LoginRefused) as known:
        login_check_code_first(
            user=camille.user, code=wrong, password=PASSWORD, address=OWNER, identifier="camille"
        )
    assert str(unknown.value) == str(known.value) == CODE_FIRST_REFUSED


def test_code_first_checks_the_password_only_after_the_right_code(camille, hasher_calls):
    one_time_code_send_first(identifier="camille", address=OWNER)
    good = _code_from_mail()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    hasher_calls.clear()
    with pytest.raises(LoginRefused):
        login_check_code_first(
            user=camille.user, code=wrong, password=PASSWORD, address=OWNER, identifier="camille"
        )
    assert hasher_calls == []  # no password can be tested without the code
    with pytest.raises(LoginRefused) as refused:
        login_check_code_first(
            user=camille.user, code=good, password="Mauvais-1!", address=OWNER, identifier="c"
        )
    assert str(refused.value) == CODE_FIRST_REFUSED
    assert hasher_calls == ["check"]
    # A typing mistake in the password does not burn the code.
    assert login_check_code_first(
        user=camille.user, code=good, password=PASSWORD, address=OWNER, identifier="camille"
    )


def test_code_first_through_the_portal_pages(client, camille):
    response = client.post(
        reverse("portal:login_code_first"), {"identifier": "camille", "channel": "email"}
    )
    assert response["Location"] == reverse("portal:login_code_first_check")
    page = client.get(response["Location"]).content.decode()
    assert "Si un compte correspond à cet identifiant" in page
    response = client.post(
        reverse("portal:login_code_first_check"),
        {"code": _code_from_mail(), "password": PASSWORD},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(camille.user.pk)


def test_code_first_for_an_unknown_identifier_looks_the_same(client, db):
    response = client.post(
        reverse("portal:login_code_first"), {"identifier": "personne", "channel": "email"}
    )
    assert response["Location"] == reverse("portal:login_code_first_check")
    assert mail.outbox == []
    response = client.post(
        reverse("portal:login_code_first_check"), {"code": "123456", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert CODE_FIRST_REFUSED in response.content.decode()


def test_the_login_page_offers_the_code_first_road(client, camille, settings):
    for n in range(settings.MES_SIGNIN_ACCOUNT_FREE_FAILURES):
        _fail_passwords("camille", 1, address=f"198.51.100.{n + 1}")
    response = client.post(
        reverse("portal:login"),
        {"identifier": "camille", "password": PASSWORD, "channel": "email"},
    )
    html = response.content.decode()
    assert "Recevoir un code d&#x27;abord" in html or "Recevoir un code d'abord" in html
    assert reverse("portal:login_code_first") in html
    assert mail.outbox == []


def test_a_professional_under_attack_gets_in_by_the_code_first_road(client, dr_martin, settings):
    rpps = dr_martin.user.username
    dr_martin.email = "anne.martin@cabinet.example"
    dr_martin.save()
    for n in range(settings.MES_SIGNIN_ACCOUNT_FREE_FAILURES):
        _fail_passwords(rpps, 1, address=f"198.51.100.{n + 1}")
    with pytest.raises(LoginRefused) as refused:
        login_check_password(
            identifier=rpps, password=PASSWORD, address=OWNER, kind=User.Kind.PROFESSIONAL
        )
    assert refused.value.code_first
    response = client.post(reverse("pro:login_code_first"), {"identifier": rpps})
    assert response["Location"] == reverse("pro:login_code_first_check")
    response = client.post(
        reverse("pro:login_code_first_check"), {"code": _code_from_mail(), "password": PASSWORD}
    )
    assert response["Location"] == reverse("pro:home")
    assert client.session["_auth_user_id"] == str(dr_martin.user.pk)


# --- The OAuth token endpoint --------------------------------------------------------------


def _token_request(client: Client, client_id: str, secret: str, address: str = ATTACKER):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        reverse("oauth2_provider:token"),
        {"grant_type": "client_credentials", "scope": "user/DocumentReference.read"},
        headers={"Authorization": f"Basic {basic}"},
        REMOTE_ADDR=address,
    )


def test_the_token_endpoint_slows_down_secret_guessing(client, hopital_org, settings, monkeypatch):
    registered = register_client(
        software_name="DPI", software_version="1", organisation=hopital_org
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.MES_TOKEN_ADDRESS_FREE_FAILURES + 1):
            assert _token_request(client, registered.client_id, "devine").status_code == 401
        checked = []
        monkeypatch.setattr(
            "oauth2_provider.oauth2_validators.OAuth2Validator.authenticate_client",
            lambda *a, **k: checked.append(1) or False,
        )
        response = _token_request(client, registered.client_id, registered.client_secret)
        assert response.status_code == 429
        assert response["Retry-After"] == "2"
        assert response.json()["error"] == "invalid_request"
        assert checked == []  # refused before any secret is hashed
        monkeypatch.undo()
        # The client's own server, at another address, still gets its token.
        other = _token_request(
            client, registered.client_id, registered.client_secret, address=OWNER
        )
        assert other.status_code == 200, other.content
    with time_machine.travel(start + timedelta(seconds=3), tick=False):
        response = _token_request(client, registered.client_id, registered.client_secret)
        assert response.status_code == 200


def test_unknown_client_ids_are_counted_too(client, db, settings):
    for _ in range(settings.MES_TOKEN_ADDRESS_FREE_FAILURES + 1):
        _token_request(client, "inconnu", "devine")
    assert _token_request(client, "inconnu", "devine").status_code == 429


@pytest.fixture
def hopital_org(db):
    from mes.identity.models import Organisation

    return Organisation.objects.create(
        finess="750000001", name="Hôpital Saint-Louis", kind=Organisation.Kind.HOSPITAL
    )


def test_the_throttled_token_endpoint_still_needs_no_csrf_token(hopital_org):
    registered = register_client(
        software_name="DPI", software_version="1", organisation=hopital_org
    )
    client = Client(enforce_csrf_checks=True)
    response = _token_request(client, registered.client_id, registered.client_secret)
    assert response.status_code == 200, response.content
