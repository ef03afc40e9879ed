"""Sign-in: identifiant + mot de passe, then a one-time code by e-mail or SMS (mes-spec §3.3);
or, once an identifier has collected too many wrong passwords, the code first and then the
password; or a passkey (mes.identity.passkeys).

No account is ever locked (issue 13 item 5): guessing is slowed per client address and, per
identifier, pushed onto the « code first » road that only the owner can walk (mes.identity.
throttle). Each refused attempt on a known citizen is written to that citizen's trace, in a
committed transaction, so that it is never rolled back with the request.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from datetime import datetime

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

from . import throttle
from .models import Citizen, OneTimeCode, Professional, User

logger = logging.getLogger("mes.identity")

# One message for an unknown identifiant and a wrong password: the form never tells which.
BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
# The same for every identifier, known or not, once it collected too many wrong passwords.
CODE_FIRST_REQUIRED = (
    "Après plusieurs essais infructueux, la connexion à ce compte demande d'abord un code de "
    "connexion : choisissez « Recevoir un code d'abord », ou utilisez une clé d'accès."
)
# The « code first » road says the same for every refusal, known identifier or not.
CODE_FIRST_REFUSED = (
    "Code ou mot de passe incorrect, ou code expiré : vérifiez-les ou demandez un nouveau code."
)
CODE_EXPIRED = "Ce code a expiré. Demandez un nouveau code."
CODE_WRONG = "Code incorrect."
CODE_EXHAUSTED = "Code incorrect. Ce code ne fonctionne plus : demandez un nouveau code."
SEND_FAILED = "Le code n'a pas pu être envoyé. Réessayez dans quelques instants."
_OTP_HMAC_SALT = "mes.identity.one_time_code"


class LoginRefused(InvalidInput):
    """A sign-in step refused; str(error) is the French message to show.

    `code_first` tells the interface to offer the « code first » road (the identifier collected
    too many wrong passwords); `throttled` that the client must wait before trying again.
    """

    def __init__(self, message: str, *, code_first: bool = False, throttled: bool = False) -> None:
        super().__init__(message)
        self.code_first = code_first
        self.throttled = throttled


def _citizen_of(user: User) -> Citizen | None:
    return Citizen.objects.filter(user=user).first()


def trace_login(user: User, *, refused_because: str = "") -> None:
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


def _spend_hasher(password: str) -> None:
    """Run the password hasher once on nobody, so that every refusal costs what a check costs."""
    User().set_password(password)


def _check_address(address: str) -> None:
    wait = throttle.address_wait(address)
    if wait.required:
        # Nothing is hashed while the address waits: a flood costs the server nothing.
        raise LoginRefused(throttle.wait_message(wait), throttled=True)


def _fail(
    *, address: str, identifier: str, user: User | None, reason: str, message: str, **flags: bool
) -> LoginRefused:
    """Count one failure for the address and the identifier, trace it on a known citizen's
    chain, in a committed transaction; return the error for the caller to raise."""
    with transaction.atomic():
        throttle.record_failure(throttle.Scope.ADDRESS, address)
        if identifier:
            throttle.record_failure(
                throttle.Scope.ACCOUNT, throttle.normalised_identifier(identifier)
            )
        if user is not None:
            trace_login(user, refused_because=reason)
    return LoginRefused(message, **flags)


def check_espace_allows_login(user: User) -> None:
    """The espace's state (mes.enrolment, issue 14): a closed, suspended or not-yet-activated
    espace does not sign in, whichever road (password, code first, passkey). Raises
    LoginRefused."""
    if refusal := espace_login_refusal(user.pk):
        raise LoginRefused(refusal)


def login_succeeded(user: User) -> None:
    """A full sign-in: the identifier's wrong passwords are forgotten, the login traced."""
    with transaction.atomic():
        throttle.clear_failures(
            throttle.Scope.ACCOUNT, throttle.normalised_identifier(user.username)
        )
        trace_login(user)


# --- Step 1: identifiant + mot de passe ---------------------------------------------------------


def _active_user(identifier: str, kind: User.Kind) -> User | None:
    return User.objects.filter(username=identifier.strip(), kind=kind, is_active=True).first()


