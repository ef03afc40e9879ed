"""Sending the outbox: `dispatch_batch` claims pending e-mails and SMS (SKIP LOCKED), sends them
(one SMTP connection, the SMS backend of settings.MES_SMS_BACKEND) and marks them sent or
retried; `enqueue_dispatch` plans one dispatcher after a commit that wrote some.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from ..models import Channel, Delivery

logger = logging.getLogger("mes.notifications")


def enqueue_dispatch() -> None:
    from mes.ops.queue import enqueue_once

    from ..tasks import dispatch_deliveries

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
