"""What a proche aidant may and may not do in the aidé's espace (portal.md §5.8), one by one,
through the single decision function, then through the real actions that use it.

May: view, add, edit or delete data and documents; receive notifications (and read and send
messages, once the messaging exists: it goes through the same READ/DEPOSIT decisions).
May not: manage sharing with other aidants; change contact details, login or password; ask for
closure, deletion or the data download.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mes.access.actors import carer_actor, citizen_actor
from mes.access.decision import Action, Role, decide
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.carers import actions
from mes.conftest import make_pdf
from mes.lib.errors import NotFound
from mes.medical_profile import actions as profile_actions
from mes.notifications.actions import notify
from mes.notifications.centre import notifications_of
from mes.notifications.models import Notification
from mes.records import actions as records_actions
from mes.records.models import Document
from mes.records.policies import access_document

from .conftest import delegate

ALLOWED = [Action.READ, Action.DEPOSIT, Action.MANAGE, Action.READ_TRACES]
FORBIDDEN = [
    Action.MANAGE_CARERS,
    Action.MANAGE_ACCOUNT,
    Action.CLOSE_ESPACE,
    Action.EXPORT_DATA,
    Action.PRO_MANAGE,
]


@pytest.fixture
def aidant(jacqueline, isabelle):
    delegate(jacqueline, isabelle)
    return carer_actor(isabelle, aided=jacqueline)


@pytest.mark.parametrize("action", ALLOWED)
def test_the_aidant_may(aidant, jacqueline, action):
    decision = decide(aidant, action, jacqueline)
    assert decision.allowed, decision.reason
    assert decision.standing.role is Role.CARER


@pytest.mark.parametrize("action", FORBIDDEN)
def test_the_aidant_may_not(aidant, jacqueline, action):
    decision = decide(aidant, action, jacqueline)
    assert not decision.allowed


@pytest.mark.parametrize("action", FORBIDDEN[:-1])
def test_the_holder_keeps_what_the_aidant_may_not(jacqueline, action):
    assert decide(citizen_actor(jacqueline), action, jacqueline).allowed


def test_without_delegation_the_same_person_is_a_stranger(jacqueline, isabelle):
    for action in ALLOWED:
        assert not decide(citizen_actor(isabelle), action, jacqueline).allowed


@pytest.mark.parametrize("ended", ["revoked", "expired", "not_yet"])
def test_an_ended_delegation_gives_nothing(jacqueline, isabelle, ended):
    now = timezone.now()
    extra = {
        "revoked": {"revoked_at": now},
        "expired": {"ends_at": now - timedelta(seconds=1), "started_at": now - timedelta(days=2)},
        "not_yet": {"started_at": now + timedelta(days=1)},
    }[ended]
    delegate(jacqueline, isabelle, **extra)
    for action in ALLOWED:
        assert not decide(carer_actor(isabelle, aided=jacqueline), action, jacqueline).allowed


def test_the_delegation_is_one_way(jacqueline, isabelle, aidant):
    """Jacqueline gave access to Isabelle, not the reverse."""
    assert not decide(citizen_actor(jacqueline), Action.READ, isabelle).allowed


def test_the_aidant_reads_adds_edits_and_deletes_documents(aidant, jacqueline, isabelle):
    doc = records_actions.document_deposit(
        actor=aidant,
        patient_id=jacqueline.pk,
        content=make_pdf("Ordonnance"),
        title="Ordonnance du Dr Martin",
        category="ORD_SOIN",
    )
    assert doc.author_citizen_id == isabelle.pk
    assert access_document(aidant, doc.pk, action=Action.READ, trace_action=TraceAction.CONSULT_DOC)
    records_actions.document_update(
        actor=aidant,
        document_id=doc.pk,
        title="Ordonnance renouvelée",
        service_date=doc.service_date,
        category="ORD_SOIN",
        folder_id=None,
    )
    records_actions.document_delete(actor=aidant, document_id=doc.pk)
    assert Document.objects.get(pk=doc.pk).status == Document.Status.DELETED
    rows = Trace.objects.filter(patient_id=jacqueline.pk, acting_citizen_id=isabelle.pk)
    assert {TraceAction.DEPOSIT_DOC, TraceAction.CONSULT_DOC, TraceAction.DELETE_DOC} <= set(
        rows.values_list("action", flat=True)
    )
    assert all(r.actor_name == "Isabelle Roux" for r in rows)


def test_the_aidant_edits_the_profil_medical(aidant, jacqueline):
    group = profile_actions.blood_group_set(actor=aidant, patient_id=jacqueline.pk, value="APOS")
    assert group.patient_id == jacqueline.pk
    profile_actions.blood_group_delete(actor=aidant, patient_id=jacqueline.pk)


def test_the_aidant_receives_the_aides_notifications(aidant, jacqueline):
    notify(profile=jacqueline, code=Notification.Code.NEW_DOCUMENT, label="Nouveau document")
    assert [n.label for n in notifications_of(actor=aidant, profile_id=jacqueline.pk)] == [
        "Nouveau document"
    ]


def test_the_aidant_cannot_invite_another_aidant_nor_revoke_one(aidant, jacqueline, bob):
    with pytest.raises(NotFound):
        actions.carer_invite(
            actor=aidant,
            aided_id=jacqueline.pk,
            birth_name="Moreau",
            first_name="Bob",
            birth_date=bob.birth_date,
            ins=bob.ins,
            declared=True,
        )
    refused = Trace.objects.get(
        patient_id=jacqueline.pk, action=TraceAction.CARER_INVITE, outcome=TraceOutcome.REFUSED
    )
    assert "proche aidant" in refused.reason
    other = delegate(jacqueline, bob)
    with pytest.raises(NotFound):
        actions.carer_revoke(actor=aidant, delegation_id=other.pk)
    with pytest.raises(NotFound):
        actions.carers_overview(actor=aidant, aided_id=jacqueline.pk)


def test_the_aidant_cannot_write_directives_for_the_aide(aidant, jacqueline):
    """The directives anticipées are the person's own will (portal.md §4.1), not data."""
    from mes.medical_profile.directives import refusal_reason

    assert refusal_reason(actor=aidant, patient=jacqueline)


def test_the_aidant_cannot_close_the_aides_espace(aidant, jacqueline):
    """Closure is the holder's (or a legal representative's), never the aidant's (§5.8): the
    enrolment action asks the decision, traces the refusal and changes nothing."""
    from mes.enrolment import lifecycle
    from mes.enrolment.lifecycle import EnrolmentRefused
    from mes.enrolment.policies import state_of

    before = state_of(jacqueline)
    with pytest.raises(EnrolmentRefused):
        lifecycle.espace_close(actor=aidant, citizen=jacqueline, channel=lifecycle.ONLINE)
    assert state_of(jacqueline) == before
    refusal = Trace.objects.get(patient_id=jacqueline.pk, action=TraceAction.ESPACE_CLOSED)
    assert refusal.outcome == TraceOutcome.REFUSED
    # The holder herself may.
    lifecycle.espace_close(
        actor=citizen_actor(jacqueline), citizen=jacqueline, channel=lifecycle.ONLINE
    )
    assert state_of(jacqueline) == "closed"
