"""Camille logs in with her password and a one-time code; wrong guesses lock her account."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import PASSWORD
from mes.identity.actions import (
    BAD_CREDENTIALS,
    CODE_EXPIRED,
    CODE_WRONG,
    LoginRefused,
    login_check_password,
    one_time_code_send,
    one_time_code_verify,
)
from mes.identity.models import Citizen, OneTimeCode, User
from mes.notifications import sms

PARIS = ZoneInfo("Europe/Paris")


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
    user = login_check_password(identifier="camille", password=PASSWORD)
    assert user == camille.user
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    one_time_code_verify(user=user, code=_code_from_mail())

    trace = _login_traces(camille).get()
    assert trace.outcome == TraceOutcome.ALLOWED
    assert trace.actor_id == camille.ins
    assert OneTimeCode.objects.get(user=user).used_at is not None


def test_wrong_password_is_refused_and_counted(camille):
    with pytest.raises(LoginRefused) as refused:
        login_check_password(identifier="camille", password="pas-le-bon")
    assert str(refused.value) == BAD_CREDENTIALS == "Identifiant ou mot de passe incorrect."
    camille.user.refresh_from_db()
    assert camille.user.failed_logins == 1
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
        login_check_password(identifier="personne", password="Nimporte-quoi-1")
    with pytest.raises(LoginRefused) as wrong:
        login_check_password(identifier="camille", password="Nimporte-quoi-1")
    assert str(unknown.value) == str(wrong.value)
    assert hashed == ["Nimporte-quoi-1"]  # the unknown identifier still paid the hasher


def test_a_professional_account_cannot_log_in_on_the_citizen_portal(dr_durand):
    with pytest.raises(LoginRefused) as refused:
        login_check_password(identifier=dr_durand.user.username, password=PASSWORD)
    assert str(refused.value) == BAD_CREDENTIALS


def test_five_failures_lock_the_account_and_say_until_when(camille):
    start = datetime(2026, 3, 10, 14, 2, 0, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        for _ in range(settings.MES_LOGIN_MAX_FAILURES - 1):
            with pytest.raises(LoginRefused) as refused:
                login_check_password(identifier="camille", password="faux")
            assert str(refused.value) == BAD_CREDENTIALS
        with pytest.raises(LoginRefused) as refused:
            login_check_password(identifier="camille", password="faux")
    assert refused.value.locked
    assert str(refused.value) == (
        "Votre compte est temporairement bloqué après 5 tentatives infructueuses. "
        "Réessayez après 14:17."
    )
    camille.user.refresh_from_db()
    assert camille.user.locked_until == start + settings.MES_LOGIN_LOCK_DURATION
    assert "compte bloqué" in _login_traces(camille).last().reason


def test_a_locked_account_is_refused_even_with_the_right_password(camille):
    user = camille.user
    user.locked_until = timezone.now() + timedelta(minutes=10)
    user.save()
    with pytest.raises(LoginRefused) as refused:
        login_check_password(identifier="camille", password=PASSWORD)
    assert refused.value.locked
    assert "temporairement bloqué" in str(refused.value)
    assert _login_traces(camille).get().reason == "compte temporairement bloqué"
    # and no code is sent to a locked account
    with pytest.raises(LoginRefused):
        one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    assert mail.outbox == []


def test_the_lock_ends_after_its_duration(camille):
    user = camille.user
    user.locked_until = timezone.now() + timedelta(minutes=1)
    user.save()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert login_check_password(identifier="camille", password=PASSWORD) == user


def test_wrong_codes_count_toward_the_same_lock_out(camille):
    user = camille.user
    with pytest.raises(LoginRefused):
        login_check_password(identifier="camille", password="faux")
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    good = _code_from_mail()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(settings.MES_LOGIN_MAX_FAILURES - 2):
        with pytest.raises(LoginRefused) as refused:
            one_time_code_verify(user=user, code=wrong)
        assert str(refused.value) == CODE_WRONG == "Code incorrect."
    with pytest.raises(LoginRefused) as refused:
        one_time_code_verify(user=user, code=wrong)
    assert refused.value.locked
    user.refresh_from_db()
    # Locked: even the right code no longer opens the account.
    with pytest.raises(LoginRefused) as refused:
        one_time_code_verify(user=user, code=good)
    assert refused.value.locked


def test_success_resets_the_failure_count(camille):
    with pytest.raises(LoginRefused):
        login_check_password(identifier="camille", password="faux")
    user = login_check_password(identifier="camille", password=PASSWORD)
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    one_time_code_verify(user=user, code=_code_from_mail())
    user.refresh_from_db()
    assert user.failed_logins == 0


def test_an_expired_code_is_refused(camille):
    user = camille.user
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    code = _code_from_mail()
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=16)),
        pytest.raises(LoginRefused) as refused,
    ):
        one_time_code_verify(user=user, code=code)
    assert str(refused.value) == CODE_EXPIRED == "Ce code a expiré. Demandez un nouveau code."
    user.refresh_from_db()
    assert user.failed_logins == 0  # nothing to guess in an expired code


def test_a_code_works_only_once(camille):
    user = camille.user
    one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
    code = _code_from_mail()
    one_time_code_verify(user=user, code=code)
    with pytest.raises(LoginRefused):
        one_time_code_verify(user=user, code=code)
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
            one_time_code_verify(user=user, code=first)
    one_time_code_verify(user=user, code=second)


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
    one_time_code_verify(user=user, code=code)


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
