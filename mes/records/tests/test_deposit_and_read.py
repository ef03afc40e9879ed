"""Camille's documents: deposit, read, mask, and who sees what — each traced."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from mes.access.actors import AccessMode
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.lib.errors import InvalidInput, NotFound
from mes.records import actions
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.vault import store


@pytest.fixture
def lettre(camille, dr_martin):
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Lettre de liaison"),
        title="Lettre de liaison de sortie",
        type_code="11490-0",
    )


def test_deposit_stores_encrypted_blob_and_traces(camille, lettre):
    assert lettre.class_code == "10"  # derived from the type code, never given
    assert store.get(camille.pk, lettre.pk).startswith(b"%PDF-")
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.DEPOSIT_DOC)
    assert row.document_id == lettre.pk and row.outcome == TraceOutcome.ALLOWED
    assert camille.notifications.filter(code="AJOUT_DOCUMENT").count() == 1


def test_holder_reads_and_download_is_traced(camille, camille_actor, lettre):
    _, content = actions.document_content(actor=camille_actor, document_id=lettre.pk)
    assert content.startswith(b"%PDF-")
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.DOWNLOAD_DOC, actor_id=camille.ins
    ).exists()


def test_unrelated_doctor_gets_not_found_and_a_refused_trace(camille, dr_durand, lettre):
    with pytest.raises(NotFound):
        actions.document_content(actor=pro(dr_durand), document_id=lettre.pk)
    row = Trace.objects.filter(patient_id=camille.pk, outcome=TraceOutcome.REFUSED).get()
    assert row.actor_id == dr_durand.national_id and row.reason == "aucune autorisation d'accès"


def test_other_patient_gets_not_found(bob, lettre):
    from mes.access.actors import citizen_actor

    with pytest.raises(NotFound):
        actions.document_content(actor=citizen_actor(bob), document_id=lettre.pk)


def test_masked_document_seen_by_author_and_treating_physician_only(
    camille, camille_actor, dr_martin, ide_bernard, cabinet
):
    from mes.conftest import authorise, make_professional

    dr_cardio = make_professional("10000000009", "Lucie", "Garnier", "10", "SM04")
    authorise(camille, dr_cardio)
    doc = actions.document_deposit(
        actor=pro(dr_cardio),
        patient_id=camille.pk,
        content=make_pdf(),
        title="CR de consultation de cardiologie",
        type_code="11488-4",
    )
    actions.document_set_masked(actor=camille_actor, document_id=doc.pk, masked=True)
    assert Trace.objects.filter(action=TraceAction.MASK_DOC, document_id=doc.pk).exists()
    assert doc in documents_visible_to(pro(dr_cardio), camille)  # author
    assert doc in documents_visible_to(pro(dr_martin), camille)  # médecin traitant
    assert doc not in documents_visible_to(pro(ide_bernard), camille)
    with pytest.raises(NotFound):
        actions.document_content(actor=pro(ide_bernard), document_id=doc.pk)


def test_podologist_never_sees_a_cr_d_accouchement(camille, dr_martin, podo_petit):
    doc = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="CR d'accouchement",
        type_code="15508-5",
    )
    assert doc not in documents_visible_to(pro(podo_petit), camille)
    with pytest.raises(NotFound):
        actions.document_content(actor=pro(podo_petit), document_id=doc.pk)


def test_break_glass_refused_when_patient_opposed(camille, camille_actor, dr_durand, lettre):
    from mes.access.actions import emergency_access_open, privacy_update

    emergency = pro(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Patiente inconsciente")
    assert lettre not in documents_visible_to(emergency, camille)  # no emergency opened yet
    emergency_access_open(actor=emergency, patient_id=camille.pk)
    assert lettre in documents_visible_to(emergency, camille)
    privacy_update(actor=camille_actor, patient_id=camille.pk, oppose_break_glass=True)
    with pytest.raises(NotFound):
        actions.document_content(actor=emergency, document_id=lettre.pk)
    assert Trace.objects.filter(outcome=TraceOutcome.REFUSED, access_mode="bris_de_glace").exists()


def test_insurer_cannot_read(camille, assurance_maladie, lettre):
    with pytest.raises(NotFound):
        actions.document_content(actor=assurance_maladie, document_id=lettre.pk)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "Format de fichier non accepté"),
        (b"<html><script>alert(1)</script></html>", "Format de fichier non accepté"),
        (b"", "vide"),
    ],
)
def test_bad_upload_is_refused_and_stores_nothing(camille, camille_actor, content, message):
    with pytest.raises(InvalidInput, match=message):
        actions.document_deposit(
            actor=camille_actor,
            patient_id=camille.pk,
            content=content,
            title="ordonnance.pdf",
            category="ORD_SOIN",
        )
    assert not Document.objects.exists()


def test_upload_over_the_limit_is_refused(camille, camille_actor, settings):
    settings.MES_UPLOAD_MAX_BYTES = 1024
    with pytest.raises(InvalidInput, match="taille maximale"):
        actions.document_deposit(
            actor=camille_actor,
            patient_id=camille.pk,
            content=make_pdf() + b"0" * 2048,
            title="Gros fichier",
            category="ORD_SOIN",
        )
    assert not Document.objects.exists()


def test_unknown_type_code_is_refused(camille, dr_martin):
    from mes.lib.codes import UnknownCode

    with pytest.raises(UnknownCode, match="Type de document inconnu"):
        actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf(),
            title="Document",
            type_code="NIMPORTE",
        )
    assert not Document.objects.exists()


# 23:30 in UTC is 00:30 the next day in Paris (TIME_ZONE): the document's day is France's.
JUST_AFTER_MIDNIGHT_IN_PARIS = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)


def test_a_document_of_the_day_just_after_midnight_in_france_is_not_in_the_future(
    camille, dr_martin
):
    with time_machine.travel(JUST_AFTER_MIDNIGHT_IN_PARIS, tick=False):
        dated = actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf("Compte rendu"),
            title="Compte rendu de consultation",
            type_code="11488-4",
            service_date=date(2026, 12, 8),
        )
        undated = actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf("Ordonnance"),
            title="Ordonnance",
            type_code="57833-6",
        )
        with pytest.raises(InvalidInput, match="futur"):
            actions.document_deposit(
                actor=pro(dr_martin),
                patient_id=camille.pk,
                content=make_pdf("Demain"),
                title="Compte rendu de demain",
                type_code="11488-4",
                service_date=date(2026, 12, 9),
            )
    assert dated.service_date == undated.service_date == date(2026, 12, 8)
