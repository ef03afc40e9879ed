"""The espace's life (mes-spec §3.1): every transition is one action here, writing the state,
the history row (EspaceEvent), the trace on the person's chain and the notification; the timers
(settings.MES_ENROLMENT_*) are run by `sweep`.

```
NOT_NOTIFIED ─notice─► NOTIFIED ─6 weeks─► CREATED ─activate─► ACTIVE ─close─► CLOSED ─10 y─► PURGED
                       │  └─activate early─► ACTIVE     ▲  suspend/lift ◄─► SUSPENDED ─6 w─► CLOSED
                       └─oppose─► OPPOSED ─change of mind (activate)─┘     CLOSED ─reopen─► ACTIVE
```
A CREATED espace never activated is also closed directly, with its provisional code
(`espace_close_with_code`); an active one is closed signed in (`espace_close`).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, ProtectedError, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mes.access.actors import Actor, ActorKind, citizen_actor, system_actor
from mes.audit import trace
from mes.audit.models import TraceAction, TraceOutcome
from mes.identity.lookup import fold
from mes.identity.models import Citizen, Passkey, User
from mes.lib.errors import InvalidInput
from mes.lib.ins import InvalidIns, parse_ins
from mes.notifications.actions import notify
from mes.notifications.models import Notification

from . import account, notices
from .models import (
    EnrolmentCode,
    Espace,
    EspaceEvent,
    EspaceState,
    LegalRepresentation,
    ProfileShareRequest,
)
from .policies import REFUSALS, EspaceUse, state_allows

S = EspaceState
# An unambiguous alphabet (no 0/O, 1/I/L): the code is typed from a letter.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
_CODE_SALT = "mes.enrolment.code_provisoire"

NO_MATCH = (
    "Ces informations ne permettent pas de retrouver un profil. Vérifiez le code provisoire, "
    "le numéro de sécurité sociale, le numéro de série de la carte Vitale et la date de "
    "naissance."
)
NO_MATCH_REGENERATE = (
    "Ces informations ne permettent pas de retrouver un profil. Vérifiez le numéro de "
    "sécurité sociale, le numéro de série de la carte Vitale et la date de naissance."
)
CODE_EXPIRED = "Votre code provisoire a expiré ou a déjà été utilisé. Demandez-en un nouveau."
TWINS = (
    "Plusieurs personnes rattachées à votre carte Vitale ont la même date de naissance. "
    "Indiquez aussi le prénom de la personne."
)


# Closing with the code (closure_code_check), for a holder whose espace is in another state.
NOT_CLOSABLE_WITH_CODE: dict[str, str] = {
    EspaceState.NOTIFIED: (
        "Ce profil n'est pas encore créé : il n'y a rien à clôturer. Pour qu'il ne soit pas "
        "créé, opposez-vous à sa création avec ce même code."
    ),
    EspaceState.OPPOSED: (
        "L'opposition à la création de ce profil est enregistrée : il n'y a pas de profil à "
        "clôturer."
    ),
    EspaceState.CLOSED: "Ce profil est déjà clôturé.",
}

CLOSURE_STATE_CHANGED = (
    "Ce profil a changé d'état depuis la saisie du code : il ne peut plus être clôturé ici. "
    "S'il est activé, connectez-vous pour le clôturer ; sinon, appelez le 3422."
)

MINOR_FROM_PARENT_ACCOUNT = (
    "Le profil d'une personne mineure s'active depuis votre propre profil Mon espace santé : "
    "connectez-vous, puis ouvrez « Activer le profil d'un enfant » (Mon compte > "
    "Mes informations de connexion) et saisissez ce code."
)


class EnrolmentRefused(InvalidInput):
    """A step of activation, opposition or code renewal refused; str() is the French message."""


ONLINE, PHONE, AUTOMATIC, DESK = "en ligne", "3422", "automatique", "guichet"


# --- Transitions --------------------------------------------------------------------------------

LABELS: dict[str, str] = {
    S.NOTIFIED: "Vous avez été informé(e) de la création de votre profil Mon espace santé.",
    S.OPPOSED: "Votre opposition à la création du profil est enregistrée.",
    S.CREATED: "Votre profil Mon espace santé est créé. Activez-le avec votre code provisoire.",
    S.ACTIVE: "Votre profil Mon espace santé est activé.",
    S.SUSPENDED: "L'accès à votre profil est suspendu par l'Assurance Maladie.",
    S.CLOSED: "Votre profil Mon espace santé est clôturé ; ses données sont archivées.",
    S.PURGED: "Les données de votre profil Mon espace santé sont supprimées.",
}
TRACE_ACTIONS: dict[str, TraceAction] = {
    S.NOTIFIED: TraceAction.ESPACE_NOTIFIED,
    S.OPPOSED: TraceAction.ESPACE_OPPOSED,
    S.CREATED: TraceAction.ESPACE_CREATED,
    S.ACTIVE: TraceAction.ESPACE_ACTIVATED,
    S.SUSPENDED: TraceAction.ESPACE_SUSPENDED,
    S.CLOSED: TraceAction.ESPACE_CLOSED,
    S.PURGED: TraceAction.ESPACE_PURGED,
}
ALLOWED_FROM: dict[str, frozenset[str]] = {
    S.NOTIFIED: frozenset({S.NOT_NOTIFIED}),
    S.OPPOSED: frozenset({S.NOT_NOTIFIED, S.NOTIFIED}),
    S.CREATED: frozenset({S.NOTIFIED, S.ACTIVE}),  # ACTIVE → CREATED: majority (§3.5 [INF])
    S.ACTIVE: frozenset({S.NOTIFIED, S.CREATED, S.OPPOSED, S.CLOSED, S.SUSPENDED}),
    S.SUSPENDED: frozenset({S.ACTIVE}),
    S.CLOSED: frozenset({S.CREATED, S.ACTIVE, S.SUSPENDED}),
    S.PURGED: frozenset({S.CLOSED}),
}


# The states a provisional code may activate (policies: EspaceUse.ACTIVATE).
ACTIVATABLE = sorted(st for st in EspaceState.values if state_allows(st, EspaceUse.ACTIVATE))
# The transitions after which the holder may no longer log in (policies: EspaceUse.LOGIN).
_ENDS_THE_HOLDERS_ACCESS = frozenset({S.SUSPENDED, S.CLOSED, S.PURGED})


def espace_of(citizen: Citizen, *, lock: bool = False) -> Espace:
    """The person's espace; one is made (active) for a person who predates enrolment, active
    since the person was created (not since this lookup: the desk shows that date)."""
    espace, _ = Espace.objects.get_or_create(
        citizen=citizen,
        defaults={
            "state": S.ACTIVE,
            "vitale_serial": "",
            "state_changed_at": citizen.created_at,
        },
    )
    if lock:
        espace = Espace.objects.select_for_update().get(pk=espace.pk)
    return espace


def _transition(
    espace: Espace,
    to: S,
    *,
    actor: Actor,
    channel: str,
    reason: str = "",
    action: TraceAction | None = None,
    label: str = "",
) -> EspaceEvent:
    """Move the espace to `to` and write what every transition writes. The caller holds the
    row lock and has set the timer fields."""
    if espace.state not in ALLOWED_FROM[to]:
        raise EnrolmentRefused(
            f"Ce profil est « {S(espace.state).label} » : cette démarche n'est pas possible."
        )
    now = timezone.now()
    event = EspaceEvent.objects.create(
        espace=espace,
        at=now,
        from_state=espace.state,
        to_state=to,
        actor_kind=actor.kind.value,
        actor_name=actor.display_name,
        channel=channel,
        reason=reason,
    )
    espace.state = to
    espace.state_changed_at = now
    espace.save()
    if to in _ENDS_THE_HOLDERS_ACCESS and espace.citizen.user_id is not None:
        # A session opened before must not outlive the access it was opened with.
        account.sessions_end_all(user_id=espace.citizen.user_id)
    trace.record(
        actor=actor,
        action=action or TRACE_ACTIONS[to],
        patient_id=espace.citizen_id,
        reason=reason,
    )
    notify(
        profile=espace.citizen,
        code=Notification.Code.ESPACE_LIFECYCLE,
        label=label or LABELS[to],
    )
    return event


# --- Provisional codes --------------------------------------------------------------------------


def _code_hash(espace_id: uuid.UUID, code: str) -> str:
    normal = code.replace("-", "").replace(" ", "").upper()
    return salted_hmac(_CODE_SALT, f"{espace_id}:{normal}", algorithm="sha256").hexdigest()


def code_issue(espace: Espace) -> tuple[str, EnrolmentCode]:
    """A new provisional code for the espace (earlier unused ones stop working). Returns the
    code in clear, to be sent once and never stored."""
    now = timezone.now()
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    shown = f"{raw[:5]}-{raw[5:]}"
    EnrolmentCode.objects.filter(espace=espace, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    row = EnrolmentCode.objects.create(
        espace=espace,
        code_hash=_code_hash(espace.pk, raw),
        created_at=now,
        expires_at=now + settings.MES_ENROLMENT_CODE_VALIDITY,
    )
    return shown, row


def notice_for(espace: Espace, code: str, expires: datetime) -> notices.Notice:
    """Where the espace's notice goes: to the person, or for a minor to the parent the child
    is attached to (mes-spec §3.3)."""
    person = espace.citizen
    to = espace.attached_to if person.is_minor() and espace.attached_to else person
    to_espace = Espace.objects.filter(citizen=to).first() if to is not person else espace
    # The first notice is written while the espace is still NOT_NOTIFIED (espace_notify
    # sets notified_at first): it must say until when the person may oppose (§3.2).
    opposition_until = (
        espace.notified_at + settings.MES_ENROLMENT_OPPOSITION_WINDOW
        if espace.state in (S.NOT_NOTIFIED, S.NOTIFIED) and espace.notified_at
        else None
    )
    # The e-mail and mobile the person confirmed in their account first (at activation, or
    # changed since, portal.md §5.7), then the affiliation file's: an address or a number
    # given up since must not receive a code.
    confirmed = (
        User.objects.filter(pk=to.user_id).values_list("email", "phone").first()
        if to.user_id is not None
        else None
    ) or ("", "")
    return notices.Notice(
        recipient_name=to.display_name,
        subject_name=person.display_name,
        email=confirmed[0] or to.email,
        phone=confirmed[1] or (to_espace.phone if to_espace else "") or espace.phone,
        address=(to_espace.address if to_espace else "") or espace.address,
        postcode=(to_espace.postcode if to_espace else "") or espace.postcode,
        city=(to_espace.city if to_espace else "") or espace.city,
        code=code,
        code_expires=expires,
        opposition_until=opposition_until,
        from_parent_account=to is not person,
    )


def activated_by_a_representative(espace: Espace) -> bool:
    """A minor's espace with a current legal representative is activated (or reopened) from
    that representative's own account, never given a login of its own (mes-spec §3.2
    « Newborns », §3.5)."""
    return (
        espace.citizen.is_minor()
        and LegalRepresentation.objects.current().filter(represented_id=espace.pk).exists()
    )


# --- The notice and the opposition window --------------------------------------------------------


@dataclass
class NoticeResult:
    espace: Espace
    notice: notices.Notice
    emailed: bool  # False: a letter must be printed (no e-mail, or the e-mail failed)


def espace_notify(*, actor: Actor, citizen_id: uuid.UUID, send: bool = True) -> NoticeResult:
    """NOT_NOTIFIED → NOTIFIED: the notice with a provisional code starts the 6-week opposition
    window (mes-spec §3.2). E-mail when an address is known, else a postal letter (the caller
    prints the batch: NoticeResult.emailed is False). Idempotent: an espace already notified is
    refused, so a resumed run sends nobody a second notice."""
    with transaction.atomic():
        espace = Espace.objects.select_for_update().select_related("citizen").get(pk=citizen_id)
        if espace.state != S.NOT_NOTIFIED:
            raise EnrolmentRefused("Cette personne a déjà été informée.")
        espace.notified_at = timezone.now()
        code, row = code_issue(espace)
        notice = notice_for(espace, code, row.expires_at)
        emailed = bool(send and notice.email and notices.send_email_notice(notice))
        espace.notice_channel = "email" if emailed else "letter"
        _transition(espace, S.NOTIFIED, actor=actor, channel=AUTOMATIC)
        trace.record(actor=actor, action=TraceAction.ENROLMENT_CODE, patient_id=espace.pk)
    return NoticeResult(espace=espace, notice=notice, emailed=emailed)


def espace_oppose(*, actor: Actor, espace: Espace, channel: str) -> EspaceEvent:
    """NOTIFIED → OPPOSED, before creation (online with the code, or at the 3422). The espace
    then never existed for professionals (policies). Each child is opposed on its own."""
    with transaction.atomic():
        espace = Espace.objects.select_for_update().select_related("citizen").get(pk=espace.pk)
        if espace.state == S.OPPOSED:
            raise EnrolmentRefused("L'opposition à la création de ce profil est déjà enregistrée.")
        if not state_allows(espace.state, EspaceUse.OPPOSE):
            raise EnrolmentRefused(
                "Le profil est déjà créé : il n'est plus possible de s'opposer à sa création, "
                "mais vous pouvez le clôturer."
            )
        EnrolmentCode.objects.filter(espace=espace, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        return _transition(espace, S.OPPOSED, actor=actor, channel=channel)


def espace_create(*, actor: Actor, espace: Espace) -> EspaceEvent:
    """NOTIFIED → CREATED once the opposition window is over (run by `sweep`). The code sent
    with the notice still activates it until it expires."""
    with transaction.atomic():
        espace = Espace.objects.select_for_update().select_related("citizen").get(pk=espace.pk)
        return _transition(espace, S.CREATED, actor=actor, channel=AUTOMATIC)


# --- Activation -------------------------------------------------------------------------------


def candidates(*, nir: str, vitale_serial: str, birth_date: date) -> list[Espace]:
    """The espaces reachable with this card: the card holder's own and those of the children
    attached to them (a minor's notice names the parent's NIR: wave2 §1.6), born that day."""
    try:
        ins = parse_ins(nir).value
    except InvalidIns as error:
        raise EnrolmentRefused(str(error), field="nir") from error
    serial = "".join(ch for ch in vitale_serial if ch.isdigit())
    if not serial:
        raise EnrolmentRefused(
            "Saisissez le numéro de série de votre carte Vitale.", field="vitale_serial"
        )
    found = (
        Espace.objects.select_related("citizen")
        .filter(Q(citizen__ins=ins) | Q(attached_to__ins=ins))
        .filter(citizen__birth_date=birth_date)
    )
    # The serial may be typed with or without the leading digits of the card (8 to 13 digits).
    return [e for e in found if e.vitale_serial and serial.endswith(e.vitale_serial[-8:])]


def _locked(espace: Espace, now: datetime) -> bool:
    return espace.code_locked_until is not None and espace.code_locked_until > now


def _count_code_failure(espaces: list[Espace], action: TraceAction) -> str:
    """A wrong code on known card data counts toward the lock of each espace concerned; the
    refusal is traced as the step it was tried for (`action`)."""
    now = timezone.now()
    message = NO_MATCH
    with transaction.atomic():
        for espace in espaces:
            row = Espace.objects.select_for_update().get(pk=espace.pk)
            row.code_failures += 1
            reason = "code provisoire incorrect"
            if row.code_failures >= settings.MES_ENROLMENT_CODE_MAX_FAILURES:
                row.code_locked_until = now + settings.MES_ENROLMENT_CODE_LOCK
                row.code_failures = 0
                reason += " ; saisie bloquée"
                message = locked_message(row.code_locked_until)
            row.save(update_fields=["code_failures", "code_locked_until"])
            trace.record(
                actor=system_actor("enrolement"),
                action=action,
                outcome=TraceOutcome.REFUSED,
                patient_id=row.pk,
                reason=reason,
            )
    return message


def locked_message(until: datetime) -> str:
    return (
        "Trop de codes erronés : la saisie est bloquée pour ce profil jusqu'à "
        f"{timezone.localtime(until):%H:%M}. Réessayez plus tard ou appelez le 3422."
    )


def code_check(*, nir: str, vitale_serial: str, birth_date: date, code: str) -> EnrolmentCode:
    """Step 1 of activation or opposition: the provisional code with the card data (mes-spec
    §3.3). Returns the matching unused code row; it is used up by the step that completes.

    One message for anything that does not match, so the form tells nobody which datum is
    wrong; wrong codes on a known card lock the espace after MES_ENROLMENT_CODE_MAX_FAILURES
    (guessing is stopped). Raises EnrolmentRefused.
    """
    found = candidates(nir=nir, vitale_serial=vitale_serial, birth_date=birth_date)
    return match_code(found, code)


def _code_row(found: list[Espace], code: str) -> EnrolmentCode | None:
    """The row of this code among these espaces' latest codes, used or not (no side effect)."""
    normal = code.replace("-", "").replace(" ", "").upper()
    for espace in found:
        for row in EnrolmentCode.objects.filter(espace=espace).order_by("-created_at")[:3]:
            if hmac.compare_digest(row.code_hash, _code_hash(espace.pk, normal)):
                return row
    return None


