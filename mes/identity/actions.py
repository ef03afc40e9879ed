"""Citizen login: identifiant + mot de passe, then a one-time code by e-mail or SMS
(mes-spec §3.3), with a lock-out after repeated failures (docs/decisions.md).

The two steps share one failure counter on the user: wrong passwords and wrong codes both count
toward settings.MES_LOGIN_MAX_FAILURES. Only a full success (right code) resets it.
Failures are committed before the error is raised, so a refused attempt is never rolled back
with the request, and each one on a known citizen is written to that citizen's trace.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from mes.access.actors import citizen_actor
from mes.audit import trace
from mes.audit.models import TraceAction, TraceOutcome
from mes.enrolment.policies import login_refusal as espace_login_refusal
from mes.lib.errors import InvalidInput

from .models import Citizen, OneTimeCode, Professional, User

logger = logging.getLogger("mes.identity")

# One message for an unknown identifiant and a wrong password: the form never tells which.
BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
CODE_EXPIRED = "Ce code a expiré. Demandez un nouveau code."
CODE_WRONG = "Code incorrect."
SEND_FAILED = "Le code n'a pas pu être envoyé. Réessayez dans quelques instants."
_OTP_HMAC_SALT = "mes.identity.one_time_code"


class LoginRefused(InvalidInput):
    """A login step refused; str(error) is the French message to show.

    `locked` tells the interface that the account is (now) locked, so that it can end the
    pending login rather than ask for another code.
    """

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


# --- Lock-out -----------------------------------------------------------------------------------


def _is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def lock_message(locked_until: datetime) -> str:
    """« …Réessayez après HH:MM. », the minute rounded up so the time shown is never too early."""
    local = timezone.localtime(locked_until)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return (
        "Votre compte est temporairement bloqué après "
        f"{settings.MES_LOGIN_MAX_FAILURES} tentatives infructueuses. "
        f"Réessayez après {local:%H:%M}."
    )


def _citizen_of(user: User) -> Citizen | None:
    return Citizen.objects.filter(user=user).first()


def _trace_login(user: User, *, refused_because: str = "") -> None:
    """The login, or a refused attempt, on the citizen's own chain (their activity history)."""
    citizen = _citizen_of(user)
    if citizen is None:
        return
    trace.record(
        actor=citizen_actor(citizen),
        action=TraceAction.LOGIN,
        outcome=TraceOutcome.REFUSED if refused_because else TraceOutcome.ALLOWED,
        patient_id=citizen.pk,
        reason=refused_because,
    )


def _refuse_locked(user: User) -> LoginRefused:
    """Trace an attempt on a locked account and build its error (raised by the caller)."""
    assert user.locked_until is not None
    with transaction.atomic():
        _trace_login(user, refused_because="compte temporairement bloqué")
    return LoginRefused(lock_message(user.locked_until), locked=True)


def _count_failure(user_id: int, *, reason: str, message: str) -> LoginRefused:
    """Count one failure (and lock at the limit) in a committed transaction; return the error.

    The row is locked while counting so that parallel attempts cannot share one increment.
    """
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        user.failed_logins += 1
        locked = user.failed_logins >= settings.MES_LOGIN_MAX_FAILURES
        if locked:
            user.locked_until = now + settings.MES_LOGIN_LOCK_DURATION
            # A fresh count once the lock ends; and no code sent before the lock survives it.
            user.failed_logins = 0
            OneTimeCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
                expires_at=now
            )
            reason = f"{reason} ; compte bloqué après {settings.MES_LOGIN_MAX_FAILURES} échecs"
        user.save(update_fields=["failed_logins", "locked_until"])
        _trace_login(user, refused_because=reason)
    if locked:
        assert user.locked_until is not None
        return LoginRefused(lock_message(user.locked_until), locked=True)
    return LoginRefused(message)


# --- Step 1: identifiant + mot de passe ---------------------------------------------------------


def login_check_password(
    *, identifier: str, password: str, kind: User.Kind = User.Kind.CITIZEN
) -> User:
    """First login step: the user whose identifiant and password match.

    Precondition: none (anonymous caller). Side effects: a wrong password on a known account
    counts one failure, may lock the account and is traced on the citizen's chain; nothing is
    written for an unknown identifiant. An unknown identifiant, an account of another kind, an
    inactive account and a wrong password all give the same message after running the password
    hasher once, so that neither the message nor the time tells whether an account exists.
    The user is NOT logged in: the one-time code is the second step.
    Raises LoginRefused.
    """
    now = timezone.now()
    user = User.objects.filter(username=identifier.strip(), kind=kind, is_active=True).first()
    if user is None:
        User().set_password(password)  # the hasher's cost, spent on nobody
        raise LoginRefused(BAD_CREDENTIALS)
    if _is_locked(user, now):
        User().set_password(password)  # no password oracle while locked, same cost
        raise _refuse_locked(user)
    if not user.check_password(password):
        raise _count_failure(user.pk, reason="mot de passe incorrect", message=BAD_CREDENTIALS)
    # The espace's state (mes.enrolment, issue 14): closed, suspended, not activated.
    if refusal := espace_login_refusal(user.pk):
        raise LoginRefused(refusal)
    return user


