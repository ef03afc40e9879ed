"""The set-based writer (PostgreSQL): `notify_select` writes the notifications of the rows a
source SELECT gives, with their outbox rows, in ONE statement (`_NOTIFY_SQL`), applying
`notify_many`'s rules in SQL; its entries `notify_each` (one event for many profiles: a
campaign's slice) and `notify_events` (events each of its own text). Elsewhere (SQLite) both
entries fall back to `notify_many`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen

from ..models import Channel, ChannelPreference, Delivery, Notification, PostalAddress
from .dispatch import enqueue_dispatch
from .many import Event, notify_many
from .rules import LETTER_CODES, MANDATORY, SUBJECT, category_of, generic_text


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
            "email_own": generic_text(Channel.EMAIL, category, True),
            "email_rep": generic_text(Channel.EMAIL, category, False),
            "sms_own": generic_text(Channel.SMS, category, True),
            "sms_rep": generic_text(Channel.SMS, category, False),
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
# (a subquery, never a hash of every account). The mobile is looked up only for whom it can
# matter (SMS chosen, or no e-mail: a letter then depends on it) and the address only for a
# letter, each once per row (the `OFFSET 0` keeps the planner from copying the subquery into
# every place it is used): most people told have an e-mail and nothing else to read. The
# source is materialised once; the rows of account holders and the others are inserted by two
# INSERTs of it, so that the holders to tell are the first's RETURNING, never found again by
# joining the inserted rows to the source (a join the planner, blind to a CTE's size, would
# run as a nested loop).
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
    SELECT t.*, CAST(%(rules)s AS JSONB) -> t.code AS rule FROM told t
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
    CROSS JOIN LATERAL (
        SELECT m.phone,
               CASE WHEN CAST(t.rule ->> 'letters' AS BOOLEAN) AND t.email = '' AND m.phone = ''
                    THEN (SELECT a.lines FROM {PostalAddress._meta.db_table} a
                          WHERE a.citizen_id = t.pid)
               END AS address
        FROM (SELECT CASE WHEN coalesce(cp.sms, false) OR t.email = ''
                          THEN coalesce((SELECT u.phone FROM {_USER_TABLE} u
                                         WHERE u.id = t.user_id), '')
                          ELSE '' END AS phone
              OFFSET 0) m
        OFFSET 0
    ) k
    CROSS JOIN LATERAL (VALUES
        ('{Channel.EMAIL.value}', t.email,
         (coalesce(cp.email, true) OR CAST(t.rule ->> 'mandatory' AS BOOLEAN)) AND t.email <> ''),
        ('{Channel.SMS.value}', k.phone, coalesce(cp.sms, false) AND k.phone <> ''),
        ('{Channel.LETTER.value}', t.name || E'\\n' || k.address, k.address IS NOT NULL)
    ) AS ch(channel, destination, chosen)
    WHERE ch.chosen
    ON CONFLICT (key) DO NOTHING
    RETURNING channel
)
SELECT (SELECT count(*) FROM notified),
       (SELECT count(*) FILTER (WHERE channel <> '{Channel.LETTER.value}') FROM queued),
       (SELECT count(*) FROM src WHERE NOT ready)
"""  # noqa: S608 - our own table names and constants