def login_check_password(
    *,
    identifier: str,
    password: str,
    address: str,
    kind: User.Kind = User.Kind.CITIZEN,
) -> User:
    """First login step: the user whose identifiant and password match.

    Precondition: none (anonymous caller); `address` is the client's (throttle.client_address).
    An address past its allowance waits (nothing is checked meanwhile). An identifier past its
    allowance of wrong passwords — known or not — gets CODE_FIRST_REQUIRED: its password is
    then checked only with a code asked for first. Otherwise an unknown identifiant, an account
    of another kind, an inactive account and a wrong password give the same message after
    running the password hasher once, so that neither the message nor the time tells whether an
    account exists. Every failure counts for the address and the identifier and is traced on a
    known citizen's chain. The user is NOT logged in: the one-time code is the second step.
    Raises LoginRefused.
    """
    _check_address(address)
    user = _active_user(identifier, kind)
    if throttle.identifier_needs_code_first(identifier):
        _spend_hasher(password)
        raise _fail(
            address=address,
            identifier=identifier,  # an attack going on keeps the code-first road required
            user=user,
            reason="mot de passe seul refusé après plusieurs échecs (code demandé d'abord)",
            message=CODE_FIRST_REQUIRED,
            code_first=True,
        )
    if user is None:
        _spend_hasher(password)
        raise _fail(
            address=address, identifier=identifier, user=None, reason="", message=BAD_CREDENTIALS
        )
    if not user.check_password(password):
        raise _fail(
            address=address,
            identifier=identifier,
            user=user,
            reason="mot de passe incorrect",
            message=BAD_CREDENTIALS,
        )
    check_espace_allows_login(user)
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

    Precondition: the user passed the password step, or asked for a code first (the interface
    guarantees it). Side effects: earlier unused codes of the user stop working; the new code,
    drawn with `secrets`, is stored only as its HMAC and expires after settings.MES_OTP_VALIDITY;
    the message leaves synchronously (the person is waiting for it).
    Raises LoginRefused (unusable channel, a code sent less than a minute ago, delivery failure).
    """
    now = timezone.now()
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


def _try_code(user: User, code: str, now: datetime) -> tuple[OneTimeCode | None, str]:
    """Check `code` against the user's latest code, inside the caller's transaction.

    Returns (the code's row, "") when right — not yet used up, the caller decides — or
    (None, why) when refused: "expired" (expired, used, or out of attempts: nothing to guess)
    or "wrong" (one attempt counted on the code; "exhausted" when that was its last).
    """
    # Locked so that two requests cannot both use the same code or share one attempt.
    latest = (
        OneTimeCode.objects.select_for_update()
        .filter(user=user, used_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    if (
        latest is None
        or latest.expires_at <= now
        or latest.attempts >= settings.MES_OTP_MAX_ATTEMPTS
    ):
        return None, "expired"
    if hmac.compare_digest(latest.code_hash, _code_hash(user, code)):
        return latest, ""
    latest.attempts += 1
    latest.save(update_fields=["attempts"])
    return None, "exhausted" if latest.attempts >= settings.MES_OTP_MAX_ATTEMPTS else "wrong"


def one_time_code_verify(*, user: User, code: str, address: str) -> None:
    """Second login step: check the code the user typed against their latest code.

    Precondition: the user passed the password step. Side effects on success: the code is used
    up (used_at), the identifier's wrong passwords are forgotten and a CONNEXION trace is
    written on the citizen's chain. A wrong code counts one attempt on the code (past
    settings.MES_OTP_MAX_ATTEMPTS it stops working and a new one must be asked for) and one
    failure for the address; an expired or used code is refused. Every refusal of a citizen is
    traced. Raises LoginRefused.
    """
    _check_address(address)
    now = timezone.now()
    with transaction.atomic():
        otp, why = _try_code(user, code, now)
        if otp is not None:
            otp.used_at = now
            otp.save(update_fields=["used_at"])
            login_succeeded(user)
            return
    if why == "expired":
        with transaction.atomic():
            trace_login(user, refused_because="code expiré ou déjà utilisé")
        raise LoginRefused(CODE_EXPIRED)
    raise _fail(
        address=address,
        identifier="",
        user=user,
        reason="code incorrect",
        message=CODE_EXHAUSTED if why == "exhausted" else CODE_WRONG,
    )


# --- « Recevoir un code d'abord »: the code, then the password ----------------------------------


def one_time_code_send_first(
    *, identifier: str, address: str, kind: User.Kind = User.Kind.CITIZEN, channel: str = "email"
) -> User | None:
    """Send a code to the account of `identifier`, if there is one, before any password.

    The road that stays open to the owner whatever an attacker does with their identifier.
    Precondition: none (anonymous caller). The answer takes at least
    settings.MES_SIGNIN_CODE_FIRST_MIN_DURATION and says the same whether the account exists or
    not (a code asked for too soon, or undeliverable, is not told either): the caller shows
    « si un compte correspond… ». Returns the user (to remember between steps) or None.
    Raises LoginRefused only when the address must wait.
    """
    started = time.monotonic()
    _check_address(address)
    user = _active_user(identifier, kind)
    if kind == User.Kind.PROFESSIONAL and user is not None:
        user = user if Professional.objects.filter(user=user).exists() else None
    if user is not None:
        if channel == OneTimeCode.Channel.SMS and not user.phone:
            channel = OneTimeCode.Channel.EMAIL  # said beforehand on the form
        try:
            one_time_code_send(user=user, channel=channel)
        except LoginRefused:
            logger.info("code-first: no new code sent (user %s)", user.pk)
    floor = settings.MES_SIGNIN_CODE_FIRST_MIN_DURATION.total_seconds()
    time.sleep(max(0.0, floor - (time.monotonic() - started)))
    return user


def login_check_code_first(
    *, user: User | None, code: str, password: str, address: str, identifier: str
) -> User:
    """The « code first » road: the code received, then the password; the user if both match.

    Precondition: one_time_code_send_first was called for `identifier` (`user` is what it
    returned: None for an unknown identifier, which is refused like a wrong code). The password
    is checked only once the code is right, so that nobody without the owner's mailbox or phone
    can test passwords here. A wrong code or password counts one attempt on the code and one
    failure for the address; the code serves until both are right (or its attempts run out).
    On success the code is used up, the identifier's failures forgotten, the login traced.
    Every refusal reads CODE_FIRST_REFUSED (an expired code too: the known and the unknown
    identifier must answer alike). Raises LoginRefused.
    """
    _check_address(address)
    if user is None:
        raise _fail(
            address=address, identifier="", user=None, reason="", message=CODE_FIRST_REFUSED
        )
    now = timezone.now()
    with transaction.atomic():
        otp, _why = _try_code(user, code, now)
        if otp is not None:
            if user.check_password(password):
                check_espace_allows_login(user)
                otp.used_at = now
                otp.save(update_fields=["used_at"])
                login_succeeded(user)
                return user
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
    raise _fail(
        address=address,
        identifier="",
        user=user,
        reason="code ou mot de passe incorrect (code demandé d'abord)",
        message=CODE_FIRST_REFUSED,
    )
