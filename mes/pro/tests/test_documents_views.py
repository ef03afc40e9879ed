"""Camille's documents seen from the Web PS: the list and its timeline by class, one document,
its download, the author's and médecin traitant's actions, the release after a consultation
d'annonce — each with its denials (no consent, blocked, the matrix, the masking) and traces."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from django.urls import reverse

from mes.audit.models import TraceAction, TraceOutcome
from mes.notifications.models import Notification
from mes.records.models import Document

from .conftest import block, body, deposit, traces


def _titles(html):
    return re.findall(r'<a class="fw-semibold" href="/pro/documents/[0-9a-f-]+/">([^<]+)</a>', html)


def _list(client, patient, **params):
    return client.get(reverse("pro:documents", args=[patient.pk]), params)


@pytest.fixture
def dossier(consultation, accouchement, plan_de_soins):
    return consultation, accouchement, plan_de_soins


# --- the list ------------------------------------------------------------------------------


def test_the_medecin_traitant_sees_everything_grouped_by_class(
    as_martin, dr_martin, camille, dossier
):
    response = _list(as_martin, camille)
    assert response.status_code == 200
    html = body(response)
    assert "3 documents" in html
    assert set(_titles(html)) == {
        "Compte rendu de consultation",
        "Compte rendu d'accouchement",
        "Plan de soins infirmiers",
    }
    # Timeline by class, « Comptes rendus » then « Plans de soins… », each group dated.
    assert html.index("Comptes rendus") < html.index("Plans de soins et protocoles")
    assert 'class="pro-timeline"' in html
    assert "Masqué aux professionnels" in html  # the MT sees the masked plan, flagged
    [listed] = traces(camille, TraceAction.CONSULT_DOSSIER)
    assert listed.outcome == TraceOutcome.ALLOWED
    assert listed.actor_id == dr_martin.national_id and listed.access_mode == "normal"
    assert listed.matrix_version


def test_the_author_of_a_masked_document_still_sees_it(as_bernard, camille, dossier):
    titles = _titles(body(_list(as_bernard, camille)))
    assert "Plan de soins infirmiers" in titles


def test_the_podologue_sees_neither_the_accouchement_nor_the_masked_plan(as_podo, camille, dossier):
    html = body(_list(as_podo, camille))
    assert _titles(html) == ["Compte rendu de consultation"]
    assert "1 document" in html
    # What the matrix hides is simply absent: no placeholder, not even its class.
    assert "accouchement" not in html.lower() and "masqué" not in html.lower()


def test_a_doctor_without_consent_gets_no_list(as_durand, dr_durand, camille, dossier):
    assert _list(as_durand, camille).status_code == 404
    [refused] = traces(camille, TraceAction.CONSULT_DOSSIER)
    assert refused.outcome == TraceOutcome.REFUSED and refused.actor_id == dr_durand.national_id
    assert refused.reason == "aucune autorisation d'accès"


def test_a_blocked_professional_gets_no_list(as_bernard, ide_bernard, camille, dossier):
    block(camille, ide_bernard)
    assert _list(as_bernard, camille).status_code == 404
    assert traces(camille, TraceAction.CONSULT_DOSSIER)[0].outcome == TraceOutcome.REFUSED


def test_the_first_access_of_a_professional_notifies_the_patient(as_podo, camille, dossier):
    _list(as_podo, camille)
    _list(as_podo, camille)
    notes = Notification.objects.filter(profile=camille, code=Notification.Code.PRO_ACCESS)
    assert notes.count() == 1 and "Marc Petit" in notes.get().label


def test_filters_by_class_type_author_and_dates(as_martin, camille, dossier, dr_martin):
    deposit(
        dr_martin,
        camille,
        title="Radio du thorax",
        type_code="18748-4",
        service_date=date(2024, 11, 3),
    )
    assert _titles(body(_list(as_martin, camille, classe="31"))) == ["Radio du thorax"]
    assert _titles(body(_list(as_martin, camille, type="15508-5"))) == [
        "Compte rendu d'accouchement"
    ]
    assert _titles(body(_list(as_martin, camille, auteur="bernard"))) == [
        "Plan de soins infirmiers"
    ]
    in_2025 = _titles(body(_list(as_martin, camille, du="2025-01-01", au="2025-12-31")))
    assert in_2025 == ["Compte rendu d'accouchement"]
    html = body(_list(as_martin, camille, du="2026-01-01", au="2025-01-01"))
    assert "La date de fin doit être postérieure à la date de début." in html


def test_the_chronological_view_is_sorted_by_date(as_martin, camille, dossier):
    newest = _titles(body(_list(as_martin, camille, vue="liste")))
    assert newest == [
        "Plan de soins infirmiers",
        "Compte rendu de consultation",
        "Compte rendu d'accouchement",
    ]
    oldest = _titles(body(_list(as_martin, camille, vue="liste", tri="anciens")))
    assert oldest == list(reversed(newest))


def test_superseded_and_archived_documents_only_when_asked(
    as_martin, dr_martin, camille, consultation
):
    new = deposit(dr_martin, camille, title="Compte rendu corrigé", replaces_id=consultation.pk)
    archived = deposit(dr_martin, camille, title="Ancienne ordonnance", type_code="57833-6")
    Document.objects.filter(pk=archived.pk).update(status=Document.Status.ARCHIVED)
    assert _titles(body(_list(as_martin, camille))) == [new.title]
    shown = _titles(body(_list(as_martin, camille, statut=["superseded", "archived"])))
    assert set(shown) == {"Compte rendu de consultation", "Ancienne ordonnance"}
    html = body(_list(as_martin, camille, statut=["superseded"]))
    assert "Remplacé" in html


# --- one document ------------------------------------------------------------------------


def test_document_detail_is_traced(as_bernard, ide_bernard, camille, consultation):
    response = as_bernard.get(reverse("pro:document", args=[consultation.pk]))
    assert response.status_code == 200
    html = body(response)
    assert "Compte rendu de consultation" in html and "CR ou fiche de consultation" in html
    assert "Télécharger le document" in html
    # Neither author nor MT: no action on the document.
    assert "Masquer aux autres professionnels" not in html and "Supprimer" not in html
    [read] = traces(camille, TraceAction.CONSULT_DOC)
    assert read.document_id == consultation.pk and read.actor_id == ide_bernard.national_id
    assert read.outcome == TraceOutcome.ALLOWED and read.access_mode == "normal"


def test_the_podologue_may_not_open_the_accouchement(as_podo, podo_petit, camille, accouchement):
    assert as_podo.get(reverse("pro:document", args=[accouchement.pk])).status_code == 404
    assert as_podo.get(reverse("pro:document_download", args=[accouchement.pk])).status_code == 404
    refused = traces(camille, TraceAction.CONSULT_DOC)[0]
    assert refused.outcome == TraceOutcome.REFUSED
    assert refused.reason == "type de document hors de la matrice d'habilitations"
    assert traces(camille, TraceAction.DOWNLOAD_DOC)[0].outcome == TraceOutcome.REFUSED


def test_a_masked_document_opens_for_its_author_and_the_mt_only(
    client, ide_bernard, dr_martin, podo_petit, camille, plan_de_soins
):
    url = reverse("pro:document", args=[plan_de_soins.pk])
    for professional, status in ((ide_bernard, 200), (dr_martin, 200), (podo_petit, 404)):
        client.force_login(professional.user)
        assert client.get(url).status_code == status, professional
    outcomes = [t.outcome for t in traces(camille, TraceAction.CONSULT_DOC)]
    assert outcomes == [TraceOutcome.ALLOWED, TraceOutcome.ALLOWED, TraceOutcome.REFUSED]


def test_a_document_of_a_dossier_without_consent_is_not_found(as_durand, camille, consultation):
    assert as_durand.get(reverse("pro:document", args=[consultation.pk])).status_code == 404
    assert as_durand.get(reverse("pro:document", args=[uuid.uuid4()])).status_code == 404


def test_download_is_an_attachment_and_traced(as_bernard, ide_bernard, camille, consultation):
    response = as_bernard.get(reverse("pro:document_download", args=[consultation.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == 'attachment; filename="compte-rendu-de-consultation.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    [downloaded] = traces(camille, TraceAction.DOWNLOAD_DOC)
    assert downloaded.actor_id == ide_bernard.national_id


# --- the author's and the MT's actions -----------------------------------------------------


def test_the_author_masks_and_unmasks(as_martin, dr_martin, camille, consultation):
    html = body(as_martin.get(reverse("pro:document", args=[consultation.pk])))
    assert "Masquer aux autres professionnels" in html and "Archiver" in html
    url = reverse("pro:document_mask", args=[consultation.pk])
    response = as_martin.post(url, {"masked": "1"}, follow=True)
    assert "masqué aux autres professionnels" in body(response)
    consultation.refresh_from_db()
    assert consultation.masked_from_professionals
    as_martin.post(url, {"masked": "0"})
    consultation.refresh_from_db()
    assert not consultation.masked_from_professionals
    assert traces(camille, TraceAction.MASK_DOC)[0].actor_id == dr_martin.national_id
    assert traces(camille, TraceAction.UNMASK_DOC)


def test_the_mt_masks_a_document_he_did_not_write(as_martin, camille, plan_de_soins):
    url = reverse("pro:document_mask", args=[plan_de_soins.pk])
    as_martin.post(url, {"masked": "0"})
    plan_de_soins.refresh_from_db()
    assert not plan_de_soins.masked_from_professionals


def test_another_professional_may_not_mask(as_bernard, camille, consultation):
    url = reverse("pro:document_mask", args=[consultation.pk])
    assert as_bernard.post(url, {"masked": "1"}).status_code == 404
    consultation.refresh_from_db()
    assert not consultation.masked_from_professionals
    assert traces(camille, TraceAction.MASK_DOC)[0].outcome == TraceOutcome.REFUSED


def test_the_author_archives_and_restores(as_martin, camille, consultation):
    url = reverse("pro:document_archive", args=[consultation.pk])
    response = as_martin.post(url, {"archived": "1"}, follow=True)
    assert "Document archivé." in body(response)
    consultation.refresh_from_db()
    assert consultation.status == Document.Status.ARCHIVED
    assert _titles(body(_list(as_martin, camille))) == []
    response = as_martin.post(url, {"archived": "1"}, follow=True)
    assert "Ce document est déjà archivé." in body(response)
    as_martin.post(url, {"archived": "0"})
    consultation.refresh_from_db()
    assert consultation.status == Document.Status.CURRENT
    assert traces(camille, TraceAction.ARCHIVE_DOC)[0].outcome == TraceOutcome.ALLOWED
    assert traces(camille, TraceAction.UNARCHIVE_DOC)


def test_only_the_author_archives(as_martin, camille, plan_de_soins):
    url = reverse("pro:document_archive", args=[plan_de_soins.pk])
    assert as_martin.post(url, {"archived": "1"}).status_code == 404
    plan_de_soins.refresh_from_db()
    assert plan_de_soins.status == Document.Status.CURRENT


def test_the_author_deletes_and_the_patient_is_told(as_martin, camille, consultation):
    response = as_martin.post(reverse("pro:document_delete", args=[consultation.pk]))
    assert response["Location"] == reverse("pro:documents", args=[camille.pk])
    consultation.refresh_from_db()
    assert consultation.status == Document.Status.DELETED
    assert Notification.objects.filter(
        profile=camille, code=Notification.Code.DELETED_DOCUMENT
    ).exists()
    assert traces(camille, TraceAction.DELETE_DOC)[0].outcome == TraceOutcome.ALLOWED
    assert as_martin.get(reverse("pro:document", args=[consultation.pk])).status_code == 404


def test_nobody_else_deletes(as_martin, camille, plan_de_soins):
    assert (
        as_martin.post(reverse("pro:document_delete", args=[plan_de_soins.pk])).status_code == 404
    )
    plan_de_soins.refresh_from_db()
    assert plan_de_soins.status == Document.Status.CURRENT
    assert traces(camille, TraceAction.DELETE_DOC)[0].outcome == TraceOutcome.REFUSED


def test_document_actions_are_post_only(as_martin, consultation):
    for name in ("document_mask", "document_archive", "document_delete", "document_release"):
        assert as_martin.get(reverse(f"pro:{name}", args=[consultation.pk])).status_code == 405


# --- release after a consultation d'annonce ----------------------------------------------


@pytest.fixture
def annonce(camille, dr_martin):
    return deposit(dr_martin, camille, title="Résultat de biopsie", hidden_from_patient=True)


def test_release_to_the_patient(as_martin, dr_martin, camille, annonce):
    html = body(as_martin.get(reverse("pro:document", args=[annonce.pk])))
    assert "Non visible par le patient" in html and "Rendre visible au patient" in html
    assert not Notification.objects.filter(profile=camille, label__contains="biopsie").exists()
    response = as_martin.post(reverse("pro:document_release", args=[annonce.pk]), follow=True)
    assert "Le document est maintenant visible par le patient." in body(response)
    annonce.refresh_from_db()
    assert annonce.hidden_from_patient_released_at is not None
    assert Notification.objects.filter(profile=camille, label__contains="biopsie").exists()
    released = traces(camille, TraceAction.RELEASE_DOC)[-1]
    assert released.actor_id == dr_martin.national_id and released.outcome == TraceOutcome.ALLOWED
    again = as_martin.post(reverse("pro:document_release", args=[annonce.pk]), follow=True)
    assert "Ce document est déjà visible par le patient." in body(again)


def test_release_refused_to_who_may_not_read(as_durand, camille, annonce):
    assert as_durand.post(reverse("pro:document_release", args=[annonce.pk])).status_code == 404
    annonce.refresh_from_db()
    assert annonce.hidden_from_patient_released_at is None
