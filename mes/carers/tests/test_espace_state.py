"""A closed espace receives nothing (mes-spec §3.1): nobody can invite its holder as a proche
aidant; the refusal says nothing more than for an unknown person."""

from __future__ import annotations

import pytest

from mes.access.actors import citizen_actor
from mes.carers import actions
from mes.carers.models import CarerInvitation
from mes.enrolment import lifecycle
from mes.lib.errors import InvalidInput
from mes.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_nobody_invites_a_person_whose_espace_is_closed(jacqueline, isabelle):
    lifecycle.espace_close(
        actor=citizen_actor(isabelle), citizen=isabelle, channel=lifecycle.ONLINE
    )
    with pytest.raises(InvalidInput) as refused:
        actions.carer_invite(
            actor=citizen_actor(jacqueline),
            aided_id=jacqueline.pk,
            birth_name=isabelle.birth_name,
            first_name=isabelle.first_name,
            birth_date=isabelle.birth_date,
            ins=isabelle.ins,
            declared=True,
        )
    assert str(refused.value) == actions.NO_MATCH
    assert not CarerInvitation.objects.exists()
    assert not Notification.objects.filter(
        profile=isabelle, code=Notification.Code.CARER_INVITATION
    ).exists()


def test_a_closed_aides_profile_leaves_the_aidants_switcher(jacqueline, isabelle):
    """The aidant is offered only the profiles that can be opened: once the aidée's espace is
    closed, it is no longer listed (as a represented child's is not)."""
    from mes.carers.tests.conftest import delegate
    from mes.portal.access import profiles_of

    delegate(jacqueline, isabelle)
    assert jacqueline in profiles_of(isabelle)
    lifecycle.espace_close(
        actor=citizen_actor(jacqueline), citizen=jacqueline, channel=lifecycle.ONLINE
    )
    assert profiles_of(isabelle) == [isabelle]
