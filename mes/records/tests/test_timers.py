"""A document « non visible par le patient » (R1111-53): hidden from Camille until a professional
shows it to her, with a reminder after 2 weeks and an automatic release after 1 month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from mes.access.actors import AccessMode, citizen_actor, system_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.models import Notification
from mes.records import actions
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.records.tasks import sweep_hidden_documents
from mes.records.timers import (
    SWEEP_ACTOR_NAME,
    SweepResult,
    document_release_to_patient,
    hidden_documents_sweep,
)

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
TITLE = "Résultats d'anatomopathologie"
SWEEPER = system_actor(SWEEP_ACTOR_NAME)


@pytest.fixture
def deposited(time_machine, camille, dr_martin):
    """Dr Martin deposits a biology report Camille must not see before a consultation."""
    time_machine.move_to(T0, tick=False)
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(TITLE),
        title=TITLE,
        type_code="11502-2",
        hidden_from_patient=True,
    )


def _camille_sees(camille, doc: Document) -> bool:
    return documents_visible_to(citizen_actor(camille), camille).filter(pk=doc.pk).exists()


def _notifications(camille, code: str):
    return Notification.objects.filter(profile=camille, code=code)


def test_hidden_from_camille_before_anything(camille, deposited, dr_martin):
    assert not _camille_sees(camille, deposited)
    with pytest.raises(NotFound):
        actions.document_content(actor=citizen_actor(camille), document_id=deposited.pk)
    refused = Trace.objects.get(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert "R1111-53" in refused.reason
    # No « nouveau document » announcing it either.
    assert not Notification.objects.filter(profile=camille).exists()
    # The professionals see it.
    assert deposited in documents_visible_to(pro(dr_martin), camille)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=0)


def test_reminder_after_two_weeks_names_no_document(time_machine, camille, deposited):
    time_machine.move_to(T0 + timedelta(days=13), tick=False)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=0)

    time_machine.move_to(T0 + timedelta(weeks=2), tick=False)
    traces_before = Trace.objects.count()
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=1, released=0)

    (reminder,) = _notifications(camille, Notification.Code.HIDDEN_DOCUMENT_PENDING)
    assert "médecin traitant" in reminder.label and "professionnel" in reminder.label
    assert TITLE not in reminder.label and reminder.url == ""
    assert TITLE not in reminder.link_label
    # Nothing written in the trace either: the reminder reads nothing.
    assert Trace.objects.count() == traces_before
    deposited.refresh_from_db()
    assert deposited.hidden_from_patient_alerted_at == T0 + timedelta(weeks=2)
    assert deposited.hidden_from_patient_released_at is None
    assert not _camille_sees(camille, deposited)

    # Idempotent: the next run reminds nobody again.
    time_machine.move_to(T0 + timedelta(days=20), tick=False)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=0)
    assert _notifications(camille, Notification.Code.HIDDEN_DOCUMENT_PENDING).count() == 1


def test_visible_after_one_month_even_before_the_sweep(time_machine, camille, deposited):
    time_machine.move_to(T0 + timedelta(days=30) - timedelta(seconds=1), tick=False)
    assert not _camille_sees(camille, deposited)

    time_machine.move_to(T0 + timedelta(days=30), tick=False)
    # The decision counts the month itself: a late sweep delays nothing.
    assert _camille_sees(camille, deposited)
    _, content = actions.document_content(actor=citizen_actor(camille), document_id=deposited.pk)
    assert content.startswith(b"%PDF-")


def test_the_sweep_records_the_release_notifies_and_traces(time_machine, camille, deposited):
    time_machine.move_to(T0 + timedelta(weeks=2), tick=False)
    hidden_documents_sweep(actor=SWEEPER)

    released_at = T0 + timedelta(days=31)
    time_machine.move_to(released_at, tick=False)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=1)

    deposited.refresh_from_db()
    assert deposited.hidden_from_patient_released_at == released_at
    assert "INVISIBLE_PATIENT" not in deposited.confidentiality_codes
    (notice,) = _notifications(camille, Notification.Code.AUTO_RELEASE)
    assert notice.label.startswith("Un document est désormais visible")
    assert notice.url == reverse("portal:document", args=[deposited.pk])
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.RELEASE_DOC)
    assert row.outcome == TraceOutcome.ALLOWED
    assert row.actor_kind == "system" and row.actor_name == SWEEP_ACTOR_NAME
    assert row.document_id == deposited.pk and row.at == released_at

    # Idempotent.
    time_machine.move_to(released_at + timedelta(days=1), tick=False)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=0)
    assert _notifications(camille, Notification.Code.AUTO_RELEASE).count() == 1
    assert Trace.objects.filter(action=TraceAction.RELEASE_DOC).count() == 1


def test_a_late_sweep_releases_without_a_pointless_reminder(time_machine, camille, deposited):
    time_machine.move_to(T0 + timedelta(days=45), tick=False)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=1)
    assert not _notifications(camille, Notification.Code.HIDDEN_DOCUMENT_PENDING).exists()


def test_a_deleted_or_replaced_document_is_left_alone(time_machine, camille, deposited):
    Document.objects.filter(pk=deposited.pk).update(status=Document.Status.SUPERSEDED)
    time_machine.move_to(T0 + timedelta(days=45), tick=False)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=0)


def test_only_a_system_actor_runs_the_sweep(camille):
    with pytest.raises(PermissionError):
        hidden_documents_sweep(actor=citizen_actor(camille))


def test_a_minors_secret_document_reminds_without_telling_the_parents(
    time_machine, louis, dr_martin
):
    time_machine.move_to(T0, tick=False)
    doc = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=louis.pk,
        content=make_pdf(),
        title="Consultation confidentielle",
        type_code="11488-4",
        hidden_from_patient=True,
        hidden_from_representatives=True,
    )
    time_machine.move_to(T0 + timedelta(days=31), tick=False)
    hidden_documents_sweep(actor=SWEEPER)
    assert Notification.objects.filter(profile=louis).get().hidden_from_representatives
    row = Trace.objects.get(document_id=doc.pk, action=TraceAction.RELEASE_DOC)
    assert row.hidden_from_representatives


def test_a_professional_releases_it_after_the_consultation(
    time_machine, camille, deposited, ide_bernard
):
    time_machine.move_to(T0 + timedelta(days=3), tick=False)
    doc = document_release_to_patient(actor=pro(ide_bernard), document_id=deposited.pk)
    assert doc.hidden_from_patient_released_at == T0 + timedelta(days=3)
    assert _camille_sees(camille, deposited)
    (notice,) = _notifications(camille, Notification.Code.NEW_DOCUMENT)
    assert TITLE in notice.label and notice.url == reverse("portal:document", args=[doc.pk])
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.RELEASE_DOC)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == ide_bernard.national_id

    # Released: no reminder, no automatic release later, and not twice.
    time_machine.move_to(T0 + timedelta(days=40), tick=False)
    assert hidden_documents_sweep(actor=SWEEPER) == SweepResult(alerted=0, released=0)
    with pytest.raises(InvalidInput, match="déjà visible"):
        document_release_to_patient(actor=pro(ide_bernard), document_id=deposited.pk)


def test_the_author_releases_it(camille, deposited, dr_martin):
    document_release_to_patient(actor=pro(dr_martin), document_id=deposited.pk)
    assert _camille_sees(camille, deposited)


@pytest.mark.parametrize("who", ["camille", "dr_durand", "bob", "bris_de_glace"])
def test_release_refused_to_anyone_else(request, time_machine, camille, deposited, who):
    if who == "camille":
        # Even once the month is over and she may read it, she does not « release » it herself.
        time_machine.move_to(T0 + timedelta(days=31), tick=False)
        actor = citizen_actor(camille)
    elif who == "bob":
        actor = citizen_actor(request.getfixturevalue("bob"))
    elif who == "dr_durand":
        actor = pro(request.getfixturevalue("dr_durand"))
    else:
        actor = pro(
            request.getfixturevalue("dr_durand"),
            mode=AccessMode.BREAK_GLASS,
            justification="Patiente inconsciente",
        )
    with pytest.raises(NotFound):
        document_release_to_patient(actor=actor, document_id=deposited.pk)
    rows = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.RELEASE_DOC)
    assert [(r.outcome, r.actor_id) for r in rows] == [(TraceOutcome.REFUSED, actor.national_id)]
    deposited.refresh_from_db()
    assert deposited.hidden_from_patient_released_at is None
    assert not _notifications(camille, Notification.Code.NEW_DOCUMENT).exists()


def test_the_command_says_what_it_did(time_machine, camille, deposited):
    time_machine.move_to(T0 + timedelta(days=31), tick=False)
    out = StringIO()
    call_command("sweep_hidden_documents", stdout=out)
    assert "0 rappel(s) envoyé(s)" in out.getvalue()
    assert "1 document(s) rendu(s) visible(s)" in out.getvalue()


def test_the_background_task_runs_the_sweep(time_machine, camille, deposited):
    time_machine.move_to(T0 + timedelta(weeks=2), tick=False)
    result = sweep_hidden_documents.enqueue()
    assert result.return_value == {"alerted": 1, "released": 0}
