"""The batch writer in Python: `notify_many` tells a list of `Event`s with a handful of
queries and two bulk inserts (the notifications, the outbox rows). It is SQLite's path and the
reference the set-based statement (`set_based`) is tested against, row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen

from ..models import Channel, ChannelPreference, Delivery, Notification, PostalAddress
from .dispatch import enqueue_dispatch
from .rules import LETTER_CODES, MANDATORY, SUBJECT, category_of, generic_text, phone_of

# What notify_many reads of a recipient: how to reach them and the name on a letter.
_CONTACT_FIELDS = (
    "id",
    "email",
    "first_name",
    "used_first_name",
    "birth_name",
    "used_name",
    "user__id",
    "user__phone",
)


@dataclass(frozen=True)
class Event:
    """One notification of `notify_many`: what `notify_through_channels` takes, for one profile."""

    profile: Citizen
    code: Notification.Code
    label: str
    key: str
    url: str = ""
    link_label: str = ""


def _unsaid(events: Sequence[Event]) -> list[Event]:
    """The events whose key no notification holds yet (each key once)."""
    taken = set(
        Notification.objects.filter(key__in={e.key for e in events}).values_list("key", flat=True)
    )
    out: list[Event] = []
    for e in events:
        if e.key not in taken:
            taken.add(e.key)
            out.append(e)
    return out


def notify_many(events: Sequence[Event]) -> list[Notification]:
    """`notify_through_channels` for a batch of events, in Python: one bulk insert of the
    notifications, a handful of queries for the recipients, their preferences and addresses,
    one bulk insert of the outbox rows, then one dispatch after commit. The reference of the
    set-based writer (`notify_each`, `notify_events`, `notify_select`: tested row for row).

    Call inside the caller's transaction. Each event's key is its idempotency key, kept on its
    notification: an event whose key a notification already holds is left out (neither the
    centre nor the channels hear of it again); a concurrent writer of the same key makes the
    insert fail (IntegrityError), never write twice. Returns the notifications written.
    Representatives are told like in `notify_through_channels`; the channels carry the same
    generic text, never the label."""
    events = _unsaid(events)
    if not events:
        return []
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                profile_id=e.profile.pk,  # the id, not the instance: cheaper by the thousand
                code=e.code,
                label=e.label,
                url=e.url,
                link_label=e.link_label,
                key=e.key,
            )
            for e in events
        ],
        batch_size=1000,
    )
    profile_ids = {e.profile.pk for e in events}
    reps: dict[Any, list[Any]] = {}
    for represented_id, rep_id in (
        LegalRepresentation.objects.current()
        .filter(represented_id__in=profile_ids)
        .values_list("represented_id", "representative_id")
    ):
        reps.setdefault(represented_id, []).append(rep_id)
    holders = {e.profile.pk for e in events if e.profile.user_id}
    people = {
        c.pk: c
        for c in Citizen.objects.filter(pk__in=holders | {r for ids in reps.values() for r in ids})
        .select_related("user")
        .only(*_CONTACT_FIELDS)
    }
    if not people:
        return notifications  # nobody with an account to tell: the centre only
    prefs = {
        (p.citizen_id, p.category): p
        for p in ChannelPreference.objects.filter(
            citizen_id__in=people, category__in={category_of(e.code) for e in events}
        )
    }
    addresses = dict(
        PostalAddress.objects.filter(citizen_id__in=people).values_list("citizen_id", "lines")
    )
    rows: list[Delivery] = []
    for e in events:
        category = category_of(e.code)
        who = ([e.profile.pk] if e.profile.pk in holders else []) + reps.get(e.profile.pk, [])
        for pid in who:
            person, own = people[pid], pid == e.profile.pk
            pref = prefs.get((pid, category)) or ChannelPreference(category=category)
            email, phone = person.email, phone_of(person)
            chosen: list[tuple[Channel, str]] = []
            if (pref.email or category in MANDATORY) and email:
                chosen.append((Channel.EMAIL, email))
            if pref.sms and phone:
                chosen.append((Channel.SMS, phone))
            if not email and not phone and e.code in LETTER_CODES and pid in addresses:
                chosen.append((Channel.LETTER, f"{person.display_name}\n{addresses[pid]}"))
            rows += [
                Delivery(
                    key=f"{e.key}:{pid}:{channel.value}"[:250],
                    recipient_id=pid,
                    channel=channel,
                    category=category,
                    destination=dest,
                    subject=SUBJECT if channel is not Channel.SMS else "",
                    body=generic_text(channel, category, own),
                )
                for channel, dest in chosen
            ]
    if rows:
        Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        if any(r.channel is not Channel.LETTER for r in rows):
            transaction.on_commit(enqueue_dispatch)
    return notifications
