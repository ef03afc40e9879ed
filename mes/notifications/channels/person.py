"""The per-person writer: `notify_through_channels`, the one function other apps call to tell a
profile (its centre through `notify()`, then one outbox row per recipient and chosen channel,
in the caller's transaction, a dispatch after commit), and `notify_once`, the same for an event
with an idempotency key, saying whether this call told it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from mes.identity.models import Citizen

from ..actions import notify
from ..models import Category, Channel, Delivery, Notification, PostalAddress
from .dispatch import enqueue_dispatch
from .preferences import preference
from .rules import LETTER_CODES, SUBJECT, category_of, generic_text, phone_of, recipients


def _outbox(
    key: str, recipient: Citizen, channel: Channel, category: Category, dest: str, own: bool
) -> Delivery | None:
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                key=f"{key}:{recipient.pk}:{channel.value}"[:250],
                recipient=recipient,
                channel=channel,
                category=category,
                destination=dest,
                subject=SUBJECT if channel is not Channel.SMS else "",
                body=generic_text(channel, category, own),
            )
    except IntegrityError:
        return None  # already in the outbox: this event was delivered once


def notify_through_channels(
    *,
    profile: Citizen,
    code: Notification.Code,
    label: str,
    url: str = "",
    link_label: str = "",
    hidden_from_representatives: bool = False,
    key: str = "",
) -> Notification:
    """Notify a profile in its centre and on the channels each recipient chose.

    Call inside the caller's transaction. key: the event's idempotency key, kept on the
    notification: the same event again writes nothing more, neither in the centre nor on the
    channels, and returns the notification that told it (see `notify_once`); without a key the
    outbox rows are keyed by the new notification's id.
    Side effects: one Notification, one Delivery per recipient and channel, a dispatch after
    commit. Nothing about health goes out of the service: the channels carry a generic text.
    """
    return _notify_through_channels(
        profile=profile,
        code=code,
        label=label,
        url=url,
        link_label=link_label,
        hidden_from_representatives=hidden_from_representatives,
        key=key,
    )[0]


def notify_once(
    *,
    profile: Citizen,
    code: Notification.Code,
    label: str,
    key: str,
    url: str = "",
    link_label: str = "",
    hidden_from_representatives: bool = False,
) -> bool:
    """`notify_through_channels` for an event with an idempotency key: True when this call
    told it, False when a notification with this key exists (another run, another worker told
    it). Call inside the caller's transaction."""
    return _notify_through_channels(
        profile=profile,
        code=code,
        label=label,
        url=url,
        link_label=link_label,
        key=key,
        hidden_from_representatives=hidden_from_representatives,
    )[1]


def _notify_through_channels(
    *,
    profile: Citizen,
    code: Notification.Code,
    label: str,
    url: str,
    link_label: str,
    key: str,
    hidden_from_representatives: bool = False,
) -> tuple[Notification, bool]:
    """The notification (the existing one when the key is taken) and whether it is new."""
    if key:
        said = Notification.objects.filter(key=key).first()  # the hourly re-runs: no savepoint
        if said is not None:
            return said, False
    try:
        # A concurrent run inserting the same key makes this one wait on the unique index
        # until it commits, then fail here: nothing of this call is written, the caller's
        # transaction goes on.
        with transaction.atomic():
            notification = notify(
                profile=profile,
                code=code,
                label=label,
                url=url,
                link_label=link_label,
                hidden_from_representatives=hidden_from_representatives,
                key=key or None,
            )
    except IntegrityError:
        if not key:
            raise
        return Notification.objects.get(key=key), False
    key = key or f"notif:{notification.pk}"
    category = category_of(code)
    created = False
    for person in recipients(profile, hidden_from_representatives=hidden_from_representatives):
        own = person.pk == profile.pk
        pref = preference(person, category)
        email, phone = person.email, phone_of(person)
        if pref.email and email:
            created |= bool(_outbox(key, person, Channel.EMAIL, category, email, own))
        if pref.sms and phone:
            created |= bool(_outbox(key, person, Channel.SMS, category, phone, own))
        if not email and not phone and code in LETTER_CODES:
            address = PostalAddress.objects.filter(citizen=person).first()
            if address is not None:
                lines = f"{person.display_name}\n{address.lines}"
                _outbox(key, person, Channel.LETTER, category, lines, own)
    if created:
        transaction.on_commit(enqueue_dispatch)
    return notification, True
