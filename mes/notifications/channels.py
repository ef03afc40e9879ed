"""Notifying through every channel (portal.md §7): the in-app centre, e-mail, SMS, and postal
letters for people with neither e-mail nor mobile phone.

`notify_through_channels(...)` is the one function other apps call: it adds the notification to
the profile's centre (the existing `notify()`), then writes one outbox row (`Delivery`) per
recipient account and channel chosen in their preferences, in the caller's transaction. After
commit, the worker sends them (`dispatch_pending`): e-mails and SMS are generic — they say that
a notification is waiting, never what it is about (no health detail, no INS); letters are
printed in batches (`print_letters`, a PDF with reportlab).

Security events (accesses by professionals, emergency accesses, account security) cannot be
turned off; one-time codes never go through here (mes.identity sends them at once).
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen

from .actions import notify
from .models import (
    Category,
    Channel,
    ChannelPreference,
    Delivery,
    LetterBatch,
    Notification,
    PostalAddress,
)

logger = logging.getLogger("mes.notifications")
Code = Notification.Code

CATEGORY_OF: dict[str, Category] = {
    Code.NEW_MESSAGE: Category.MESSAGES,
    Code.MESSAGE_NOT_DELIVERED: Category.MESSAGES,
    Code.SUPPORT_REPLY: Category.MESSAGES,
    Code.NEW_DOCUMENT: Category.DOCUMENTS,
    Code.UPDATED_DOCUMENT: Category.DOCUMENTS,
    Code.DELETED_DOCUMENT: Category.DOCUMENTS,
    Code.HIDDEN_DOCUMENT_PENDING: Category.DOCUMENTS,
    Code.AUTO_RELEASE: Category.DOCUMENTS,
    Code.MEASURE_FROM_DOCUMENT: Category.DOCUMENTS,
    Code.NEW_VACCINATION: Category.APPOINTMENTS,
    Code.PREVENTION_DUE: Category.APPOINTMENTS,
    Code.VACCINATION_DUE: Category.APPOINTMENTS,
    Code.AGENDA_REMINDER: Category.APPOINTMENTS,
    Code.APPOINTMENT_REMINDER: Category.APPOINTMENTS,
    Code.SCREENING_DUE: Category.SCREENINGS,
    Code.SYNCED_SERVICES: Category.SYNCED_SERVICES,
    Code.PRO_ACCESS: Category.SECURITY,
    Code.BREAK_GLASS: Category.SECURITY,
    Code.SECURITY_ALERT: Category.SECURITY,
}
MANDATORY = frozenset({Category.SECURITY})
# Letters are slow: only for what can wait a few days (prevention, campaigns, the espace's
# life), never for an appointment tomorrow.
LETTER_CODES = frozenset(
    {Code.PREVENTION_DUE, Code.VACCINATION_DUE, Code.SCREENING_DUE, Code.ESPACE_LIFECYCLE}
)
SUBJECT = "Mon espace santé : une nouvelle notification vous attend"
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


def category_of(code: str) -> Category:
    return CATEGORY_OF.get(code, Category.ACCOUNT)


def recipients(profile: Citizen, *, hidden_from_representatives: bool) -> list[Citizen]:
    """Who is told: the holder when they have an account; for a represented person, their
    current legal representatives (never about a minor's secret care, R1111-50)."""
    out: list[Citizen] = [profile] if profile.user_id else []
    if not hidden_from_representatives:
        out += list(
            Citizen.objects.filter(
                pk__in=LegalRepresentation.objects.current()
                .filter(represented=profile)
                .values("representative_id")
            )
        )
    return out


def preference(citizen: Citizen, category: Category) -> ChannelPreference:
    """The account's choice for a category (default: e-mail on, SMS off); security is forced."""
    pref = ChannelPreference.objects.filter(citizen=citizen, category=category).first()
    if pref is None:
        pref = ChannelPreference(citizen=citizen, category=category)
    if category in MANDATORY:
        pref.email = True
    return pref


def _phone(citizen: Citizen) -> str:
    return (citizen.user.phone if citizen.user else "") or ""


# The portal the messages written in a `links_to` block lead to; None: the deployment's.
_links_to: ContextVar[str | None] = ContextVar("mes_notification_links_to", default=None)


@contextmanager
def links_to(portal_url: str) -> Iterator[None]:
    """The e-mails and SMS written in this block link to `portal_url` instead of the
    deployment's MES_PORTAL_URL: for a process that serves the portal at an address of its own
    choosing (`mes demo --port`), the domain actions it calls knowing nothing of addresses.
    Scoped to this block and this thread or task, unlike a setting changed at run time."""
    token = _links_to.set(portal_url)
    try:
        yield
    finally:
        _links_to.reset(token)


def portal_url() -> str:
    """Where a message's reader finds the portal (read when the message is written)."""
    return _links_to.get() or settings.MES_PORTAL_URL


def _body(channel: Channel, category: Category, own: bool) -> str:
    whose = "votre profil" if own else "un profil que vous gérez"
    site = portal_url()
    if channel is Channel.SMS:
        return f"Mon espace santé : une nouvelle notification concerne {whose}. {site}"
    return (
        "Bonjour,\n\n"
        f"Une nouvelle notification concerne {whose} dans Mon espace santé "
        f"(rubrique « {category.label} »).\n"
        f"Connectez-vous pour la consulter : {site}\n\n"
        "Pour protéger votre vie privée, ce message ne contient aucune information de santé.\n"
        "Vous pouvez choisir vos notifications dans « Mon compte > Notifications ».\n"
    )


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
                body=_body(channel, category, own),
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
) -> bool:
    """`notify_through_channels` for an event with an idempotency key: True when this call
    told it, False when a notification with this key exists (another run, another worker told
    it). Call inside the caller's transaction."""
    return _notify_through_channels(
        profile=profile, code=code, label=label, url=url, link_label=link_label, key=key
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
        email, phone = person.email, _phone(person)
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
            email, phone = person.email, _phone(person)
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
                    body=_body(channel, category, own),
                )
                for channel, dest in chosen
            ]
    if rows:
        Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        if any(r.channel is not Channel.LETTER for r in rows):
            transaction.on_commit(enqueue_dispatch)
    return notifications


