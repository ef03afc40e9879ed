"""The flu campaign for everyone aged 65 and over, sent in batches: each person once, even when
a batch runs twice (two workers) or the campaign restarts; the opposed and the young are left
out."""

from __future__ import annotations

from datetime import date

from mes.access.actors import citizen_actor
from mes.agenda import actions
from mes.agenda.campaigns import campaign_batch
from mes.agenda.models import Campaign
from mes.conftest import make_citizen
from mes.notifications.models import Notification


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


def test_a_campaign_goes_in_batches_each_person_once(camille):
    seniors = [senior(n) for n in range(5)]
    opposed = senior(9, opposed=True)
    c = Campaign.objects.create(
        title="Grippe 2026",
        label="La campagne de vaccination contre la grippe est ouverte",
        reason="vous avez 65 ans ou plus",
        code=Campaign.Code.VACCINATION,
        age_min=65,
        started_on=date(2026, 12, 7),
    )
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