def match_code(
    found: list[Espace], code: str, *, action: TraceAction = TraceAction.ESPACE_ACTIVATED
) -> EnrolmentCode:
    """The unused code among these espaces' latest codes, or EnrolmentRefused (counted, and
    traced as `action`: the step the code was typed for)."""
    now = timezone.now()
    if not found:
        raise EnrolmentRefused(NO_MATCH)
    for espace in found:
        if _locked(espace, now):
            assert espace.code_locked_until is not None
            raise EnrolmentRefused(locked_message(espace.code_locked_until))
    row = _code_row(found, code)
    if row is None:
        raise EnrolmentRefused(_count_code_failure(found, action))
    if row.used_at is not None or row.expires_at <= now:
        raise EnrolmentRefused(CODE_EXPIRED)
    Espace.objects.filter(pk=row.espace_id).update(code_failures=0)
    return row


def _use_code(code_id: int) -> Espace:
    now = timezone.now()
    row = (
        EnrolmentCode.objects.select_for_update()
        .select_related("espace__citizen")
        .filter(pk=code_id, used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None:
        raise EnrolmentRefused(CODE_EXPIRED)
    row.used_at = now
    row.save(update_fields=["used_at"])
    return row.espace


def espace_activate(*, actor: Actor, code_id: int, user: User | None) -> Espace:
    """The holder activates (or reopens, or changes their mind after opposing) with a
    checked provisional code: → ACTIVE. `user` becomes the espace's login (None when the
    person already has one: a reopening). Side effects: the code is used up; the transition."""
    with transaction.atomic():
        espace = _use_code(code_id)
        espace = Espace.objects.select_for_update().select_related("citizen").get(pk=espace.pk)
        if not state_allows(espace.state, EspaceUse.ACTIVATE):
            raise EnrolmentRefused("Ce profil est déjà activé : connectez-vous.")
        citizen = espace.citizen
        if user is not None:
            if activated_by_a_representative(espace):
                raise EnrolmentRefused(MINOR_FROM_PARENT_ACCOUNT)
            if citizen.user_id is not None and citizen.user_id != user.pk:
                raise EnrolmentRefused("Ce profil a déjà un identifiant : connectez-vous.")
            citizen.user = user
            citizen.save(update_fields=["user"])
        return _activate(espace, actor=actor, channel=ONLINE)


def _activate(espace: Espace, *, actor: Actor, channel: str) -> Espace:
    previous = espace.state
    espace.closed_at = espace.purge_due_at = espace.deletion_requested_at = None
    espace.suspended_at = None
    if previous == S.CLOSED:
        # Reopening within the archive period: the archived data simply come back (R1111-36).
        _transition(
            espace,
            S.ACTIVE,
            actor=actor,
            channel=channel,
            action=TraceAction.ESPACE_REOPENED,
            label="Votre profil est rouvert : vos données archivées sont restaurées.",
        )
    else:
        _transition(espace, S.ACTIVE, actor=actor, channel=channel)
    return espace


def espace_activate_for_child(*, actor: Actor, code_id: int) -> Espace:
    """A parent activates a child's espace from their own account with the child's code
    (mes-spec §3.2 « Newborns »). Precondition: the actor is a current legal representative
    of the child; otherwise EnrolmentRefused, traced."""
    with transaction.atomic():
        row = EnrolmentCode.objects.select_related("espace__citizen").get(pk=code_id)
        child = row.espace.citizen
        if (
            actor.citizen_id is None
            or not LegalRepresentation.objects.current()
            .filter(representative_id=actor.citizen_id, represented=child)
            .exists()
        ):
            raise EnrolmentRefused(
                "Vous n'êtes pas enregistré(e) comme représentant légal de cette personne."
            )
        espace = _use_code(code_id)
        espace = Espace.objects.select_for_update().select_related("citizen").get(pk=espace.pk)
        if not state_allows(espace.state, EspaceUse.ACTIVATE):
            raise EnrolmentRefused("Ce profil est déjà activé.")
        return _activate(espace, actor=actor, channel=ONLINE)


def children_to_activate(parent: Citizen) -> list[Espace]:
    """The espaces a parent may activate from their own account: those of the persons they
    currently represent that a code may activate (not yet active, opposed then reconsidered,
    or closed and reopened within the archive period)."""
    represented = LegalRepresentation.objects.current().filter(representative=parent)
    return list(
        Espace.objects.select_related("citizen")
        .filter(citizen__in=represented.values("represented_id"))
        .filter(state__in=ACTIVATABLE)
        .order_by("citizen__birth_date")
    )


def code_regenerate(
    *,
    nir: str,
    vitale_serial: str,
    birth_date: date,
    first_name: str = "",
    channel: str = "email",
) -> tuple[Espace, str]:
    """« Générer un nouveau code provisoire » (mes-spec §3.3): NIR + card serial + birth date;
    the new code goes by e-mail or SMS to the contact on file (the parent's, for a minor).
    Twins on one card (same birth date) also give the first name. Returns the espace and a
    masked destination. Raises EnrolmentRefused."""
    found = candidates(nir=nir, vitale_serial=vitale_serial, birth_date=birth_date)
    if len(found) > 1:
        wanted = fold(first_name)
        if not wanted:
            raise EnrolmentRefused(TWINS, field="first_name")
        # Without case or accents (« NOE » is Noé): people type names as they can.
        found = [e for e in found if fold(e.citizen.first_name) == wanted]
    if len(found) != 1:
        raise EnrolmentRefused(NO_MATCH_REGENERATE)
    espace = found[0]
    now = timezone.now()
    if _locked(espace, now):
        assert espace.code_locked_until is not None
        raise EnrolmentRefused(locked_message(espace.code_locked_until))
    if espace.state not in (S.NOTIFIED, S.CREATED, S.OPPOSED, S.CLOSED, S.NOT_NOTIFIED):
        raise EnrolmentRefused(
            "Ce profil est déjà activé : connectez-vous avec votre identifiant."
            if espace.state == S.ACTIVE
            else "Ce profil ne peut pas être activé en ligne. Appelez le 3422."
        )
    return espace, code_send(espace, channel=channel, actor=system_actor("enrolement"))


def code_send(espace: Espace, *, channel: str, actor: Actor) -> str:
    """A new provisional code to the espace's contact (the parent's, for a minor) by e-mail,
    SMS or postal letter; returns where it went. At most one a minute. Raises
    EnrolmentRefused."""
    now = timezone.now()
    last = EnrolmentCode.objects.filter(espace=espace).order_by("-created_at").first()
    if last and now - last.created_at < settings.MES_OTP_RESEND_INTERVAL:
        raise EnrolmentRefused(
            "Un code vient d'être envoyé. Patientez une minute avant d'en demander un autre."
        )
    with transaction.atomic():
        code, row = code_issue(espace)
        notice = notice_for(espace, code, row.expires_at)
        if channel == "sms":
            if not notice.phone:
                raise EnrolmentRefused(
                    "Aucun numéro de mobile n'est connu pour ce profil : choisissez l'e-mail.",
                    field="channel",
                )
            notices.send_sms_code(notice.phone, code, row.expires_at)
            destination = f"le mobile se terminant par {notice.phone[-2:]}"
        elif channel == "letter":
            if not (notice.address and notice.postcode):
                raise EnrolmentRefused("Aucune adresse postale n'est connue pour ce profil.")
            folder = settings.VAR_DIR / "enrolment" / "courriers"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"code-{now:%Y%m%d-%H%M%S-%f}.pdf"
            pdf = notices.letters_pdf([notice])
            transaction.on_commit(lambda: (folder / name).write_bytes(pdf))
            destination = f"un courrier à l'adresse postale ({notice.postcode} {notice.city})"
        else:
            if not notice.email:
                raise EnrolmentRefused(
                    "Aucune adresse e-mail n'est connue pour ce profil : choisissez le SMS, ou "
                    "appelez le 3422 pour recevoir un courrier.",
                    field="channel",
                )
            notices.send_email_notice(notice)
            local, _, domain = notice.email.partition("@")
            destination = f"l'adresse {local[:1]}•••@{domain}"
        trace.record(
            actor=actor,
            action=TraceAction.ENROLMENT_CODE,
            patient_id=espace.pk,
            reason=f"nouveau code provisoire ({channel})",
        )
    return destination


# --- Closure, suspension, deletion, purge ------------------------------------------------------


def _check_citizen_may_close(actor: Actor, citizen: Citizen) -> None:
    if actor.kind != ActorKind.CITIZEN:
        return
    from mes.access.decision import Action, decide  # the decision reads the espace's state

    if decide(actor, Action.CLOSE_ESPACE, citizen).allowed:
        return
    _closure_refused(actor, citizen.pk, "clôture refusée : ni titulaire ni représentant légal")
    raise EnrolmentRefused("Profil introuvable.")


def _closure_refused(actor: Actor, patient_id: uuid.UUID, reason: str) -> None:
    """The refused closure's trace on the person's chain, committed on its own (the caller
    then raises, which must not take the trace with it)."""
    with transaction.atomic():
        trace.record(
            actor=actor,
            action=TraceAction.ESPACE_CLOSED,
            outcome=TraceOutcome.REFUSED,
            patient_id=patient_id,
            reason=reason,
        )


def espace_close(
    *, actor: Actor, citizen: Citizen, channel: str, express_deletion: bool = False
) -> Espace:
    """CREATED / ACTIVE / SUSPENDED → CLOSED: data archived 10 years, then purged (R1111-36).
    With express deletion the purge comes after MES_ENROLMENT_DELETION_GRACE instead.

    A citizen closes their own espace or a represented person's, never an aidé's (a proche
    aidant may not, portal.md §5.8): decided by the one decision (Action.CLOSE_ESPACE), a
    refusal traced and answered like an unknown profile. The support desk and the system
    timers act on the holder's behalf, through their own checks."""
    _check_citizen_may_close(actor, citizen)
    with transaction.atomic():
        espace = espace_of(citizen, lock=True)
        if not state_allows(espace.state, EspaceUse.CLOSE):
            raise EnrolmentRefused("Ce profil n'est pas ouvert : il ne peut pas être clôturé.")
        now = timezone.now()
        espace.closed_at = now
        espace.purge_due_at = now + settings.MES_ENROLMENT_ARCHIVE_DURATION
        _transition(espace, S.CLOSED, actor=actor, channel=channel)
        if express_deletion:
            _ask_deletion(espace, actor=actor, channel=channel)
        return espace


def closure_code_check(
    *, nir: str, vitale_serial: str, birth_date: date, code: str
) -> EnrolmentCode:
    """Step 1 of closing online without activating (mes-spec §3.4 « at any time, directly »):
    the provisional code with the card data, as for activation (`code_check`: one message
    for any mismatch, wrong codes counted toward the espace's lock).

    Only an espace created and never activated is closed this way (EspaceUse.CLOSE_WITH_CODE):
    an active one signs in to close, a notified one is opposed, an opposed or closed one has
    nothing to close. The refusal is traced on the person's chain; the answer names the state
    only to whoever typed a code still unused (the holder: NOT_CLOSABLE_WITH_CODE), anyone
    else, and an active espace always, gets the answer of an unknown code. Raises
    EnrolmentRefused."""
    found = candidates(nir=nir, vitale_serial=vitale_serial, birth_date=birth_date)
    row = _code_row(found, code)
    if row is not None:
        state = next(e.state for e in found if e.pk == row.espace_id)
        if not state_allows(state, EspaceUse.CLOSE_WITH_CODE):
            _closure_refused(
                system_actor("enrolement"), row.espace_id, REFUSALS[EspaceUse.CLOSE_WITH_CODE]
            )
            usable = row.used_at is None and row.expires_at > timezone.now()
            # A code still unused proves the holder: tell them where to go. An active
            # espace's code is used up, so an active espace is always answered as unknown.
            raise EnrolmentRefused(
                NOT_CLOSABLE_WITH_CODE.get(state, NO_MATCH) if usable else NO_MATCH
            )
    return match_code(found, code, action=TraceAction.ESPACE_CLOSED)


def espace_close_with_code(
    *, actor: Actor, code_id: int, express_deletion: bool = False
) -> EspaceEvent:
    """CREATED → CLOSED by the holder who proved who they are with a checked provisional code
    (`closure_code_check`), without activating first. The one closure (`espace_close`: archive
    MES_ENROLMENT_ARCHIVE_DURATION, express deletion on request); the code is used up, so a
    reopening within the archive period takes a new one. Returns the history row of the
    closure (its proof). Raises EnrolmentRefused (the code used meanwhile, or the espace no
    longer in a state closed this way: then nothing changes, the code included, and the
    refusal is traced)."""
    with transaction.atomic():
        espace = _use_code(code_id)
        espace = Espace.objects.select_for_update().select_related("citizen").get(pk=espace.pk)
        if state_allows(espace.state, EspaceUse.CLOSE_WITH_CODE):
            espace_close(
                actor=actor,
                citizen=espace.citizen,
                channel=ONLINE,
                express_deletion=express_deletion,
            )
            # The transition's row, not the express deletion's (after it, CLOSED → CLOSED).
            return EspaceEvent.objects.filter(
                espace=espace, from_state=S.CREATED, to_state=S.CLOSED
            ).latest("at", "pk")
        # Changed since step 1 (closed at the desk...): undo the code's use, then trace.
        transaction.set_rollback(True)
    _closure_refused(actor, espace.pk, REFUSALS[EspaceUse.CLOSE_WITH_CODE])
    raise EnrolmentRefused(CLOSURE_STATE_CHANGED)


def _ask_deletion(espace: Espace, *, actor: Actor, channel: str) -> None:
    now = timezone.now()
    espace.deletion_requested_at = now
    espace.purge_due_at = now + min(
        settings.MES_ENROLMENT_DELETION_GRACE, settings.MES_ENROLMENT_DELETION_MAX_DELAY
    )
    espace.save(update_fields=["deletion_requested_at", "purge_due_at"])
    EspaceEvent.objects.create(
        espace=espace,
        from_state=espace.state,
        to_state=espace.state,
        actor_kind=actor.kind.value,
        actor_name=actor.display_name,
        channel=channel,
        reason="demande de suppression sans attendre 10 ans",
    )
    trace.record(actor=actor, action=TraceAction.ESPACE_DELETION_ASKED, patient_id=espace.pk)
    notify(
        profile=espace.citizen,
        code=Notification.Code.ESPACE_LIFECYCLE,
        label=(
            "Votre demande de suppression est enregistrée : les données seront supprimées le "
            f"{notices.french_date(espace.purge_due_at)}."
        ),
    )


def espace_request_deletion(*, actor: Actor, citizen: Citizen, channel: str) -> Espace:
    """Express deletion of a closed espace (≤ 3 months, R1111-36); the holder is informed."""
    with transaction.atomic():
        espace = espace_of(citizen, lock=True)
        if espace.state != S.CLOSED:
            raise EnrolmentRefused("Clôturez d'abord le profil pour en supprimer les données.")
        _ask_deletion(espace, actor=actor, channel=channel)
        return espace


_MAY_SUSPEND = (ActorKind.INSURER, ActorKind.SUPPORT, ActorKind.SYSTEM)


def _suspension_reason(actor: Actor, reason: str) -> str:
    if actor.kind not in _MAY_SUSPEND:
        raise EnrolmentRefused("Seule l'Assurance Maladie suspend un profil ou lève sa suspension.")
    if not reason.strip():
        raise EnrolmentRefused("Indiquez le motif.", field="reason")
    return reason.strip()[:300]


def espace_suspend(*, actor: Actor, citizen: Citizen, reason: str, channel: str = DESK) -> Espace:
    """ACTIVE → SUSPENDED by the Assurance Maladie (serious malfunction or fraud, R1111-36),
    with its reason; the holder is informed, and without objection within 6 weeks the sweep
    closes it. Only the insurer, the desk or the system; raises EnrolmentRefused."""
    why = _suspension_reason(actor, reason)
    with transaction.atomic():
        espace = espace_of(citizen, lock=True)
        espace.suspended_at = timezone.now()
        _transition(espace, S.SUSPENDED, actor=actor, channel=channel, reason=why)
        return espace


def espace_lift_suspension(
    *, actor: Actor, citizen: Citizen, reason: str, channel: str = DESK
) -> Espace:
    """SUSPENDED → ACTIVE: the holder objected in time (at the 3422) and the cause is settled.
    Only the insurer, the desk or the system; raises EnrolmentRefused."""
    why = _suspension_reason(actor, reason)
    with transaction.atomic():
        espace = espace_of(citizen, lock=True)
        if espace.state != S.SUSPENDED:
            raise EnrolmentRefused("Ce profil n'est pas suspendu.")
        espace.suspended_at = None
        _transition(espace, S.ACTIVE, actor=actor, channel=channel, reason=why)
        return espace


def _patient_data_relations() -> Iterator[tuple[type[Model], str]]:
    """Every model that holds a person's own data, found through its FK to Citizen named
    `patient` or `profile` (authored rows in other people's dossiers are not theirs).

    Read from the models' own fields, not from Citizen._meta.related_objects: that list
    leaves out the relations declared with related_name="+" (the profil médical rubrics, the
    agenda's prevention records and iCalendar links…), whose rows would outlive the purge."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.related_model is Citizen and field.name in {"patient", "profile"}:
                yield model, field.name


def espace_purge(*, actor: Actor, citizen: Citizen) -> Espace:
    """CLOSED → PURGED (10 years elapsed, or express deletion due): the vault key is destroyed
    (crypto-shredding), the blobs removed, the person's data rows deleted, the login ended.
    Kept, as the law requires: the identity row and the trace chain, which stays verifiable
    (it holds no content)."""
    from mes.vault import store

    with transaction.atomic():
        espace = espace_of(citizen, lock=True)
        if espace.state != S.CLOSED:
            raise EnrolmentRefused("Seul un profil clôturé peut être supprimé.")
        store.destroy_key(citizen.pk)
        # Rows protected by others (documents before their folders…) go in a few passes.
        pending = list(_patient_data_relations())
        for _ in range(len(pending) + 1):
            still = []
            for model, field in pending:
                try:
                    with transaction.atomic():
                        model._default_manager.filter(**{field: citizen}).delete()
                except ProtectedError:
                    still.append((model, field))
            pending = still
            if not pending:
                break
        LegalRepresentation.objects.filter(
            Q(represented=citizen) | Q(representative=citizen)
        ).update(ended_at=timezone.now())
        EnrolmentCode.objects.filter(espace=espace).delete()
        if citizen.user_id:
            _end_login(citizen.user_id)
        Citizen.objects.filter(pk=citizen.pk).update(email="")
        espace.purge_due_at = None
        _transition(espace, S.PURGED, actor=actor, channel=AUTOMATIC)
    transaction.on_commit(lambda: _remove_blobs(citizen.pk))
    return espace


def _end_login(user_id: int) -> None:
    """The login is no data the law keeps: deactivated, its contact details, password and
    passkeys gone (the identity row stays for the trace chain)."""
    user = User.objects.get(pk=user_id)
    user.is_active = False
    user.email = user.phone = ""
    user.set_unusable_password()
    user.save(update_fields=["is_active", "email", "phone", "password"])
    Passkey.objects.filter(user_id=user_id).delete()


def _remove_blobs(patient_id: uuid.UUID) -> None:
    """The ciphertexts are unreadable once the key is gone; they are removed too."""
    from django.core.files.storage import storages

    storage = storages["vault"]
    folder = f"{patient_id.hex[:2]}/{patient_id.hex}"
    try:
        _, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        storage.delete(f"{folder}/{name}")


# --- Majority ------------------------------------------------------------------------------------


def majority_reached(*, actor: Actor, citizen: Citizen) -> NoticeResult | None:
    """At 18 (mes-spec §3.5 [INF], docs/decisions.md): the parents' representation ends, the
    espace waits for the young adult's own activation (ACTIVE → CREATED when it was managed
    by the parents) and they get their own notice with a new code. Documents hidden from
    the representatives keep their flag. Returns the notice to send (None if no espace)."""
    with transaction.atomic():
        espace = espace_of(citizen, lock=True)
        now = timezone.now()
        ended = _minority_representations(citizen)
        parents = list(ended.values_list("representative_id", flat=True))
        ended.update(ended_at=now)
        # A « Partage du profil » still unanswered would start a representation after the
        # majority, one that would not end: it is closed with the parents' access.
        ProfileShareRequest.objects.filter(
            represented=citizen, accepted_at__isnull=True, closed_at__isnull=True
        ).update(closed_at=now)
        espace.attached_to = None
        espace.save(update_fields=["attached_to"])
        trace.record(
            actor=actor,
            action=TraceAction.MAJORITY,
            patient_id=citizen.pk,
            reason=f"fin de la représentation légale ({len(parents)} représentant(s))",
        )
        for parent in Citizen.objects.filter(pk__in=parents):
            notify(
                profile=parent,
                code=Notification.Code.MAJORITY_REPRESENTATIVE,
                label=(
                    f"{citizen.display_name} a 18 ans : son profil Mon espace santé lui est "
                    "confié et vous n'y avez plus accès."
                ),
            )
        if espace.state in (S.ACTIVE, S.CREATED, S.NOTIFIED) and citizen.user_id is None:
            if espace.state == S.ACTIVE:
                _transition(
                    espace,
                    S.CREATED,
                    actor=actor,
                    channel=AUTOMATIC,
                    action=TraceAction.MAJORITY,
                    label="Vous avez 18 ans : activez votre profil avec votre code provisoire.",
                )
            code, row = code_issue(espace)
            notice = notice_for(espace, code, row.expires_at)
            emailed = bool(notice.email and notices.send_email_notice(notice))
            notify(
                profile=citizen,
                code=Notification.Code.MAJORITY,
                label="Vous avez 18 ans : votre profil Mon espace santé est désormais le vôtre.",
            )
            return NoticeResult(espace=espace, notice=notice, emailed=emailed)
    return None


# --- Timers --------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    created: int = 0
    closed: int = 0
    purged: int = 0
    majorities: int = 0
    letters: list[notices.Notice] | None = None
    skipped: bool = False  # another sweep was running


# One sweep at a time on PostgreSQL (two workers, or the command beside the worker): a
# session advisory lock, released when the sweep ends (or its connection closes).
_SWEEP_LOCK = 0x4D45_5357  # "MESW"


@contextmanager
def _one_sweep_at_a_time() -> Iterator[bool]:
    if connection.vendor != "postgresql":
        yield True  # SQLite lets one writer in at a time anyway
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_SWEEP_LOCK])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_SWEEP_LOCK])


def _due(step: Callable[[], object]) -> bool:
    """Run one transition; False when the state changed meanwhile (the person opposed, or
    another sweep got there first): the transition re-checks under its row lock."""
    try:
        step()
    except EnrolmentRefused:
        return False
    return True


def sweep(*, batch: int = 1000) -> SweepReport:
    """Run every due timer once (the daily job `mes enrolment sweep`, and the worker's task
    mes.enrolment.tasks.sweep_timers), in bounded batches: the opposition window
    (→ CREATED), suspension without objection (→ CLOSED), the archive period or express
    deletion (→ PURGED), the 18th birthdays. Idempotent: what is done is no longer due."""
    report = SweepReport(letters=[])
    with _one_sweep_at_a_time() as alone:
        if not alone:
            report.skipped = True
            return report
        _sweep(report, batch)
    return report


def _sweep(report: SweepReport, batch: int) -> None:
    actor = system_actor("enrolement")
    now = timezone.now()
    window_end = now - settings.MES_ENROLMENT_OPPOSITION_WINDOW
    while ids := list(
        Espace.objects.filter(state=S.NOTIFIED, notified_at__lte=window_end).values_list(
            "pk", flat=True
        )[:batch]
    ):
        for pk in ids:
            report.created += _due(partial(espace_create, actor=actor, espace=Espace(pk=pk)))
    suspension_end = now - settings.MES_ENROLMENT_SUSPENSION_TO_CLOSURE
    for citizen in Citizen.objects.filter(
        espace__state=S.SUSPENDED, espace__suspended_at__lte=suspension_end
    ).iterator(chunk_size=batch):
        report.closed += _due(
            partial(espace_close, actor=actor, citizen=citizen, channel=AUTOMATIC)
        )
    for citizen in Citizen.objects.filter(
        espace__state=S.CLOSED, espace__purge_due_at__lte=now
    ).iterator(chunk_size=batch):
        report.purged += _due(partial(espace_purge, actor=actor, citizen=citizen))
    adult_born_before = _years_ago(timezone.localdate(), settings.MES_MAJORITY_AGE)
    for citizen in Citizen.objects.filter(
        representative_links__in=LegalRepresentation.objects.current(),
        birth_date__lte=adult_born_before,
    ).distinct():
        if not _minority_representations(citizen).exists():
            continue  # a protected adult's guardian: not a minority that ends
        result = majority_reached(actor=actor, citizen=citizen)
        report.majorities += 1
        if result and not result.emailed:
            assert report.letters is not None
            report.letters.append(result.notice)


def write_letters(letters: list[notices.Notice], *, prefix: str) -> Path:
    """One PDF of postal letters for the printing service (var/enrolment/courriers/)."""
    target = settings.VAR_DIR / "enrolment" / "courriers"
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{prefix}-{timezone.now():%Y%m%d-%H%M%S-%f}.pdf"
    path.write_bytes(notices.letters_pdf(letters))
    return path


def _minority_representations(citizen: Citizen) -> QuerySet[LegalRepresentation]:
    """The current representations that began while the person was a minor: those end at 18.
    A guardianship of a protected adult, begun after majority, goes on."""
    born = citizen.birth_date
    try:
        adult_on = born.replace(year=born.year + settings.MES_MAJORITY_AGE)
    except ValueError:  # born on 29 February
        adult_on = born.replace(year=born.year + settings.MES_MAJORITY_AGE, day=28)
    start_of_majority = timezone.make_aware(datetime.combine(adult_on, datetime.min.time()))
    return LegalRepresentation.objects.current().filter(
        represented=citizen, started_at__lt=start_of_majority
    )


def _years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def support_actor(user: User) -> Actor:
    """A support-desk agent (the 3422): traced under their own login."""
    return Actor(
        kind=ActorKind.SUPPORT,
        display_name=f"Conseiller 3422 {user.get_full_name() or user.username}",
        user_id=user.pk,
        national_id=f"support:{user.username}",
    )


def holder_actor(citizen: Citizen) -> Actor:
    return citizen_actor(citizen)