def notify_each(
    *,
    profile_ids: Sequence[uuid.UUID],
    code: Notification.Code,
    label: str,
    key_prefix: str,
    url: str = "",
    link_label: str = "",
) -> int:
    """One event for many profiles (a campaign's slice), each at most once: exactly the rows
    of `notify_many([Event(profile=p, code=code, label=label, key=f"{key_prefix}{p}", ...)])`,
    written by `notify_select` on PostgreSQL (one statement whatever the number of people,
    none of them built as a Python object); elsewhere (SQLite) by `notify_many`. Returns how
    many were notified by this call (the others' keys were taken).

    Call inside the caller's transaction."""
    if not profile_ids:
        return 0
    if connection.vendor != "postgresql":
        profiles = Citizen.objects.filter(pk__in=profile_ids).only("id", "user_id")
        return len(
            notify_many(
                [
                    Event(
                        profile=p,
                        code=code,
                        label=label,
                        key=f"{key_prefix}{p.pk}",
                        url=url,
                        link_label=link_label,
                    )
                    for p in profiles.order_by("pk")
                ]
            )
        )
    # One text parameter for all the ids: psycopg quotes it once, where a list would cost a
    # quoted element each (the server parses it back with ::uuid[]). Each person read by the
    # primary key (a lateral probe the planner cannot turn into a scan of everyone).
    source = f"""
        SELECT c.id, %(e_code)s, %(e_label)s, %(e_url)s, %(e_link)s,
               %(e_prefix)s || c.id::text, c.user_id, true
        FROM unnest(%(e_ids)s::uuid[]) AS t(p)
        CROSS JOIN LATERAL ({_CITIZEN_BY_ID.format(id="t.p")}) c
    """  # noqa: S608 - our own names
    return notify_select(
        source,
        {
            "e_code": code.value,
            "e_label": label,
            "e_url": url,
            "e_link": link_label,
            "e_prefix": key_prefix,
            "e_ids": "{" + ",".join(str(i) for i in profile_ids) + "}",
        },
        codes=[code],
    ).notified


def notify_events(events: Sequence[Event]) -> int:
    """`notify_many` for events each of its own text (reminders checked one by one), each at
    most once: on PostgreSQL one `notify_select` statement for the batch, the events passed as
    six arrays; elsewhere `notify_many`. Returns how many were notified by this call.

    Call inside the caller's transaction."""
    if not events:
        return 0
    if connection.vendor != "postgresql":
        return len(notify_many(events))
    source = f"""
        SELECT c.id, e.code, e.label, e.url, e.link_label, e.key, c.user_id, true
        FROM unnest(CAST(%(e_profile)s AS UUID[]), CAST(%(e_code)s AS TEXT[]),
                    CAST(%(e_label)s AS TEXT[]), CAST(%(e_url)s AS TEXT[]),
                    CAST(%(e_link)s AS TEXT[]), CAST(%(e_key)s AS TEXT[]))
             AS e(profile_id, code, label, url, link_label, key)
        CROSS JOIN LATERAL ({_CITIZEN_BY_ID.format(id="e.profile_id")}) c
    """  # noqa: S608 - our own names
    return notify_select(
        source,
        {
            "e_profile": [e.profile.pk for e in events],
            "e_code": [str(e.code) for e in events],
            "e_label": [e.label for e in events],
            "e_url": [e.url for e in events],
            "e_link": [e.link_label for e in events],
            "e_key": [e.key for e in events],
        },
        codes={e.code for e in events},
    ).notified


