"""Passkeys (WebAuthn, « appareils associés »): a « substantiel » sign-in in one gesture
(portal.md §11.3, issue 8 item 7), with py_webauthn doing every cryptographic check.

The ceremony's challenge is made here and kept by the interface (in the session) until the
browser answers; the interface hands it back exactly once, so that no answer can be replayed.
Registration asks for user verification and a discoverable credential (the key names the
account itself: no identifier to type); sign-in requires user verification, checks the origin,
the relying party and the signature counter, and refuses a removed key like an unknown one.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from mes.access.actors import citizen_actor, professional_actor
from mes.audit import trace
from mes.audit.models import TraceAction
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.actions import notify
from mes.notifications.models import Notification

from .actions import LoginRefused, check_espace_allows_login, login_succeeded, trace_login
from .models import Citizen, Passkey, Professional, User

logger = logging.getLogger("mes.identity")

PASSKEY_REFUSED = "Cette clé d'accès n'a pas été reconnue. Réessayez, ou connectez-vous avec "
PASSKEY_REFUSED += "votre mot de passe et un code."
NAME_MAX = 60


@dataclass(frozen=True)
class RelyingParty:
    """Who the keys are made for: the site's domain (rp id) and the origins allowed to ask."""

    rp_id: str
    origins: list[str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _user_handle(user: User) -> bytes:
    """The WebAuthn user id: the login's primary key, nothing personal (no INS, no name)."""
    return str(user.pk).encode()


# --- Registration ------------------------------------------------------------------------------


def registration_options(*, user: User, rp: RelyingParty) -> tuple[str, bytes]:
    """The options for navigator.credentials.create() (JSON) and their challenge to keep."""
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=settings.MES_WEBAUTHN_RP_NAME,
        user_id=_user_handle(user),
        user_name=user.username,
        user_display_name=user.get_full_name() or user.username,
        timeout=int(settings.MES_WEBAUTHN_TIMEOUT.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        # The same authenticator is not registered twice on one account.
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(key.credential_id))
            for key in Passkey.objects.filter(user=user)
        ],
    )
    return options_to_json(options), options.challenge


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("Donnez un nom à cet appareil (par exemple « Téléphone de Camille »).")
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(f"Le nom de l'appareil ne dépasse pas {NAME_MAX} caractères.")
    return cleaned


def _trace_account_event(user: User, action: TraceAction, title: str) -> None:
    """A passkey added or removed: on the citizen's chain (their activity history), or on the
    system chain for a professional's account."""
    citizen = Citizen.objects.filter(user=user).first()
    if citizen is not None:
        trace.record(
            actor=citizen_actor(citizen),
            action=action,
            patient_id=citizen.pk,
            document_title=title,
        )
        return
    professional = Professional.objects.filter(user=user).first()
    if professional is not None:
        trace.record(
            actor=professional_actor(professional),
            action=action,
            patient_id=None,
            document_title=title,
        )


def _tell_citizen(user: User, label: str) -> None:
    """A security alert in the citizen's notification centre (ALERTE_SECURITE)."""
    citizen = Citizen.objects.filter(user=user).first()
    if citizen is not None:
        notify(profile=citizen, code=Notification.Code.SECURITY_ALERT, label=label)


def passkey_register(
    *, user: User, credential: dict[str, Any] | str, challenge: bytes, rp: RelyingParty, name: str
) -> Passkey:
    """Keep a new passkey for `user` after py_webauthn checked the browser's answer.

    Precondition: the user is signed in (the interface guarantees it) and `challenge` is the
    one the interface kept for this ceremony (and has already forgotten). Refuses a wrong
    challenge, origin or relying party, a key without user verification, and more than
    settings.MES_PASSKEYS_MAX_PER_ACCOUNT keys. Side effects: an AJOUT_CLE_ACCES trace and, for
    a citizen, a security alert. Raises InvalidInput with a French message.
    """
    name = _clean_name(name)
    if Passkey.objects.filter(user=user).count() >= settings.MES_PASSKEYS_MAX_PER_ACCOUNT:
        raise InvalidInput(
            f"Vous avez déjà {settings.MES_PASSKEYS_MAX_PER_ACCOUNT} appareils associés : "
            "retirez-en un avant d'en ajouter un autre."
        )
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origins,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        logger.info("passkey registration refused (user %s): %s", user.pk, exc)
        raise InvalidInput(
            "L'appareil n'a pas pu être associé. Réessayez depuis cette page."
        ) from exc
    if Passkey.objects.filter(credential_id=verified.credential_id).exists():
        raise InvalidInput("Cet appareil est déjà associé à un compte.")
    transports = _transports_of(credential)
    with transaction.atomic():
        key = Passkey.objects.create(
            user=user,
            name=name,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=",".join(transports),
            created_at=timezone.now(),
        )
        _trace_account_event(user, TraceAction.ADD_PASSKEY, name)
        _tell_citizen(user, f"Un nouvel appareil a été associé à votre compte : « {name} ».")
    return key


