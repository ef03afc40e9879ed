"""« Partage du profil » respects the espace's state (mes-spec §3.1): the management of a
child's profile is never offered to a person whose own espace is closed; the refusal is the
one said for a person who does not exist."""

from __future__ import annotations

from datetime import date

import pytest

from mes.access.actors import citizen_actor
from mes.enrolment import actions, lifecycle
from mes.enrolment.models import ProfileShareRequest
from mes.lib.errors import InvalidInput
from mes.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_management_is_not_offered_to_a_closed_espace(camille, louis, pierre):
    lifecycle.espace_close(actor=citizen_actor(pierre), citizen=pierre, channel=lifecycle.ONLINE)
    with pytest.raises(InvalidInput) as refused:
        actions.profile_share_request(
            actor=citizen_actor(camille),
            represented_id=louis.pk,
            birth_name="Lefèvre",
            first_name="Pierre",
            birth_date=date(1983, 6, 2),
            ins=pierre.ins,
            role="father",
        )
    assert str(refused.value) == actions.NO_MATCH
    assert not ProfileShareRequest.objects.exists()
    assert not Notification.objects.filter(
        profile=pierre, code=Notification.Code.PROFILE_SHARE
    ).exists()
