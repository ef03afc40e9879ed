"""`notify_each`, the set-based path of a campaign's slice, writes exactly the rows that
`notify_many` writes for the same event, whoever the people are: holders with an e-mail, with
SMS chosen, with e-mail turned off, with neither but an address (a letter), with nothing; a
child without an account told through its current representatives (not a past one); and,
once written, the same keys again add nothing to the outbox."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mes.conftest import make_citizen
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen
from mes.notifications.channels import Event, notify_each, notify_many
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
    for category in (Category.APPOINTMENTS, Category.SECURITY, Category.MESSAGES):
        ChannelPreference.objects.create(citizen=sms, category=category, email=True, sms=True)
        ChannelPreference.objects.create(citizen=quiet, category=category, email=False, sms=False)
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
    return [plain, sms, quiet, letter, nothing, child, past]


def _written(run: Any, prefix: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows `run` writes, then rolled back: (outbox rows with the prefix taken off their
    key, notifications)."""
    with transaction.atomic():
        before = set(Notification.objects.values_list("pk", flat=True))
        run()
        notes = sorted(
            (
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
    assert by_each == by_many
    deliveries, notes = by_each
    assert len(notes) == len(population)  # everyone in their centre, the child included
    told = {(d[1], d[2]) for d in deliveries}
    plain, sms, quiet, _letter, _nothing, child, _past = population
    assert (plain.pk, "email") in told and (sms.pk, "sms") in told
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
def test_notify_each_is_two_statements_and_each_key_goes_in_once(population):
    ids = [p.pk for p in population]
    with CaptureQueriesContext(connection) as queries:
        notify_each(profile_ids=ids, code=Code.VACCINATION_DUE, label=LABEL, key_prefix="C:")
    assert len(queries.captured_queries) == 2  # whatever the number of people
    first = Delivery.objects.filter(key__startswith="C:").count()
    assert first > 0
    notify_each(profile_ids=ids, code=Code.VACCINATION_DUE, label=LABEL, key_prefix="C:")
    assert Delivery.objects.filter(key__startswith="C:").count() == first
