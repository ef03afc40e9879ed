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
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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


def _body(channel: Channel, category: Category, own: bool) -> str:
    whose = "votre profil" if own else "un profil que vous gérez"
    site = settings.MES_PORTAL_URL
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

    Call inside the caller's transaction. key: the event's idempotency key (default: the new
    notification's id); an event delivered once is never delivered twice on a channel.
    Side effects: one Notification, one Delivery per recipient and channel, a dispatch after
    commit. Nothing about health goes out of the service: the channels carry a generic text.
    """
    notification = notify(
        profile=profile,
        code=code,
        label=label,
        url=url,
        link_label=link_label,
        hidden_from_representatives=hidden_from_representatives,
    )
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
    return notification


@dataclass(frozen=True)
class Event:
    """One notification of `notify_many`: what `notify_through_channels` takes, for one profile."""

    profile: Citizen
    code: Notification.Code
    label: str
    key: str
    url: str = ""
    link_label: str = ""


def notify_many(events: Sequence[Event]) -> list[Notification]:
    """`notify_through_channels` for a batch of events, set-based: one bulk insert of the
    notifications, a handful of queries for the recipients, their preferences and addresses,
    one bulk insert of the outbox rows (ON CONFLICT DO NOTHING on the unique key: an event
    already in the outbox is not delivered twice), then one dispatch after commit.

    Call inside the caller's transaction, with keys the caller made unique (a reminder's
    idempotency key). Representatives are told like in `notify_through_channels`; the channels
    carry the same generic text, never the label."""
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
) -> None:
    """One event for many profiles (a campaign's slice): exactly the rows of
    `notify_many([Event(profile=p, code=code, label=label, key=f"{key_prefix}{p}", ...)])`,
    written set-based on PostgreSQL — two `INSERT … SELECT` (the notifications; the outbox rows
    with their idempotency keys, ON CONFLICT DO NOTHING) whatever the number of people, none of
    them built as a Python object. Elsewhere (SQLite) it is `notify_many`.

    Call inside the caller's transaction, with a prefix that makes the keys unique (a
    reminder's idempotency key). Same recipients, channels and generic texts as
    `notify_many`; one dispatch after commit when an e-mail or SMS was queued."""
    if not profile_ids:
        return
    if connection.vendor != "postgresql":
        profiles = Citizen.objects.filter(pk__in=profile_ids).only("id", "user_id")
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
        return
    # One text parameter for all the ids: psycopg quotes it once, where a list would cost a
    # quoted element each (the server parses it back with ::uuid[]).
    ids = "{" + ",".join(str(i) for i in profile_ids) + "}"
    now = timezone.now()
    category = category_of(code)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notification._meta.db_table} (profile_id, code, label, url, "  # noqa: S608 - our own table
            "link_label, created_at, hidden_from_representatives) "
            "SELECT p, %s, %s, %s, %s, %s, false FROM unnest(%s::uuid[]) AS t(p)",
            [code.value, label, url, link_label, now, ids],
        )
        cursor.execute(
            _OUTBOX_SQL,
            {
                "ids": ids,
                "lowest": min(profile_ids),
                "highest": max(profile_ids),
                "now": now,
                "prefix": key_prefix,
                "category": category.value,
                "mandatory": category in MANDATORY,
                "letters": code in LETTER_CODES,
                "subject": SUBJECT,
                "email_own": _body(Channel.EMAIL, category, True),
                "email_rep": _body(Channel.EMAIL, category, False),
                "sms_own": _body(Channel.SMS, category, True),
                "sms_rep": _body(Channel.SMS, category, False),
            },
        )
        (queued,) = cursor.fetchone()
    if queued:
        transaction.on_commit(enqueue_dispatch)


_USER_TABLE = Citizen._meta.get_field("user").related_model._meta.db_table
# Citizen.display_name, in SQL (the name on a letter).
_NAME = (
    "coalesce(nullif({t}.used_first_name, ''), {t}.first_name) || ' ' "
    "|| coalesce(nullif({t}.used_name, ''), {t}.birth_name)"
)
# notify_many's rules in one statement: who is told (the holder with an account; the current
# legal representatives), on which channels (the preference of the category, e-mail by
# default, forced for security; SMS when chosen and a mobile is known; a letter for what can
# wait when neither is known and an address is), with which key and generic text. The
# equivalence with notify_many is tested row for row (mes/notifications/tests).
# Every lookup goes through an index whatever the size of the tables: the people by their
# primary key (the ids' range tells the planner how few they are: a slice's ids follow each
# other, and without it a seq scan of the whole population looked cheaper than 2 000 probes
# up to a few hundred thousand people), the representatives by the represented person, the
# mobile by its user's key (a subquery, never a hash of every account).
_OUTBOX_SQL = f"""
WITH told(profile_id, pid, own, email, user_id, name) AS (
    SELECT c.id, c.id, true, c.email, c.user_id, {_NAME.format(t="c")}
    FROM {Citizen._meta.db_table} c
    WHERE c.id = ANY(%(ids)s::uuid[]) AND c.id BETWEEN %(lowest)s AND %(highest)s
      AND c.user_id IS NOT NULL
    UNION ALL
    SELECT r.represented_id, p.id, false, p.email, p.user_id, {_NAME.format(t="p")}
    FROM {LegalRepresentation._meta.db_table} r
    JOIN {Citizen._meta.db_table} p ON p.id = r.representative_id
    WHERE r.represented_id = ANY(%(ids)s::uuid[])
      AND r.started_at <= %(now)s AND (r.ended_at IS NULL OR r.ended_at > %(now)s)
),
contact AS (
    SELECT t.*, coalesce((SELECT u.phone FROM {_USER_TABLE} u WHERE u.id = t.user_id), '') AS phone
    FROM told t
),
queued AS (
    INSERT INTO {Delivery._meta.db_table} (key, recipient_id, channel, category, destination,
        subject, body, status, attempts, created_at)
    SELECT left(%(prefix)s || t.profile_id::text || ':' || t.pid::text || ':' || ch.channel, 250),
           t.pid, ch.channel, %(category)s, ch.destination,
           CASE WHEN ch.channel = '{Channel.SMS.value}' THEN '' ELSE %(subject)s END,
           CASE WHEN ch.channel = '{Channel.SMS.value}'
                THEN CASE WHEN t.own THEN %(sms_own)s ELSE %(sms_rep)s END
                ELSE CASE WHEN t.own THEN %(email_own)s ELSE %(email_rep)s END END,
           '{Delivery.Status.PENDING.value}', 0, %(now)s
    FROM contact t
    LEFT JOIN {ChannelPreference._meta.db_table} cp
           ON cp.citizen_id = t.pid AND cp.category = %(category)s
    LEFT JOIN {PostalAddress._meta.db_table} a ON a.citizen_id = t.pid
    CROSS JOIN LATERAL (VALUES
        ('{Channel.EMAIL.value}', t.email,
         (coalesce(cp.email, true) OR %(mandatory)s) AND t.email <> ''),
        ('{Channel.SMS.value}', t.phone, coalesce(cp.sms, false) AND t.phone <> ''),
        ('{Channel.LETTER.value}', t.name || E'\\n' || a.lines,
         %(letters)s AND t.email = '' AND t.phone = '' AND a.citizen_id IS NOT NULL)
    ) AS ch(channel, destination, chosen)
    WHERE ch.chosen
    ON CONFLICT (key) DO NOTHING
    RETURNING channel
)
SELECT count(*) FILTER (WHERE channel <> '{Channel.LETTER.value}') FROM queued
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
