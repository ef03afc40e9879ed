"""Prevention campaigns sent to a population (portal.md §7.2 RAPPEL_RDV_PREV_*, wave2.md §1.3:
targeted notifications for vaccination and screening campaigns), in batches by the workers.

Two kinds of task, so that any number of workers share a campaign (issue 16 §4):

- `campaign_plan` hands out the next `MES_REMINDER_BATCH` people after the campaign's cursor
  (the campaign row locked, a short transaction that reads only ids): it moves the cursor and
  enqueues one slice task for them and the next planning step, all after commit;
- `campaign_slice` notifies one slice, set-based: one transaction that reads the slice's ids
  and writes the notifications, each keyed `camp:<campaign>:<person>` (the notification is its
  own idempotency record: ON CONFLICT DO NOTHING on its key, only the run that inserted a key
  tells the channels), with their outbox rows (`notify_each`: one statement on PostgreSQL, no
  person ever built in Python), and counts them.

Delivery is at least once: a slice whose worker died stays claimed until `mes.ops.queue`
hands it out again; a slice that runs twice (or a crash in its middle, then a re-run) leaves
every person exactly one notification. People opposed to personalised prevention are skipped.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from mes.enrolment.policies import citizen_side_q
from mes.identity.models import Citizen
from mes.notifications.channels.set_based import notify_each
from mes.notifications.models import Notification
from mes.prevention.calendar import Span

from .models import AgendaSettings, Campaign


def _audience(campaign: Campaign, today: date) -> QuerySet[Citizen]:
    """Who the campaign tells: the people of its ages and sex whose espace is open to them
    (mes.enrolment.policies.citizen_side_q), not opposed to personalised prevention."""
    people = Citizen.objects.filter(citizen_side_q())
    if campaign.age_min is not None:
        people = people.filter(birth_date__lte=Span(months=12 * campaign.age_min).before(today))
    if campaign.age_max is not None:
        people = people.filter(birth_date__gt=Span(months=12 * campaign.age_max).before(today))
    if campaign.sex:
        people = people.filter(sex=campaign.sex)
    opposed = AgendaSettings.objects.filter(personalised_prevention=False).values("patient_id")
    return people.exclude(pk__in=opposed).order_by("pk")


def campaign_plan(*, campaign_id: int, size: int | None = None) -> tuple[str, str] | None:
    """Hand out the next slice of the campaign's audience: move the cursor past `size` people
    and, after commit, enqueue the slice's task and the next planning step. Returns the slice
    (after, last) as strings, or None once everybody has been handed out (the campaign is then
    marked finished; its slices may still be running)."""
    size = size or settings.MES_REMINDER_BATCH
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.finished_at is not None:
            return None
        people = _audience(campaign, campaign.started_on)
        if campaign.cursor is not None:
            people = people.filter(pk__gt=campaign.cursor)
        ids = list(people.values_list("pk", flat=True)[:size])
        if not ids:
            campaign.finished_at = timezone.now()
            campaign.save(update_fields=["finished_at"])
            return None
        after = str(campaign.cursor) if campaign.cursor else ""
        campaign.cursor = ids[-1]
        campaign.save(update_fields=["cursor"])
        last = str(ids[-1])
        transaction.on_commit(lambda: _enqueue(campaign_id, after, last))
    return after, last


def campaign_slice(*, campaign_id: int, after: str, last: str) -> int:
    """Notify the campaign's audience with an id in (after, last], each person once whatever
    ran before (a crash, a second worker). Returns how many were notified by this run."""
    with transaction.atomic():
        campaign = Campaign.objects.get(pk=campaign_id)
        people = _audience(campaign, campaign.started_on).filter(pk__lte=uuid.UUID(last))
        if after:
            people = people.filter(pk__gt=uuid.UUID(after))
        # The people's ids only; the notifications' keys are the claim (a person whose key a
        # previous run of this slice took is left out by the writer itself).
        ids = list(people.values_list("pk", flat=True))
        fresh = notify_each(
            profile_ids=ids,
            code=Notification.Code(campaign.code),
            label=f"{campaign.label} ({campaign.reason})",
            key_prefix=f"camp:{campaign.pk}:",
            url=reverse("portal:agenda"),
            link_label="Voir mon agenda",
        )
        if fresh:
            Campaign.objects.filter(pk=campaign_id).update(sent=F("sent") + fresh)
    return fresh


def _enqueue(campaign_id: int, after: str, last: str) -> None:
    from .tasks import run_campaign_batch, run_campaign_slice

    run_campaign_slice.enqueue(campaign_id, after, last)
    run_campaign_batch.enqueue(campaign_id)


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
    """Create a campaign and enqueue its first planning step (an operator's command)."""
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
