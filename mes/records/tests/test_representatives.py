"""Camille manages Louis's espace as his mother (mes-spec §3.5), except what Louis asked his
doctor to keep from his parents (R1111-50, INVISIBLE_REPRESENTANTS_LEGAUX)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.access.decision import Action, decide
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import authorise, make_pdf, make_professional, pro
from mes.enrolment.models import LegalRepresentation
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.models import Notification
from mes.records import actions
from mes.records.policies import access_dossier, documents_visible_to


@pytest.fixture
def dr_pediatre(louis, cabinet):
    pro_ = make_professional("10000000010", "Inès", "Garcia", "10", "SM32", cabinet)
    authorise(louis, pro_)
    return pro_


@pytest.fixture
def vaccins(louis, dr_pediatre):
    return actions.document_deposit(
        actor=pro(dr_pediatre),
        patient_id=louis.pk,
        content=make_pdf("Bilan de santé"),
        title="Bilan de santé de l'enfant",
        type_code="68817-6",
    )


@pytest.fixture
def secret(louis, dr_pediatre):
    """Louis asked Dr Garcia that his parents may not see this one (L1111-5)."""
    return actions.document_deposit(
        actor=pro(dr_pediatre),
        patient_id=louis.pk,
        content=make_pdf("Consultation"),
        title="Consultation confidentielle",
        type_code="11488-4",
        hidden_from_representatives=True,
    )


def test_camille_sees_louis_documents_but_not_the_secret_one(camille, louis, vaccins, secret):
    visible = set(documents_visible_to(citizen_actor(camille), louis))
    assert visible == {vaccins}
    _, content = actions.document_content(actor=citizen_actor(camille), document_id=vaccins.pk)
    assert content.startswith(b"%PDF-")
    row = Trace.objects.get(action=TraceAction.DOWNLOAD_DOC, document_id=vaccins.pk)
    # The trace is on Louis's chain, and says that his mother acted.
    assert row.patient_id == louis.pk and row.acting_citizen_id == camille.pk
    assert row.actor_id == camille.ins and not row.hidden_from_representatives

    with pytest.raises(NotFound):
        actions.document_content(actor=citizen_actor(camille), document_id=secret.pk)
    refused = Trace.objects.get(outcome=TraceOutcome.REFUSED, document_id=secret.pk)
    assert "R1111-50" in refused.reason
    # Even her refused attempt does not tell the parents' history that the document exists.
    assert refused.hidden_from_representatives


def test_louis_himself_sees_the_secret_document(louis, vaccins, secret):
    assert set(documents_visible_to(citizen_actor(louis), louis)) == {vaccins, secret}


def test_the_secret_document_is_kept_out_of_the_parents_notifications(camille, louis, secret):
    (notice,) = Notification.objects.filter(profile=louis)
    assert notice.hidden_from_representatives


def test_a_professional_access_to_the_secret_document_is_hidden_from_the_parents(
    louis, dr_pediatre, secret
):
    _, content = actions.document_content(actor=pro(dr_pediatre), document_id=secret.pk)
    assert content.startswith(b"%PDF-")
    rows = Trace.objects.filter(patient_id=louis.pk, document_id=secret.pk)
    assert {r.action for r in rows} == {TraceAction.DEPOSIT_DOC, TraceAction.DOWNLOAD_DOC}
    assert all(r.hidden_from_representatives for r in rows)


def test_hiding_from_representatives_is_refused_for_an_adult(camille, dr_martin):
    with pytest.raises(InvalidInput, match="mineur"):
        actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf(),
            title="Consultation",
            type_code="11488-4",
            hidden_from_representatives=True,
        )
    assert not camille.documents.exists()


def test_hiding_from_representatives_is_refused_to_a_citizen_depositor(camille, louis):
    with pytest.raises(InvalidInput, match="réservées aux professionnels"):
        actions.document_deposit(
            actor=citizen_actor(camille),
            patient_id=louis.pk,
            content=make_pdf(),
            title="Carnet de santé",
            category="ORD_SOIN",
            hidden_from_representatives=True,
        )
    assert not louis.documents.exists()


def test_bob_is_not_louis_representative(bob, louis, vaccins):
    bob_actor = citizen_actor(bob)
    with pytest.raises(NotFound):
        actions.document_content(actor=bob_actor, document_id=vaccins.pk)
    with pytest.raises(NotFound):
        access_dossier(bob_actor, louis.pk, action=Action.READ, trace_action=None)
    assert not documents_visible_to(bob_actor, louis).exists()
    refused = Trace.objects.filter(patient_id=louis.pk, outcome=TraceOutcome.REFUSED)
    assert refused.count() == 2 and {r.actor_id for r in refused} == {bob.ins}


def test_an_ended_representation_gives_no_access(camille, louis, vaccins):
    LegalRepresentation.objects.filter(representative=camille, represented=louis).update(
        ended_at=timezone.now() - timedelta(days=1)
    )
    camille_actor = citizen_actor(camille)
    assert not decide(camille_actor, Action.READ, louis).allowed
    assert not decide(camille_actor, Action.MANAGE, louis).allowed
    assert not documents_visible_to(camille_actor, louis).exists()
    with pytest.raises(NotFound):
        actions.document_content(actor=camille_actor, document_id=vaccins.pk)
    assert Trace.objects.filter(
        patient_id=louis.pk, outcome=TraceOutcome.REFUSED, actor_id=camille.ins
    ).exists()


def test_a_representation_that_ends_later_still_counts(camille, louis, vaccins):
    LegalRepresentation.objects.filter(representative=camille, represented=louis).update(
        ended_at=timezone.now() + timedelta(days=1)
    )
    assert vaccins in documents_visible_to(citizen_actor(camille), louis)
