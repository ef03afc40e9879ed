"""The account's changes reach the person on the old channel too (portal.md §5.7), also when
they have no e-mail: Bob, who gave only his mobile, is told by SMS on his old number that it
was replaced, and by SMS that his password changed."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from mes.access.actors import citizen_actor
from mes.conftest import PASSWORD
from mes.enrolment import account
from mes.identity.models import OneTimeCode, User
from mes.notifications import sms

pytestmark = pytest.mark.django_db

OLD, NEW = "0611111111", "0622222222"


@pytest.fixture
def bob_by_phone(bob):
    User.objects.filter(pk=bob.user_id).update(email="", phone=OLD)
    bob.email = ""
    bob.save(update_fields=["email"])
    sms.outbox.clear()
    return User.objects.get(pk=bob.user_id)


def test_a_new_mobile_is_confirmed_on_it_and_the_old_one_is_told(
    bob_by_phone, django_capture_on_commit_callbacks
):
    user = bob_by_phone
    account.contact_change_start(user=user, channel=OneTimeCode.Channel.SMS, value=NEW)
    to, text = sms.outbox[-1]
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert to == NEW
    with django_capture_on_commit_callbacks(execute=True):
        account.contact_change_finish(
            user=user, channel=OneTimeCode.Channel.SMS, value=NEW, code=code, address="192.0.2.1"
        )
    assert User.objects.get(pk=user.pk).phone == NEW
    to, text = sms.outbox[-1]
    assert to == OLD and "numéro de mobile" in text and "3422" in text
    assert mail.outbox == []


def test_a_password_change_is_told_by_sms_without_an_e_mail(
    bob_by_phone, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        account.password_change(
            actor=citizen_actor(bob), user=bob_by_phone, current=PASSWORD, new="Nouveau-mot2passe!"
        )
    to, text = sms.outbox[-1]
    assert to == OLD and "mot de passe" in text


def test_a_new_code_by_sms_goes_to_the_mobile_the_account_confirmed(bob_by_phone, bob):
    """After a closure, the code that reopens the espace goes to the mobile the person
    confirmed in their account, not to the one of the affiliation file."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    from mes.enrolment import lifecycle
    from mes.enrolment.models import Espace

    lifecycle.espace_close(actor=citizen_actor(bob), citizen=bob, channel=lifecycle.ONLINE)
    Espace.objects.filter(pk=bob.pk).update(vitale_serial="80250000021", phone="0699999999")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        _, where = lifecycle.code_regenerate(
            nir=bob.ins, vitale_serial="80250000021", birth_date=bob.birth_date, channel="sms"
        )
    assert sms.outbox[-1][0] == OLD and where.endswith(OLD[-2:])


def test_a_new_code_by_e_mail_goes_to_the_address_confirmed_at_activation(bob):
    """Bob confirmed another address than the affiliation file's when he activated: the code
    that reopens his closed espace goes there."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    from mes.enrolment import lifecycle
    from mes.enrolment.models import Espace

    User.objects.filter(pk=bob.user_id).update(email="bob.confirme@example.org")
    lifecycle.espace_close(actor=citizen_actor(bob), citizen=bob, channel=lifecycle.ONLINE)
    Espace.objects.filter(pk=bob.pk).update(vitale_serial="80250000021")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        lifecycle.code_regenerate(
            nir=bob.ins, vitale_serial="80250000021", birth_date=bob.birth_date, channel="email"
        )
    assert mail.outbox[-1].to == ["bob.confirme@example.org"]
