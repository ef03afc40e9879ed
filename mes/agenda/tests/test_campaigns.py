"""The flu campaign for everyone aged 65 and over, sent in slices: each person once, even when
a slice runs twice (two workers), crashes in its middle and runs again, or the campaign
restarts; the opposed and the young are left out."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError

from mes.access.actors import citizen_actor
from mes.agenda import actions, campaigns
from mes.agenda.campaigns import campaign_plan, campaign_slice
from mes.agenda.models import Campaign
from mes.conftest import make_citizen
from mes.notifications.models import Delivery, Notification


def senior(n: int, opposed: bool = False):
    person = make_citizen(
        f"senior{n}",
        first13=f"1500175056{n:03d}",
        first_name=f"Senior{n}",
        birth_name="Martin",
        birth_date=date(1950, 1, 1),
        sex="M",
        email=f"s{n}@example.org",
    )
    if opposed:
        actions.personalised_prevention_set(
            actor=citizen_actor(person), patient_id=person.pk, enabled=False
        )
    return person


def campaign_batch(*, campaign_id: int, size: int) -> int:
    """What the worker does with the two tasks, in one go: plan the next slice, then send it."""
    planned = campaign_plan(campaign_id=campaign_id, size=size)
    if planned is None:
        return 0
    after, last = planned
    return campaign_slice(campaign_id=campaign_id, after=after, last=last)


def flu() -> Campaign:
    return Campaign.objects.create(
        title="Grippe 2026",
        label="La campagne de vaccination contre la grippe est ouverte",
        reason="vous avez 65 ans ou plus",
        code=Campaign.Code.VACCINATION,
        age_min=65,
        started_on=date(2026, 12, 7),
    )


def test_a_campaign_goes_in_batches_each_person_once(camille):
    seniors = [senior(n) for n in range(5)]
    opposed = senior(9, opposed=True)
    c = flu()
    assert campaign_batch(campaign_id=c.pk, size=2) == 2
    assert campaign_batch(campaign_id=c.pk, size=2) == 2
    c.refresh_from_db()
    cursor = c.cursor
    # A second worker re-running the last batch from the same cursor sends nothing again.
    Campaign.objects.filter(pk=c.pk).update(cursor=None)
    assert campaign_batch(campaign_id=c.pk, size=4) == 0
    Campaign.objects.filter(pk=c.pk).update(cursor=cursor)
    assert campaign_batch(campaign_id=c.pk, size=2) == 1
    assert campaign_batch(campaign_id=c.pk, size=2) == 0
    c.refresh_from_db()
    assert c.finished_at is not None and c.sent == 5
    notified = Notification.objects.filter(code=Notification.Code.VACCINATION_DUE)
    assert {n.profile_id for n in notified} == {s.pk for s in seniors}
    assert not notified.filter(profile__in=[camille, opposed]).exists()
    assert "vous avez 65 ans ou plus" in notified.first().label  # why it was sent


def test_a_slice_that_crashes_in_its_middle_then_runs_again_notifies_each_person_once(
    camille, monkeypatch
):
    seniors = [senior(n) for n in range(4)]
    c = flu()
    after, last = campaign_plan(campaign_id=c.pk, size=10)
    real = campaigns.notify_each

    def crash(**kwargs):  # the notifications and the outbox are written, then the worker dies
        real(**kwargs)
        assert Delivery.objects.filter(key__startswith=f"camp:{c.pk}:").count() == 4
        raise DatabaseError("le serveur de base de données a disparu")

    monkeypatch.setattr(campaigns, "notify_each", crash)
    with pytest.raises(DatabaseError):
        campaign_slice(campaign_id=c.pk, after=after, last=last)
    assert not Notification.objects.filter(code=Notification.Code.VACCINATION_DUE).exists()
    assert not Delivery.objects.filter(key__startswith=f"camp:{c.pk}:").exists()
    monkeypatch.setattr(campaigns, "notify_each", real)
    assert campaign_slice(campaign_id=c.pk, after=after, last=last) == 4
    # At least once: the queue may hand the same slice out again; nobody is told twice.
    assert campaign_slice(campaign_id=c.pk, after=after, last=last) == 0
    notified = Notification.objects.filter(code=Notification.Code.VACCINATION_DUE)
    assert sorted(n.profile_id for n in notified) == sorted(s.pk for s in seniors)
    mails = Delivery.objects.filter(key__startswith=f"camp:{c.pk}:")
    assert sorted(d.recipient_id for d in mails) == sorted(s.pk for s in seniors)
    c.refresh_from_db()
    assert c.sent == 4
