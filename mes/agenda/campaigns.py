"""Prevention campaigns sent to a population (portal.md §7.2 RAPPEL_RDV_PREV_*, wave2.md §1.3:
targeted notifications for vaccination and screening campaigns), in batches by the worker.

`campaign_batch` handles the next `MES_REMINDER_BATCH` people after the campaign's cursor in
one transaction (the campaign row locked: two workers on the same batch run one after the
other), each person once by a ReminderSent key, then enqueues the next batch after commit. One
task per batch, never one per person. People opposed to personalised prevention are skipped.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from mes.identity.models import Citizen
from mes.notifications.channels import notify_through_channels
from mes.notifications.models import Notification
from mes.prevention.calendar import Span

from .models import AgendaSettings, Campaign, ReminderSent


def _audience(campaign: Campaign, today: date) -> QuerySet[Citizen]:
    people = Citizen.objects.all()
    if campaign.age_min is not None:
        people = people.filter(birth_date__lte=Span(months=12 * campaign.age_min).before(today))
    if campaign.age_max is not None:
        people = people.filter(birth_date__gt=Span(months=12 * campaign.age_max).before(today))
    if campaign.sex:
        people = people.filter(sex=campaign.sex)
    opposed = AgendaSettings.objects.filter(personalised_prevention=False).values("patient_id")
    return people.exclude(pk__in=opposed).order_by("pk")


def campaign_batch(*, campaign_id: int, size: int | None = None) -> int:
    """Notify the next batch of the campaign's audience; returns how many were notified (0 and
    the campaign finished when nobody is left)."""
    size = size or settings.MES_REMINDER_BATCH
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.finished_at is not None:
            return 0
        people = _audience(campaign, campaign.started_on)
        if campaign.cursor is not None:
            people = people.filter(pk__gt=campaign.cursor)
        batch = list(people[:size])
        if not batch:
            campaign.finished_at = timezone.now()
            campaign.save(update_fields=["finished_at"])
            return 0
        sent = 0
        for person in batch:
            key = f"camp:{campaign.pk}:{person.pk}"
            try:
                with transaction.atomic():
                    ReminderSent.objects.create(
                        key=key,
                        kind=ReminderSent.Kind.CAMPAIGN,
                        patient=person,
                        processed_at=timezone.now(),
                    )
            except IntegrityError:
                continue
            notify_through_channels(
                profile=person,
                code=Notification.Code(campaign.code),
                label=f"{campaign.label} ({campaign.reason})",
                url=reverse("portal:agenda"),
                link_label="Voir mon agenda",
                key=key,
            )
            sent += 1
        campaign.cursor = batch[-1].pk
        campaign.sent += sent
        campaign.save(update_fields=["cursor", "sent"])
        transaction.on_commit(lambda: _next(campaign.pk))
    return sent


def _next(campaign_id: int) -> None:
    from .tasks import run_campaign_batch

    run_campaign_batch.enqueue(campaign_id)


def campaign_start(
    *,
    title: str,
    label: str,
    reason: str,
    code: str,
    age_min: int | None = None,
    age_max: int | None = None,
    sex: str = "",
) -> Campaign:
    """Create a campaign and enqueue its first batch (an operator's command)."""
    campaign = Campaign.objects.create(
        title=title,
        label=label,
        reason=reason,
        code=code,
        age_min=age_min,
        age_max=age_max,
        sex=sex,
        started_on=timezone.localdate(),
    )
    transaction.on_commit(lambda: _next(campaign.pk))
    return campaign
