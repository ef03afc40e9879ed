"""Camille's notification centre: only the profiles she manages, never a minor's secret."""

from __future__ import annotations

import pytest

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import NotFound
from mes.notifications import centre
from mes.notifications.actions import notify
from mes.notifications.models import Notification


def _n(profile, label="Nouveau document", **extra):
    return notify(profile=profile, code=Notification.Code.NEW_DOCUMENT, label=label, **extra)


def test_holder_marks_read_unread_and_deletes(camille, camille_actor):
    n = _n(camille)
    assert centre.notification_set_read(
        actor=camille_actor, notification_id=n.pk, read=True
    ).read_at
    n.refresh_from_db()
    assert n.read_at is not None
    centre.notification_set_read(actor=camille_actor, notification_id=n.pk, read=False)
    n.refresh_from_db()
    assert n.read_at is None
    centre.notification_delete(actor=camille_actor, notification_id=n.pk)
    assert not Notification.objects.filter(pk=n.pk).exists()


def test_mark_all_read_counts_only_the_profile(camille, camille_actor, bob):
    _n(camille), _n(camille)
    other = _n(bob)
    assert centre.notifications_mark_all_read(actor=camille_actor, profile_id=camille.pk) == 2
    other.refresh_from_db()
    assert other.read_at is None


def test_representative_manages_the_childs_centre_but_not_its_secrets(camille, louis):
    parent = citizen_actor(camille)
    visible = _n(louis, "Vaccin")
    secret = _n(louis, "Secret", hidden_from_representatives=True)
    assert list(centre.notifications_of(actor=parent, profile_id=louis.pk)) == [visible]
    assert centre.notifications_mark_all_read(actor=parent, profile_id=louis.pk) == 1
    with pytest.raises(NotFound):
        centre.notification_delete(actor=parent, notification_id=secret.pk)
    secret.refresh_from_db()
    assert secret.read_at is None
    refused = Trace.objects.get(patient_id=louis.pk, outcome=TraceOutcome.REFUSED)
    assert refused.actor_id == camille.ins


def test_another_patient_is_refused_and_traced(camille, bob):
    n = _n(camille)
    bob_actor = citizen_actor(bob)
    with pytest.raises(NotFound):
        centre.notification_set_read(actor=bob_actor, notification_id=n.pk, read=True)
    with pytest.raises(NotFound):
        centre.notification_delete(actor=bob_actor, notification_id=n.pk)
    with pytest.raises(NotFound):
        centre.notifications_mark_all_read(actor=bob_actor, profile_id=camille.pk)
    with pytest.raises(NotFound):
        centre.notifications_of(actor=bob_actor, profile_id=camille.pk)
    n.refresh_from_db()
    assert n.read_at is None
    refused = Trace.objects.filter(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert refused.count() == 4 and {t.actor_id for t in refused} == {bob.ins}


def test_professional_never_manages_a_centre(camille, dr_martin):
    n = _n(camille)
    with pytest.raises(NotFound):
        centre.notification_set_read(actor=pro(dr_martin), notification_id=n.pk, read=True)
    assert Trace.objects.get(outcome=TraceOutcome.REFUSED).actor_id == dr_martin.national_id


def test_unknown_notification_is_not_found_and_traced(camille_actor):
    with pytest.raises(NotFound):
        centre.notification_delete(actor=camille_actor, notification_id=999999)
    row = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert row.patient_id is None and row.chain == "system"