def _code_rules(codes: Iterable[str]) -> str:
    """What the outbox needs to know of each code, as one JSON object for the statement: its
    category, whether it is mandatory, whether it may go by letter, the generic bodies."""
    rules: dict[str, dict[str, Any]] = {}
    for code in set(codes):
        category = category_of(code)
        rules[str(code)] = {
            "category": category.value,
            "mandatory": category in MANDATORY,
            "letters": code in LETTER_CODES,
            "email_own": _body(Channel.EMAIL, category, True),
            "email_rep": _body(Channel.EMAIL, category, False),
            "sms_own": _body(Channel.SMS, category, True),
            "sms_rep": _body(Channel.SMS, category, False),
        }
    return json.dumps(rules)


@dataclass(frozen=True)
class Written:
    """What one `notify_select` statement did: notifications written, e-mails and SMS queued,
    rows the source left to its caller (not ready)."""

    notified: int
    queued: int
    left: int


def notify_select(
    source: str, params: dict[str, Any], *, codes: Iterable[str], now: datetime | None = None
) -> Written:
    """The one set-based writer of notifications (PostgreSQL): the notifications of the rows
    `source` selects, each at most once, with their outbox rows, in ONE statement.

    `source` is a SELECT of (profile_id, code, label, url, link_label, key, user_id, ready),
    the profile's id and account taken from its `identity_citizen` row (every caller reads it
    in the same statement: no notification for a profile that does not exist), with named
    placeholders prefixed by the caller (`params`); `codes` are the codes it may give; rows
    not `ready` are only counted (the sweep leaves them to Python). Each ready row is
    inserted with ON CONFLICT on its key (a key already said, or said by a concurrent run,
    which this one waits for, inserts nothing); from the rows actually inserted (RETURNING),
    the outbox rows of `notify_many`'s rules. One dispatch after commit when an e-mail or SMS
    was queued. Call inside the caller's transaction."""
    values = {
        **params,
        "now": now or timezone.now(),
        "rules": _code_rules(codes),
        "subject": SUBJECT,
    }
    with connection.cursor() as cursor:
        cursor.execute(_NOTIFY_SQL.replace("{source}", source), values)
        notified, queued, left = cursor.fetchone()
    if queued:
        transaction.on_commit(enqueue_dispatch)
    return Written(notified=int(notified), queued=int(queued), left=int(left))


_USER_TABLE = Citizen._meta.get_field("user").related_model._meta.db_table
# One citizen by the primary key, for a LATERAL join: the LIMIT keeps the planner from
# flattening it into a join it may plan as a scan of every citizen (the id is unique anyway).
_CITIZEN_BY_ID = f"SELECT c.* FROM {Citizen._meta.db_table} c WHERE c.id = {{id}} LIMIT 1"  # noqa: S608
# Citizen.display_name, in SQL (the name on a letter).
_NAME = (
    "coalesce(nullif({t}.used_first_name, ''), {t}.first_name) || ' ' "
    "|| coalesce(nullif({t}.used_name, ''), {t}.birth_name)"
)
# notify_many's rules in one statement: the notifications (ON CONFLICT on their key: only the
# rows inserted go on), who is told (the holder with an account: the source says who has one;
# the current legal representatives), on which channels (the preference of the code's
# category, e-mail by default, forced for security; SMS when chosen and a mobile is known; a
# letter for what can wait when neither is known and an address is), with which key and
# generic text. The equivalence with notify_many is tested row for row (mes/notifications/
# tests). Every lookup goes through an index whatever the size of the tables: the holders by
# the primary key, the representatives by the represented person, the mobile by its user's key
# (a subquery, never a hash of every account). The source is materialised once; the rows of
# account holders and the others are inserted by two INSERTs of it, so that the holders to
# tell are the first's RETURNING, never found again by joining the inserted rows to the
# source (a join the planner, blind to a CTE's size, would run as a nested loop).
_NOTIFY_COLUMNS = """(profile_id, code, label, url, link_label, created_at, read_at,
        hidden_from_representatives, key)"""