# --- Step 2: the one-time code ------------------------------------------------------------------


def _code_hash(user: User, code: str) -> str:
    """HMAC-SHA256 keyed by a key derived from SECRET_KEY: a stolen table alone cannot be
    brute-forced over the million possible codes."""
    return salted_hmac(_OTP_HMAC_SALT, f"{user.pk}:{code}", algorithm="sha256").hexdigest()


def _validity_minutes() -> int:
    return math.ceil(settings.MES_OTP_VALIDITY.total_seconds() / 60)


def _message_text(code: str) -> str:
    minutes = _validity_minutes()
    return (
        f"Votre code de connexion à Mon espace santé : {code}\n"
        f"Il est valable {minutes} minutes et ne sert qu'une fois.\n"
        "Ne le communiquez jamais à personne, même par téléphone : ni l'Assurance Maladie ni "
        "un professionnel de santé ne vous le demandera."
    )


def email_address_of(user: User) -> str:
    """Where e-mailed codes go: the login's address, else the citizen's or the professional's."""
    if user.email:
        return user.email
    citizen = _citizen_of(user)
    if citizen is not None:
        return citizen.email
    professional = Professional.objects.filter(user=user).first()
    return professional.email if professional else ""


def one_time_code_send(*, user: User, channel: str) -> OneTimeCode:
    """Send a new login code to the user by e-mail or SMS; return its (hashed) record.

    Precondition: the user passed the password step (the interface guarantees it) and is not
    locked. Side effects: earlier unused codes of the user stop working; the new code, drawn
    with `secrets`, is stored only as its HMAC and expires after settings.MES_OTP_VALIDITY;
    the message leaves synchronously (the person is waiting for it).
    Raises LoginRefused (locked account, unusable channel, delivery failure).
    """
    now = timezone.now()
    if _is_locked(user, now):
        raise _refuse_locked(user)
    if channel == OneTimeCode.Channel.SMS:
        destination = user.phone
        if not destination:
            raise LoginRefused("Aucun numéro de téléphone mobile n'est enregistré sur ce compte.")
    elif channel == OneTimeCode.Channel.EMAIL:
        destination = email_address_of(user)
        if not destination:
            raise LoginRefused("Aucune adresse e-mail n'est enregistrée sur ce compte.")
    else:
        raise LoginRefused("Choisissez de recevoir le code par e-mail ou par SMS.")

    last = OneTimeCode.objects.filter(user=user).order_by("-created_at").first()
    if last is not None and now - last.created_at < settings.MES_OTP_RESEND_INTERVAL:
        # Knowing the password must not let anyone flood a phone or a mailbox with codes.
        raise LoginRefused(
            "Un code vient de vous être envoyé. Patientez une minute avant d'en demander un autre."
        )
    digits = settings.MES_OTP_DIGITS
    code = f"{secrets.randbelow(10**digits):0{digits}d}"
    with transaction.atomic():
        OneTimeCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        otp = OneTimeCode.objects.create(
            user=user,
            code_hash=_code_hash(user, code),
            channel=channel,
            created_at=now,
            expires_at=now + settings.MES_OTP_VALIDITY,
        )
    text = _message_text(code)
    try:
        if channel == OneTimeCode.Channel.SMS:
            sms: Callable[[str, str], None] = import_string(settings.MES_SMS_BACKEND)
            sms(destination, text)
        else:
            send_mail(
                "Votre code de connexion à Mon espace santé",
                text,
                None,
                [destination],
            )
    except Exception as exc:  # any delivery failure (SMTP, SMS gateway) reads the same
        logger.exception("login code not delivered (user %s, %s)", user.pk, channel)
        raise LoginRefused(SEND_FAILED) from exc
    return otp


def one_time_code_verify(*, user: User, code: str) -> None:
    """Second login step: check the code the user typed against their latest code.

    Precondition: the user passed the password step. Side effects on success: the code is used
    up (used_at), the failure counter and any lock are cleared and a CONNEXION trace is written
    on the citizen's chain. A wrong code counts one failure toward the same lock-out as wrong
    passwords; an expired or already used code counts nothing (it cannot be guessed) but is
    refused. Every refusal of a citizen is traced. Raises LoginRefused.
    """
    now = timezone.now()
    if _is_locked(user, now):
        raise _refuse_locked(user)
    with transaction.atomic():
        # Locked so that two requests cannot both use the same code.
        latest = (
            OneTimeCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        expired = latest is None or latest.expires_at <= now
        if expired:
            _trace_login(user, refused_because="code expiré ou déjà utilisé")
        elif latest is not None and hmac.compare_digest(latest.code_hash, _code_hash(user, code)):
            latest.used_at = now
            latest.save(update_fields=["used_at"])
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            user.failed_logins, user.locked_until = 0, None
            _trace_login(user)
            return
    if expired:
        raise LoginRefused(CODE_EXPIRED)
    raise _count_failure(user.pk, reason="code incorrect", message=CODE_WRONG)
