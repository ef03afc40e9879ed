"""The set-based writer of notifications (`notify_select`, through `notify_each` for a
campaign's slice and `notify_events` for reminders of their own texts) writes exactly the rows
that `notify_many` writes for the same events, whoever the people are: holders with an e-mail,
with SMS chosen, with e-mail turned off, with neither but an address (a letter), with nothing,
with a mobile only (SMS chosen or not: no letter for someone a mobile reaches);
a child without an account told through its current representatives (not a past one); and,
once written, the same keys again add nothing, neither to the centre nor to the outbox."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mes.conftest import make_citizen
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen
from mes.notifications.channels.many import Event, notify_many
from mes.notifications.channels.set_based import notify_each, notify_events
from mes.notifications.models import (
    Category,
    ChannelPreference,
    Delivery,
    Notification,
    PostalAddress,
)

Code = Notification.Code
LABEL = "La campagne de vaccination contre la grippe est ouverte (vous avez 65 ans ou plus)"


def person(n: int, *, account: bool = True, email: str = "", phone: str = "") -> Citizen:
    citizen = make_citizen(
        f"p{n}" if account else None,
        first13=f"1500175056{n:03d}",
        first_name=f"Prénom{n}",
        birth_name="Martin",
        birth_date=date(1950, 1, 1),
        sex="M",
        email=email,
    )
    if phone and citizen.user:
        citizen.user.phone = phone
        citizen.user.save(update_fields=["phone"])
    return citizen


@pytest.fixture
def population(db: Any) -> list[Citizen]:
    plain = person(1, email="a@example.org")
    sms = person(2, email="b@example.org", phone="+33611111111")
    quiet = person(3, email="c@example.org", phone="+33622222222")
    letter = person(4)
    letter.used_first_name, letter.used_name = "Jo", "Durand"
    letter.save(update_fields=["used_first_name", "used_name"])
    PostalAddress.objects.create(citizen=letter, lines="12 rue de la Paix\n75002 Paris")
    nothing = person(5)
    child = person(6, account=False)
    past = person(7, email="old@example.org")
    mobile_only = person(8, phone="+33633333333")
    texted_only = person(9, phone="+33644444444")
    for someone in (mobile_only, texted_only):
        PostalAddress.objects.create(citizen=someone, lines="3 place du Marché\n69001 Lyon")
    for category in (Category.APPOINTMENTS, Category.SECURITY, Category.MESSAGES):
        ChannelPreference.objects.create(citizen=sms, category=category, email=True, sms=True)
        ChannelPreference.objects.create(citizen=quiet, category=category, email=False, sms=False)
        ChannelPreference.objects.create(
            citizen=texted_only, category=category, email=True, sms=True
        )
    LegalRepresentation.objects.create(
        representative=plain, represented=child, role=LegalRepresentation.Role.MOTHER
    )
    LegalRepresentation.objects.create(
        representative=sms, represented=child, role=LegalRepresentation.Role.FATHER
    )
    LegalRepresentation.objects.create(
        representative=past,
        represented=child,
        role=LegalRepresentation.Role.GUARDIAN,
        ended_at=timezone.now() - timedelta(days=1),
    )
    return [plain, sms, quiet, letter, nothing, child, past, mobile_only, texted_only]


def _written(run: Any, prefix: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows `run` writes, then rolled back: (outbox rows with the prefix taken off their
    key, notifications)."""
    with transaction.atomic():
        before = set(Notification.objects.values_list("pk", flat=True))
        run()
        notes = sorted(
            (
                (n.key or "").removeprefix(prefix),
                n.profile_id,
                n.code,
                n.label,
                n.url,
                n.link_label,
                n.read_at,
                n.hidden_from_representatives,
            )
            for n in Notification.objects.exclude(pk__in=before)
        )
        deliveries = sorted(
            (
                d.key.removeprefix(prefix),
                d.recipient_id,
                d.channel,
                d.category,
                d.destination,
                d.subject,
                d.body,
                d.status,
                d.attempts,
                d.sent_at,
                d.batch_id,
            )
            for d in Delivery.objects.filter(key__startswith=prefix)
        )
        transaction.set_rollback(True)
    return deliveries, notes


