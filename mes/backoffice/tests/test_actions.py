"""« Nous contacter » (portal.md §10): a request about one profile reaches the support desk."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.test import override_settings

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.backoffice.actions import support_request_send
from mes.backoffice.models import SupportRequest
from mes.conftest import pro
from mes.lib.errors import InvalidInput, NotFound


def _send(actor, requester, patient, **kw):
    data = {
        "reason": "DOCUMENT",
        "message": "Un document mal classé.",
        "agents_may_access_profile": False,
        **kw,
    }
    return support_request_send(actor=actor, requester=requester, patient_id=patient.pk, **data)


@override_settings(MES_SUPPORT_EMAIL="support@example.org")
def test_camille_writes_to_the_support_about_her_profile(
    camille, camille_actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        req = _send(camille_actor, camille, camille, agents_may_access_profile=True)
    assert req.profile == camille and req.requester == camille
    assert req.status == SupportRequest.Status.OPEN and req.agents_may_access_profile
    assert (req.purge_after - req.created_at).days == 365
    t = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SUPPORT_REQUEST)
    assert t.outcome == TraceOutcome.ALLOWED
    # The desk is told, without the message or who sent it (it may hold health data).
    assert len(mail.outbox) == 1 and req.reference in mail.outbox[0].subject
    assert "mal classé" not in mail.outbox[0].body and "Camille" not in mail.outbox[0].body


def test_camille_writes_about_louis(camille, louis, camille_actor):
    req = _send(camille_actor, camille, louis)
    assert req.profile == louis and req.requester == camille


@pytest.mark.parametrize("who", ["bob", "dr_durand"])
def test_nobody_writes_about_a_profile_they_do_not_manage(request, camille, bob, who):
    person = request.getfixturevalue(who)
    actor = citizen_actor(person) if who == "bob" else pro(person)
    with pytest.raises(NotFound):
        _send(actor, bob, camille)
    assert not SupportRequest.objects.exists()
    t = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SUPPORT_REQUEST)
    assert t.outcome == TraceOutcome.REFUSED


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"reason": "PIRATE"}, "motif"),
        ({"message": "   "}, "Écrivez votre message"),
        ({"message": "x" * 3001}, "3000 caractères"),
    ],
)
def test_bad_input_stores_nothing(camille, camille_actor, kw, message):
    with pytest.raises(InvalidInput, match=message):
        _send(camille_actor, camille, camille, **kw)
    assert not SupportRequest.objects.exists()


@override_settings(MES_SUPPORT_REQUESTS_PER_DAY=2)
def test_too_many_requests_in_a_day(camille, camille_actor):
    _send(camille_actor, camille, camille)
    _send(camille_actor, camille, camille)
    with pytest.raises(InvalidInput, match="dépassé le nombre de demandes autorisées"):
        _send(camille_actor, camille, camille)
    assert SupportRequest.objects.count() == 2


def test_unknown_profile(camille, camille_actor):
    with pytest.raises(NotFound):
        support_request_send(
            actor=camille_actor,
            requester=camille,
            patient_id=uuid.uuid4(),
            reason="AUTRE",
            message="?",
            agents_may_access_profile=False,
        )
