"""Jacqueline invites her daughter Isabelle as proche aidant; Isabelle accepts or declines; either
ends it; the limits, the expiries and the justificatif (portal.md §5.8, wave2.md §1.5)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from mes.access.actors import CARER_JUSTIFICATION, carer_actor, citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.carers import actions
from mes.carers.models import CarerDelegation, CarerInvitation
from mes.conftest import make_citizen
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.models import Notification
from mes.records.models import Document
from mes.vault import store

from .conftest import delegate


def _invite(aided, carer, **changes):
    traits = {
        "birth_name": carer.birth_name.upper(),
        "first_name": carer.first_name.lower(),
        "birth_date": carer.birth_date,
        "ins": carer.ins,
        "declared": True,
    }
    return actions.carer_invite(
        actor=citizen_actor(aided), aided_id=aided.pk, **{**traits, **changes}
    )


def _person(n: int, *, login: bool = True):
    return make_citizen(
        f"personne{n}" if login else None,
        first13=f"1600175056{n:03d}",
        first_name=f"Prénom{n}",
        birth_name="Essai",
        birth_date=date(1960, 1, 1),
        sex="M",
    )


def test_an_invitation_is_traced_and_notifies_the_aidant(jacqueline, isabelle):
    invitation = _invite(jacqueline, isabelle)
    assert invitation.status == CarerInvitation.Status.PENDING
    assert invitation.expires_at > timezone.now() + timedelta(days=59)
    t = Trace.objects.get(patient_id=jacqueline.pk, action=TraceAction.CARER_INVITE)
    assert t.document_title == "Isabelle Roux" and t.outcome == TraceOutcome.ALLOWED
    note = Notification.objects.get(profile=isabelle)
    assert note.code == Notification.Code.CARER_INVITATION
    assert "Jacqueline Roux" in note.label and note.link_label == "Voir la demande"


@pytest.mark.parametrize(
    "changes",
    [
        {"birth_name": "Dupont"},
        {"first_name": "Isa"},
        {"birth_date": date(1975, 4, 4)},
        {"ins": "275047505604599"},  # a well-formed number of nobody
    ],
)
def test_a_wrong_trait_finds_nobody_and_says_the_same_thing(jacqueline, isabelle, changes):
    with pytest.raises(InvalidInput) as exc:
        _invite(jacqueline, isabelle, **changes)
    assert str(exc.value) in (actions.NO_MATCH, "La clé du NIR ne correspond pas.") or "clé" in str(
        exc.value
    )
    assert not CarerInvitation.objects.exists()


def test_the_aidant_must_have_an_active_espace(jacqueline):
    no_login = _person(1, login=False)
    with pytest.raises(InvalidInput, match="compte Mon espace santé non actif"):
        _invite(jacqueline, no_login)


def test_the_declaration_is_required(jacqueline, isabelle):
    with pytest.raises(InvalidInput, match="Cochez la déclaration"):
        _invite(jacqueline, isabelle, declared=False)


def test_one_cannot_invite_oneself_nor_twice(jacqueline, isabelle):
    with pytest.raises(InvalidInput):
        _invite(jacqueline, jacqueline)
    _invite(jacqueline, isabelle)
    with pytest.raises(InvalidInput, match="Une autre délégation existe déjà"):
        _invite(jacqueline, isabelle)


def test_three_aidants_per_aide_counting_pending_invitations(jacqueline):
    for n in range(3):
        _invite(jacqueline, _person(n))
    with pytest.raises(InvalidInput, match="nombre maximum de proches aidants"):
        _invite(jacqueline, _person(9))


def test_five_aides_per_aidant(isabelle):
    for n in range(5):
        delegate(_person(n), isabelle)
    with pytest.raises(InvalidInput, match="nombre maximum de personnes aidées"):
        _invite(_person(7), isabelle)


def test_acceptance_opens_the_access_and_files_the_justificatif_in_both_espaces(
    jacqueline, isabelle
):
    invitation = _invite(jacqueline, isabelle)
    delegation = actions.carer_accept(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
    assert delegation.is_active
    assert delegation.ends_at > timezone.now() + timedelta(days=364)
    for owner, doc_id in (
        (jacqueline, delegation.aided_proof_id),
        (isabelle, delegation.carer_proof_id),
    ):
        doc = Document.objects.get(pk=doc_id, patient=owner)
        assert doc.category == "DOC_ADM" and doc.mime_type == "application/pdf"
        content = store.get(owner.pk, doc.pk)
        assert content.startswith(b"%PDF")
    accepted = Trace.objects.get(patient_id=jacqueline.pk, action=TraceAction.CARER_ACCEPT)
    assert accepted.acting_citizen_id == isabelle.pk
    assert accepted.justification == CARER_JUSTIFICATION
    note = Notification.objects.get(profile=jacqueline, code=Notification.Code.CARER_ACCEPTED)
    assert note.link_label == "Voir le justificatif"
    invitation.refresh_from_db()
    assert invitation.status == CarerInvitation.Status.ACCEPTED


def test_refusal_notifies_the_aide(jacqueline, isabelle):
    invitation = _invite(jacqueline, isabelle)
    actions.carer_refuse(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.status == CarerInvitation.Status.REFUSED
    assert Notification.objects.filter(
        profile=jacqueline, code=Notification.Code.CARER_DECLINED
    ).exists()
    assert not CarerDelegation.objects.exists()
    assert Trace.objects.filter(patient_id=jacqueline.pk, action=TraceAction.CARER_REFUSE).exists()


def test_only_the_invited_person_answers(jacqueline, isabelle, bob):
    invitation = _invite(jacqueline, isabelle)
    for actor in (citizen_actor(bob), citizen_actor(jacqueline)):
        with pytest.raises(NotFound):
            actions.carer_accept(actor=actor, invitation_id=invitation.pk)
    refused = Trace.objects.filter(
        patient_id=jacqueline.pk, action=TraceAction.CARER_ACCEPT, outcome=TraceOutcome.REFUSED
    )
    assert refused.count() == 2
    assert not CarerDelegation.objects.exists()


def test_an_invitation_expires(jacqueline, isabelle):
    invitation = _invite(jacqueline, isabelle)
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        assert invitation.effective_status == CarerInvitation.Status.EXPIRED
        with pytest.raises(InvalidInput, match="expiré"):
            actions.carer_accept(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
        # Once expired it no longer counts, and a new one may be sent.
        _invite(jacqueline, isabelle)
    assert not CarerDelegation.objects.exists()


def test_a_delegation_expires(jacqueline, isabelle):
    delegation = delegate(jacqueline, isabelle)
    with time_machine.travel(delegation.ends_at + timedelta(seconds=1)):
        assert not CarerDelegation.objects.active().exists()
        from mes.access.decision import Action, decide

        assert not decide(carer_actor(isabelle, aided=jacqueline), Action.READ, jacqueline).allowed


def test_the_aide_revokes_and_the_aidant_is_told(jacqueline, isabelle):
    delegation = delegate(jacqueline, isabelle)
    actions.carer_revoke(actor=citizen_actor(jacqueline), delegation_id=delegation.pk)
    delegation.refresh_from_db()
    assert delegation.revoked_by == CarerDelegation.EndedBy.AIDED and not delegation.is_active
    assert Notification.objects.filter(
        profile=isabelle, code=Notification.Code.CARER_REVOKED_BY_AIDED
    ).exists()
    assert Trace.objects.filter(patient_id=jacqueline.pk, action=TraceAction.CARER_REVOKE).exists()


def test_the_aidant_stops_and_the_aide_is_told(jacqueline, isabelle):
    delegation = delegate(jacqueline, isabelle)
    actions.carer_revoke(actor=carer_actor(isabelle, aided=jacqueline), delegation_id=delegation.pk)
    delegation.refresh_from_db()
    assert delegation.revoked_by == CarerDelegation.EndedBy.CARER
    assert Notification.objects.filter(
        profile=jacqueline, code=Notification.Code.CARER_REVOKED_BY_CARER
    ).exists()


def test_a_stranger_cannot_revoke(jacqueline, isabelle, bob):
    delegation = delegate(jacqueline, isabelle)
    with pytest.raises(NotFound):
        actions.carer_revoke(actor=citizen_actor(bob), delegation_id=delegation.pk)
    assert CarerDelegation.objects.get(pk=delegation.pk).is_active
    assert Trace.objects.filter(
        patient_id=jacqueline.pk, action=TraceAction.CARER_REVOKE, outcome=TraceOutcome.REFUSED
    ).exists()


def test_the_aide_cancels_a_pending_invitation(jacqueline, isabelle, bob):
    invitation = _invite(jacqueline, isabelle)
    with pytest.raises(NotFound):
        actions.carer_invitation_cancel(actor=citizen_actor(bob), invitation_id=invitation.pk)
    actions.carer_invitation_cancel(actor=citizen_actor(jacqueline), invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.status == CarerInvitation.Status.CANCELLED