def _transports_of(credential: dict[str, Any] | str) -> list[str]:
    """The transports the browser reported, kept only when WebAuthn knows them."""
    data = json.loads(credential) if isinstance(credential, str) else credential
    response = data.get("response") if isinstance(data, dict) else None
    raw = response.get("transports", []) if isinstance(response, dict) else []
    known = {t.value for t in AuthenticatorTransport}
    return [t for t in raw if isinstance(t, str) and t in known][:5]


# --- Sign-in -----------------------------------------------------------------------------------


def authentication_options(*, rp: RelyingParty) -> tuple[str, bytes]:
    """Options for navigator.credentials.get() with no account named (a discoverable key
    says whose it is), and their challenge to keep."""
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        timeout=int(settings.MES_WEBAUTHN_TIMEOUT.total_seconds() * 1000),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), options.challenge


def _credential_id_of(credential: dict[str, Any] | str) -> bytes:
    data = json.loads(credential) if isinstance(credential, str) else credential
    raw = data.get("rawId") or data.get("id") if isinstance(data, dict) else None
    if not isinstance(raw, str) or not raw:
        raise LoginRefused(PASSKEY_REFUSED)
    try:
        return _unb64(raw)
    except ValueError as exc:
        raise LoginRefused(PASSKEY_REFUSED) from exc


def passkey_sign_in(
    *, credential: dict[str, Any] | str, challenge: bytes, rp: RelyingParty, kind: User.Kind
) -> User:
    """The user whose passkey signed `challenge`: a complete sign-in (no password, no code).

    Precondition: `challenge` is the one the interface kept for this ceremony (and has already
    forgotten: a second answer to it finds nothing). The key must be registered (a removed key
    is unknown), belong to an active account of `kind`, and py_webauthn must accept the
    signature, the origin, the relying party, user verification and a signature counter that
    went up (a cloned authenticator shows an old counter). Side effects: the new counter and
    the time of use are stored, the sign-in traced like a password sign-in; a refusal on a known
    key is traced on the citizen's chain. Raises LoginRefused (one message for every refusal).
    """
    credential_id = _credential_id_of(credential)
    key = (
        Passkey.objects.select_related("user")
        .filter(credential_id=credential_id, user__kind=kind, user__is_active=True)
        .first()
    )
    if key is None:
        raise LoginRefused(PASSKEY_REFUSED)
    check_espace_allows_login(key.user)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origins,
            credential_public_key=bytes(key.public_key),
            credential_current_sign_count=key.sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        logger.info("passkey sign-in refused (passkey %s): %s", key.pk, exc)
        with transaction.atomic():
            trace_login(key.user, refused_because=f"clé d'accès refusée : {key.name}"[:200])
        raise LoginRefused(PASSKEY_REFUSED) from exc
    with transaction.atomic():
        # Conditional on the old counter: two sign-ins racing with one answer cannot both pass.
        updated = Passkey.objects.filter(pk=key.pk, sign_count=key.sign_count).update(
            sign_count=verified.new_sign_count, last_used_at=timezone.now()
        )
        if not updated:
            raise LoginRefused(PASSKEY_REFUSED)
        login_succeeded(key.user)
    return key.user


# --- « Appareils associés »: list, rename, remove -------------------------------------------


def passkeys_of(user: User) -> list[Passkey]:
    return list(Passkey.objects.filter(user=user))


def _own_passkey(user: User, passkey_id: int) -> Passkey:
    key = Passkey.objects.filter(pk=passkey_id, user=user).first()
    if key is None:
        raise NotFound()  # someone else's key reads like no key at all
    return key


def passkey_rename(*, user: User, passkey_id: int, name: str) -> Passkey:
    """Rename one of the user's own passkeys. NotFound for anyone else's."""
    key = _own_passkey(user, passkey_id)
    key.name = _clean_name(name)
    key.save(update_fields=["name"])
    return key


def passkey_remove(*, user: User, passkey_id: int) -> None:
    """Remove one of the user's own passkeys: it can never sign in again. Traced
    (SUPPR_CLE_ACCES) and, for a citizen, a security alert. NotFound for anyone else's."""
    with transaction.atomic():
        key = _own_passkey(user, passkey_id)
        name = key.name
        key.delete()
        _trace_account_event(user, TraceAction.REMOVE_PASSKEY, name)
        _tell_citizen(user, f"L'appareil « {name} » n'est plus associé à votre compte.")


def credential_id_text(key: Passkey) -> str:
    """The key's id as the browser shows it (base64url), for tests and support."""
    return _b64(bytes(key.credential_id))
