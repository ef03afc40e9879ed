"""Camille logs in with her password and a one-time code; wrong guesses never lock her out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import PASSWORD
from mes.identity import throttle
from mes.identity.actions import (
    BAD_CREDENTIALS,
    CODE_EXHAUSTED,
    CODE_EXPIRED,
    CODE_WRONG,
    LoginRefused,
    login_check_password,
    one_time_code_send,
    one_time_code_verify,
)
from mes.identity.models import Citizen, OneTimeCode, User
from mes.notifications import sms

ADDR = "192.0.2.10"


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _code_from_mail() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match
    return match.group(1)


def _login_traces(citizen: Citizen):
    return Trace.objects.filter(patient_id=citizen.pk, action=TraceAction.LOGIN).order_by("seq")


def test_right_password_then_right_code_logs_camille_in_and_traces_it(camille):
    user = login_check_password(identifier="camille", password=PASSWORD, address=ADDR)
    assert user == camille.user
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    one_time_code_verify(user=user, code=_code_from_mail(), address=ADDR)

    trace = _login_traces(camille).get()
    assert trace.outcome == TraceOutcome.ALLOWED
    assert trace.actor_id == camille.ins
    assert OneTimeCode.objects.get(user=user).used_at is not None


def test_wrong_password_is_refused_and_counted(camille):
    with pytest.raises(LoginRefused) as refused:
        login_check_password(identifier="camille", password="pas-le-bon", address=ADDR)
    assert str(refused.value) == BAD_CREDENTIALS == "Identifiant ou mot de passe incorrect."
    assert len(throttle.recent_failures(throttle.Scope.ACCOUNT, "camille")) == 1
    assert len(throttle.recent_failures(throttle.Scope.ADDRESS, ADDR)) == 1
    trace = _login_traces(camille).get()
    assert trace.outcome == TraceOutcome.REFUSED
    assert trace.reason == "mot de passe incorrect"


def test_unknown_identifier_gets_the_same_message_and_runs_the_hasher(camille, monkeypatch):
    hashed = []
    original = User.set_password

    def spy(self, raw):
        hashed.append(raw)
        original(self, raw)

    monkeypatch.setattr(User, "set_password", spy)
    with pytest.raises(LoginRefused) as unknown:
        login_check_password(identifier="personne", password="Nimporte-quoi-1", address=ADDR)
    with pytest.raises(LoginRefused) as wrong:
        login_check_password(identifier="camille", password="Nimporte-quoi-1", address=ADDR)
    assert str(unknown.value) == str(wrong.value)
    assert hashed == ["Nimporte-quoi-1"]  # the unknown identifier still paid the hasher


def test_a_professional_account_cannot_log_in_on_the_citizen_portal(dr_durand):
    with pytest.raises(LoginRefused) as refused:
        login_check_password(identifier=dr_durand.user.username, password=PASSWORD, address=ADDR)
    assert str(refused.value) == BAD_CREDENTIALS


def test_wrong_codes_wear_the_code_out_never_the_account(camille):
    user = login_check_password(identifier="camille", password=PASSWORD, address=ADDR)
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    good = _code_from_mail()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(settings.MES_OTP_MAX_ATTEMPTS - 1):
        with pytest.raises(LoginRefused) as refused:
            one_time_code_verify(user=user, code=wrong, address=ADDR)
        assert str(refused.value) == CODE_WRONG == "Code incorrect."
    with pytest.raises(LoginRefused) as refused:
        one_time_code_verify(user=user, code=wrong, address=ADDR)
    assert str(refused.value) == CODE_EXHAUSTED
    # That code is spent: even the right one no longer opens with it...
    with pytest.raises(LoginRefused) as refused:
        one_time_code_verify(user=user, code=good, address=ADDR)
    assert str(refused.value) == CODE_EXPIRED
    # ...but the account is not locked: a new code signs Camille in.
    with time_machine.travel(timezone.now() + settings.MES_OTP_RESEND_INTERVAL):
        one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
        one_time_code_verify(user=user, code=_code_from_mail(), address=ADDR)
    assert _login_traces(camille).filter(outcome=TraceOutcome.ALLOWED).count() == 1


def test_success_forgets_the_identifiers_wrong_passwords(camille):
    with pytest.raises(LoginRefused):
        login_check_password(identifier="camille", password="faux", address=ADDR)
    user = login_check_password(identifier="camille", password=PASSWORD, address=ADDR)
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    one_time_code_verify(user=user, code=_code_from_mail(), address=ADDR)
    assert throttle.recent_failures(throttle.Scope.ACCOUNT, "camille") == []


def test_an_expired_code_is_refused(camille):
    user = camille.user
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    code = _code_from_mail()
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=16)),
        pytest.raises(LoginRefused) as refused,
    ):
        one_time_code_verify(user=user, code=code, address=ADDR)
    assert str(refused.value) == CODE_EXPIRED == "Ce code a expiré. Demandez un nouveau code."


def test_a_code_works_only_once(camille):
    user = camille.user
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    code = _code_from_mail()
    one_time_code_verify(user=user, code=code, address=ADDR)
    with pytest.raises(LoginRefused):
        one_time_code_verify(user=user, code=code, address=ADDR)
    assert _login_traces(camille).filter(outcome=TraceOutcome.ALLOWED).count() == 1


def test_a_new_code_cancels_the_previous_one(camille, settings):
    settings.MES_OTP_RESEND_INTERVAL = timedelta(0)
    user = camille.user
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    first = _code_from_mail()
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    second = _code_from_mail()
    if first != second:
        with pytest.raises(LoginRefused):
            one_time_code_verify(user=user, code=first, address=ADDR)
    one_time_code_verify(user=user, code=second, address=ADDR)


def test_only_a_keyed_hash_of_the_code_is_stored(camille):
    otp = one_time_code_send(user=camille.user, channel=OneTimeCode.Channel.EMAIL)
    code = _code_from_mail()
    otp.refresh_from_db()
    assert code not in otp.code_hash
    assert re.fullmatch(r"[0-9a-f]{64}", otp.code_hash)  # HMAC-SHA256
    assert otp.expires_at - otp.created_at == settings.MES_OTP_VALIDITY


def test_the_code_goes_by_email_with_a_warning(camille):
    one_time_code_send(user=camille.user, channel=OneTimeCode.Channel.EMAIL)
    (message,) = mail.outbox
    assert message.to == ["camille@example.org"]
    assert "code de connexion" in message.subject
    assert "15 minutes" in message.body
    assert "Ne le communiquez jamais" in message.body
    assert sms.outbox == []


def test_the_code_goes_by_sms_to_her_mobile(camille):
    user = camille.user
    user.phone = "0612345678"
    user.save()
    one_time_code_send(user=user, channel=OneTimeCode.Channel.SMS)
    ((phone, text),) = sms.outbox
    assert phone == "0612345678"
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert "15 minutes" in text
    assert mail.outbox == []
    one_time_code_verify(user=user, code=code, address=ADDR)


def test_no_sms_without_a_mobile_number(camille):
    with pytest.raises(LoginRefused, match="numéro de téléphone"):
        one_time_code_send(user=camille.user, channel=OneTimeCode.Channel.SMS)
    assert sms.outbox == []


def test_a_new_code_cannot_be_asked_for_within_a_minute(camille):
    import time_machine
    from django.utils import timezone

    from mes.identity.actions import LoginRefused, one_time_code_send

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        one_time_code_send(user=camille.user, channel="email")
        with pytest.raises(LoginRefused, match="Patientez une minute"):
            one_time_code_send(user=camille.user, channel="email")
        traveller.shift(61)
        one_time_code_send(user=camille.user, channel="email")