_NOTIFY_SQL = f"""
WITH src(profile_id, code, label, url, link_label, key, user_id, ready) AS MATERIALIZED (
    {{source}}
),
holders AS (
    INSERT INTO {Notification._meta.db_table} {_NOTIFY_COLUMNS}
    SELECT profile_id, code, label, url, link_label, %(now)s, NULL, false, key FROM src
    WHERE ready AND user_id IS NOT NULL
    ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING
    RETURNING profile_id, code, key
),
others AS (
    INSERT INTO {Notification._meta.db_table} {_NOTIFY_COLUMNS}
    SELECT profile_id, code, label, url, link_label, %(now)s, NULL, false, key FROM src
    WHERE ready AND user_id IS NULL
    ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING
    RETURNING profile_id, code, key
),
notified AS (SELECT * FROM holders UNION ALL SELECT * FROM others),
told(profile_id, code, key, pid, own, email, user_id, name) AS (
    SELECT n.profile_id, n.code, n.key, c.id, true, c.email, c.user_id, {_NAME.format(t="c")}
    FROM holders n
    CROSS JOIN LATERAL ({_CITIZEN_BY_ID.format(id="n.profile_id")}) c
    UNION ALL
    SELECT n.profile_id, n.code, n.key, p.id, false, p.email, p.user_id, {_NAME.format(t="p")}
    FROM notified n
    JOIN {LegalRepresentation._meta.db_table} r ON r.represented_id = n.profile_id
    JOIN {Citizen._meta.db_table} p ON p.id = r.representative_id
    WHERE r.started_at <= %(now)s AND (r.ended_at IS NULL OR r.ended_at > %(now)s)
),
contact AS (
    SELECT t.*, coalesce((SELECT u.phone FROM {_USER_TABLE} u WHERE u.id = t.user_id), '') AS phone,
           CAST(%(rules)s AS JSONB) -> t.code AS rule
    FROM told t
),
queued AS (
    INSERT INTO {Delivery._meta.db_table} (key, recipient_id, channel, category, destination,
        subject, body, status, attempts, created_at)
    SELECT left(t.key || ':' || t.pid::text || ':' || ch.channel, 250),
           t.pid, ch.channel, t.rule ->> 'category', ch.destination,
           CASE WHEN ch.channel = '{Channel.SMS.value}' THEN '' ELSE %(subject)s END,
           t.rule ->> (CASE WHEN ch.channel = '{Channel.SMS.value}' THEN 'sms' ELSE 'email' END
                       || CASE WHEN t.own THEN '_own' ELSE '_rep' END),
           '{Delivery.Status.PENDING.value}', 0, %(now)s
    FROM contact t
    LEFT JOIN {ChannelPreference._meta.db_table} cp
           ON cp.citizen_id = t.pid AND cp.category = t.rule ->> 'category'
    LEFT JOIN {PostalAddress._meta.db_table} a ON a.citizen_id = t.pid
    CROSS JOIN LATERAL (VALUES
        ('{Channel.EMAIL.value}', t.email,
         (coalesce(cp.email, true) OR CAST(t.rule ->> 'mandatory' AS BOOLEAN)) AND t.email <> ''),
        ('{Channel.SMS.value}', t.phone, coalesce(cp.sms, false) AND t.phone <> ''),
        ('{Channel.LETTER.value}', t.name || E'\\n' || a.lines,
         CAST(t.rule ->> 'letters' AS BOOLEAN) AND t.email = '' AND t.phone = ''
         AND a.citizen_id IS NOT NULL)
    ) AS ch(channel, destination, chosen)
    WHERE ch.chosen
    ON CONFLICT (key) DO NOTHING
    RETURNING channel
)
SELECT (SELECT count(*) FROM notified),
       (SELECT count(*) FILTER (WHERE channel <> '{Channel.LETTER.value}') FROM queued),
       (SELECT count(*) FROM src WHERE NOT ready)
"""  # noqa: S608 - our own table names and constants


def enqueue_dispatch() -> None:
    from mes.ops.queue import enqueue_once

    from .tasks import dispatch_deliveries

    # One dispatcher waiting is enough: it reads the outbox when it runs, after this commit,
    # and plans the next one while rows are left (a campaign's slices commit by the dozen).
    enqueue_once(dispatch_deliveries)


def _sms_backend() -> Callable[[str, str], None]:
    return import_string(settings.MES_SMS_BACKEND)


@dataclass(frozen=True)
class Dispatched:
    """One run of `dispatch_batch`: rows taken from the outbox, and sent."""

    claimed: int
    sent: int


