"""The citizen's account (portal.md §5.7): password, forgotten password, e-mail and phone,
sessions. Every change is traced on the citizen's chain and notified in the centre and on the
old channel too (an e-mail to the previous address), so a stolen session cannot change the
account silently.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from mes.access.actors import Actor, citizen_actor
from mes.audit import trace
from mes.audit.models import TraceAction
from mes.identity.actions import one_time_code_send, one_time_code_verify
from mes.identity.models import Citizen, OneTimeCode, User
from mes.lib.errors import InvalidInput
from mes.notifications.actions import notify
from mes.notifications.models import Notification

from .models import AccountSession

logger = logging.getLogger("mes.enrolment")


def _alert(user: User, what: str, *, old_email: str = "", old_phone: str = "") -> None:
    """The centre notification, and outside the service: an e-mail to the old address (or
    the current one), and an SMS to the old mobile when it is the mobile that changed, or to
    the mobile when there is no e-mail (the person must hear of it where they still read)."""
    citizen = Citizen.objects.filter(user=user).first()
    if citizen is not None:
        notify(profile=citizen, code=Notification.Code.SECURITY_ALERT, label=what)
        trace.record(
            actor=citizen_actor(citizen),
            action=TraceAction.ACCOUNT_CHANGE,
            patient_id=citizen.pk,
            reason=what,
        )
    to = old_email or user.email or (citizen.email if citizen else "")
    if to:
        text = (
            f"Bonjour,\n\n{what}\n\nSi vous n'êtes pas à l'origine de cette modification, "
            "changez votre mot de passe et appelez le 3422."
        )
        transaction.on_commit(lambda: _send(to, text))
    phone = old_phone or ("" if to else user.phone)
    if phone:
        short = f"Mon espace santé : {what} Si ce n'est pas vous, appelez le 3422."
        transaction.on_commit(lambda: _send_sms(phone, short))


def _send(to: str, text: str) -> None:
    try:
        send_mail("Alerte de sécurité – Mon espace santé", text, None, [to])
    except Exception:  # an alert that cannot leave must not undo the change
        logger.exception("security alert not delivered")


def _send_sms(phone: str, text: str) -> None:
    try:
        send: Callable[[str, str], None] = import_string(settings.MES_SMS_BACKEND)
        send(phone, text)
    except Exception:  # an alert that cannot leave must not undo the change
        logger.exception("security alert SMS not delivered")


def password_change(*, actor: Actor, user: User, current: str, new: str) -> None:
    """Change the password; the current one is required. Raises InvalidInput."""
    if not user.check_password(current):
        raise InvalidInput("Le mot de passe actuel est incorrect.", field="current")
    _set_password(user, new)


def _set_password(user: User, new: str) -> None:
    try:
        validate_password(new, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="new") from error
    with transaction.atomic():
        user.set_password(new)
        user.save(update_fields=["password"])
        _alert(user, "Le mot de passe de votre compte Mon espace santé a été modifié.")


def password_reset_start(*, username: str, channel: str) -> None:
    """« Mot de passe oublié »: a one-time code to the account's e-mail or phone. Says nothing
    about whether the identifiant exists (the caller shows the same message)."""
    user = User.objects.filter(
        username=username.strip(), kind=User.Kind.CITIZEN, is_active=True
    ).first()
    if user is None:
        return
    try:
        one_time_code_send(user=user, channel=channel)
    except InvalidInput:
        logger.info("password reset code not sent (user %s)", user.pk)


def password_reset_finish(*, username: str, code: str, new: str, address: str) -> User:
    """The code received and the new password. Raises InvalidInput (one message for an unknown
    identifiant and a wrong code)."""
    user = User.objects.filter(
        username=username.strip(), kind=User.Kind.CITIZEN, is_active=True
    ).first()
    if user is None:
        raise InvalidInput("Code incorrect.", field="code")
    one_time_code_verify(user=user, code=code, address=address)
    _set_password(user, new)
    sessions_end_others(user=user, keep="")
    return user


def contact_change_start(*, user: User, channel: str, value: str) -> None:
    """Send a one-time code to the NEW e-mail or phone (sendOtpUpdateContact): the identity
    module's codes, sent to an unsaved copy of the user that carries the new contact."""
    target = copy.copy(user)
    if channel == OneTimeCode.Channel.EMAIL:
        target.email = value
    else:
        target.phone = value
    one_time_code_send(user=target, channel=channel)


def contact_change_finish(*, user: User, channel: str, value: str, code: str, address: str) -> None:
    """The code received on the new contact proves it; the change is made and the OLD
    e-mail address is told. Raises InvalidInput."""
    one_time_code_verify(user=user, code=code, address=address)
    old_email, old_phone = user.email, user.phone
    with transaction.atomic():
        if channel == OneTimeCode.Channel.EMAIL:
            user.email = value
            user.save(update_fields=["email"])
            Citizen.objects.filter(user=user).update(email=value)
            what = "L'adresse e-mail de votre compte Mon espace santé a été modifiée."
        else:
            user.phone = value
            user.save(update_fields=["phone"])
            what = "Le numéro de mobile de votre compte Mon espace santé a été modifié."
        _alert(user, what, old_email=old_email, old_phone=old_phone if old_phone != value else "")


def session_record(*, user: User, session_key: str, user_agent: str) -> None:
    AccountSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user, "user_agent": user_agent[:200]}
    )


def sessions_of(user: User) -> list[AccountSession]:
    """The user's sessions still alive (an expired or ended session is forgotten)."""
    alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    AccountSession.objects.filter(user=user).exclude(session_key__in=alive).delete()
    return list(AccountSession.objects.filter(user=user).order_by("-started_at"))


def sessions_end_all(*, user_id: int) -> int:
    """End every session of this login, without an alert of its own: the espace's
    transition that calls it (suspension, closure, purge) notifies the person itself."""
    rows = AccountSession.objects.filter(user_id=user_id)
    keys = list(rows.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    rows.delete()
    return len(keys)


def sessions_end_others(*, user: User, keep: str) -> int:
    """End every session of the user but `keep` (the current one)."""
    rows = AccountSession.objects.filter(user=user).exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    rows.delete()
    if keys:
        _alert(user, f"{len(keys)} autre(s) session(s) de votre compte ont été fermées.")
    return len(keys)