@pytest.mark.parametrize("code", [Code.VACCINATION_DUE, Code.SECURITY_ALERT, Code.NEW_MESSAGE])
def test_notify_each_writes_the_rows_of_notify_many(population, code):
    ids = [p.pk for p in population]
    by_many = _written(
        lambda: notify_many(
            [
                Event(profile=p, code=code, label=LABEL, key=f"A:{p.pk}", url="/agenda/")
                for p in Citizen.objects.filter(pk__in=ids)
            ]
        ),
        "A:",
    )
    by_each = _written(
        lambda: notify_each(
            profile_ids=ids, code=code, label=LABEL, key_prefix="B:", url="/agenda/"
        ),
        "B:",
    )
    by_events = _written(
        lambda: notify_events(
            [
                Event(profile=p, code=code, label=LABEL, key=f"C:{p.pk}", url="/agenda/")
                for p in Citizen.objects.filter(pk__in=ids)
            ]
        ),
        "C:",
    )
    assert by_each == by_many == by_events
    deliveries, notes = by_each
    assert len(notes) == len(population)  # everyone in their centre, the child included
    told = {(d[1], d[2]) for d in deliveries}
    plain, sms, quiet, _letter, _nothing, child, _past, mobile_only, texted_only = population
    assert (plain.pk, "email") in told and (sms.pk, "sms") in told
    # A mobile and an address: the mobile reaches them, so never a letter; an SMS if chosen.
    assert mobile_only.pk not in {d[1] for d in deliveries}
    assert {d[2] for d in deliveries if d[1] == texted_only.pk} == {"sms"}
    about_child = {d[1] for d in deliveries if d[0].startswith(f"{child.pk}:")}
    assert about_child == {plain.pk, sms.pk}  # not `past`, no longer a representative
    letters = [d for d in deliveries if d[2] == "courrier"]
    if code == Code.VACCINATION_DUE:  # only what can wait goes by letter
        assert [d[4] for d in letters] == ["Jo Durand\n12 rue de la Paix\n75002 Paris"]
    else:
        assert not letters
    if code == Code.SECURITY_ALERT:  # security is never off
        assert (quiet.pk, "email") in told
    else:
        assert quiet.pk not in {d[1] for d in deliveries}
    assert all(LABEL not in d[6] and "grippe" not in d[6] for d in deliveries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based path: PostgreSQL")
def test_notify_each_is_one_statement_and_each_key_goes_in_once(population):
    ids = [p.pk for p in population]
    with CaptureQueriesContext(connection) as queries:
        assert notify_each(
            profile_ids=ids, code=Code.VACCINATION_DUE, label=LABEL, key_prefix="C:"
        ) == len(ids)
    assert len(queries.captured_queries) == 1  # whatever the number of people
    first = Delivery.objects.filter(key__startswith="C:").count()
    assert first > 0
    assert (
        notify_each(profile_ids=ids, code=Code.VACCINATION_DUE, label=LABEL, key_prefix="C:") == 0
    )
    assert Notification.objects.filter(key__startswith="C:").count() == len(ids)
    assert Delivery.objects.filter(key__startswith="C:").count() == first


def test_notify_many_leaves_out_an_event_already_said(population):
    """The key is the event's record: told once, in the centre and on the channels."""
    plain = population[0]
    event = Event(profile=plain, code=Code.VACCINATION_DUE, label=LABEL, key="D:1")
    assert len(notify_many([event, event])) == 1
    assert notify_many([event]) == []
    assert notify_events([event]) == 0
    assert Notification.objects.filter(key="D:1").count() == 1
    assert Delivery.objects.filter(key__startswith="D:1:").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based path: PostgreSQL")
def test_the_writer_cannot_notify_a_profile_that_does_not_exist(population):
    """Every source of `notify_select` reads the citizen's row: an unknown profile id writes
    nothing (whatever the foreign key's checks)."""
    ghost = uuid.uuid4()
    assert (
        notify_each(profile_ids=[ghost], code=Code.VACCINATION_DUE, label=LABEL, key_prefix="G:")
        == 0
    )
    stranger = Citizen(pk=ghost, user_id=None)
    assert (
        notify_events([Event(profile=stranger, code=Code.VACCINATION_DUE, label=LABEL, key="G:2")])
        == 0
    )
    assert not Notification.objects.filter(profile_id=ghost).exists()