def dispatch_batch(*, limit: int | None = None) -> Dispatched:
    """Send up to `limit` (MES_DISPATCH_BATCH) pending e-mails and SMS. Rows are claimed with
    SKIP LOCKED so two workers never send the same one; the e-mails go through one SMTP
    connection, the rows sent are marked in one UPDATE; a failure leaves its row pending for
    the next run (3 attempts)."""
    limit = limit or settings.MES_DISPATCH_BATCH
    sent: list[int] = []
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                status=Delivery.Status.PENDING,
                channel__in=[Channel.EMAIL, Channel.SMS],
            )
            .order_by("pk")[:limit]
        )
        mail = get_connection()
        if any(row.channel == Channel.EMAIL for row in rows):
            try:
                mail.open()  # once for the batch, not once per message
            except Exception:  # the server is down: each message below fails and is counted
                logger.exception("serveur de courriel injoignable")
        try:
            for row in rows:
                try:
                    if row.channel == Channel.EMAIL:
                        send_mail(row.subject, row.body, None, [row.destination], connection=mail)
                    else:
                        _sms_backend()(row.destination, row.body)
                except Exception:  # any delivery failure: retried, then given up
                    logger.exception("delivery %s not sent (%s)", row.pk, row.channel)
                    mail.close()  # a broken connection is opened anew by the next message
                    row.attempts += 1
                    if row.attempts >= 3:
                        row.status = Delivery.Status.FAILED
                    row.save(update_fields=["attempts", "status"])
                    continue
                sent.append(row.pk)
        finally:
            mail.close()
        Delivery.objects.filter(pk__in=sent).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1
        )
    return Dispatched(claimed=len(rows), sent=len(sent))


def dispatch_pending(*, limit: int | None = None) -> int:
    """`dispatch_batch`, returning how many were sent."""
    return dispatch_batch(limit=limit).sent


def _letter_pdf(rows: Iterable[Delivery]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle("Courriers Mon espace santé")
    _width, height = A4
    for row in rows:
        y = height - 5 * cm
        for line in row.destination.splitlines():  # window envelope: the address block
            pdf.drawString(11 * cm, y, line)
            y -= 0.5 * cm
        y = height - 10 * cm
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(2 * cm, y, "Mon espace santé")
        pdf.setFont("Helvetica", 11)
        y -= 1 * cm
        for line in _letter_text(row).splitlines():
            pdf.drawString(2 * cm, y, line)
            y -= 0.6 * cm
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _letter_text(row: Delivery) -> str:
    return (
        "Madame, Monsieur,\n\n"
        "Un examen de prévention, un dépistage ou une vaccination est à planifier\n"
        f"(rubrique « {Category(row.category).label} »).\n"
        "Parlez-en à votre médecin ou à votre pharmacien, ou consultez Mon espace santé.\n\n"
        "L'Assurance Maladie"
    )


def print_letters(*, limit: int = 5000) -> LetterBatch | None:
    """Gather pending letters into one printable PDF (one page each), stored with the default
    storage; the rows are marked sent with their batch. None when there is nothing to print."""
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, channel=Channel.LETTER)
            .order_by("pk")[:limit]
        )
        if not rows:
            return None
        batch = LetterBatch.objects.create(file_name="", count=len(rows))
        name = default_storage.save(
            f"courriers/lot-{batch.pk:06d}.pdf", ContentFile(_letter_pdf(rows))
        )
        batch.file_name = name
        batch.save(update_fields=["file_name"])
        Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), batch=batch
        )
    return batch


def preferences_of(citizen: Citizen) -> list[tuple[Category, ChannelPreference, bool]]:
    """Every category with the account's choice and whether it may be turned off."""
    return [(c, preference(citizen, c), c not in MANDATORY) for c in Category]


def preferences_set(*, citizen: Citizen, choices: dict[str, dict[str, Any]]) -> None:
    """Save the account's channels per category; security stays on whatever is sent."""
    for category in Category:
        if category in MANDATORY:
            continue
        chosen = choices.get(category.value, {})
        ChannelPreference.objects.update_or_create(
            citizen=citizen,
            category=category,
            defaults={"email": bool(chosen.get("email")), "sms": bool(chosen.get("sms"))},
        )


def preferences_record(*, actor: Any, citizen: Citizen, choices: dict[str, dict[str, Any]]) -> None:
    """preferences_set, traced on the account holder's chain (« Gestion des notifications »)."""
    from mes.audit import trace
    from mes.audit.models import TraceAction

    with transaction.atomic():
        preferences_set(citizen=citizen, choices=choices)
        trace.record(
            actor=actor,
            action=TraceAction.NOTIFICATIONS,
            patient_id=citizen.pk,
            document_title="Choix des canaux de notification",
        )
