"""Depositing a PDF in a dossier (TD2.1): allowed without consent, refused to a blocked
professional; a bad file changes nothing; visibility flags and replacement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mes.audit.models import TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.notifications.models import Notification
from mes.records.models import Document

from .conftest import block, body, traces

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00\xb8" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _data(**kwargs):
    data = {
        "file": SimpleUploadedFile("cr.pdf", make_pdf("Lettre de liaison")),
        "type_code": "11490-0",
        "title": "Lettre de liaison de sortie",
        "service_date": "2026-03-02",
    }
    data.update(kwargs)
    return data


def _url(patient):
    return reverse("pro:document_deposit", args=[patient.pk])


def test_deposit_form_groups_types_by_class(as_durand, camille):
    response = as_durand.get(_url(camille))
    assert response.status_code == 200
    html = body(response)
    assert '<optgroup label="Comptes rendus">' in html
    assert '<optgroup label="Synthèses">' in html
    # Types that are not a professional's to deposit are not offered.
    assert 'value="REMB"' not in html and 'value="DOCPAT10"' not in html
    assert 'value="EXPPAT_3"' not in html
    # Camille is an adult: no « hidden from the legal representatives » option.
    assert "représentants légaux" not in html
    assert "Nouvelle version d'un de vos documents" not in html


def test_deposit_without_consent_is_allowed(as_durand, dr_durand, camille):
    response = as_durand.post(_url(camille), _data())
    # Without consent he cannot read it back: back to the patient page.
    assert response["Location"] == reverse("pro:patient", args=[camille.pk])
    doc = Document.objects.get(patient=camille)
    assert doc.title == "Lettre de liaison de sortie" and doc.type_code == "11490-0"
    assert doc.class_code == "10" and doc.author_professional_id == dr_durand.pk
    assert doc.service_date == date(2026, 3, 2) and doc.mime_type == "application/pdf"
    [deposited] = traces(camille, TraceAction.DEPOSIT_DOC)
    assert deposited.actor_id == dr_durand.national_id and deposited.document_id == doc.pk
    assert Notification.objects.filter(profile=camille, code=Notification.Code.NEW_DOCUMENT)


def test_an_authorised_author_lands_on_the_document(as_martin, camille):
    response = as_martin.post(_url(camille), _data(masked="on"))
    doc = Document.objects.get(patient=camille)
    assert response["Location"] == reverse("pro:document", args=[doc.pk])
    assert doc.masked_from_professionals


def test_a_disguised_executable_is_refused_and_nothing_stored(as_martin, camille):
    response = as_martin.post(_url(camille), _data(file=SimpleUploadedFile("cr.pdf", EXE)))
    assert response.status_code == 200
    html = body(response)
    assert "Format de fichier non accepté : seul le format PDF est accepté ici." in html
    assert 'aria-invalid="true"' in html
    assert not Document.objects.exists()
    assert not traces(camille, TraceAction.DEPOSIT_DOC)


def test_an_image_is_refused_here(as_martin, camille):
    response = as_martin.post(_url(camille), _data(file=SimpleUploadedFile("x.pdf", PNG)))
    assert "seul le format PDF est accepté" in body(response)
    assert not Document.objects.exists()


def test_missing_fields_are_named_in_french(as_martin, camille):
    response = as_martin.post(_url(camille), {"type_code": "", "title": "", "service_date": ""})
    html = body(response)
    assert "Choisissez le fichier PDF à déposer." in html
    assert "Choisissez le type de document." in html
    assert "Le champ « Titre du document » est obligatoire." in html
    assert "Saisissez la date de l'acte." in html
    assert not Document.objects.exists()


def test_a_type_reserved_to_others_or_a_future_date_is_refused(as_martin, camille):
    html = body(as_martin.post(_url(camille), _data(type_code="REMB")))
    assert "Choisissez un type de document de la liste." in html
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    html = body(as_martin.post(_url(camille), _data(service_date=future)))
    assert "La date de l'acte ne peut pas être dans le futur." in html
    assert not Document.objects.exists()


def test_a_blocked_professional_may_not_deposit(as_bernard, ide_bernard, camille):
    block(camille, ide_bernard)
    assert as_bernard.get(_url(camille)).status_code == 404
    assert as_bernard.post(_url(camille), _data()).status_code == 404
    assert not Document.objects.exists()
    assert traces(camille, TraceAction.CONSULT_DOSSIER)[0].outcome == TraceOutcome.REFUSED


def test_hidden_from_the_patient_until_the_annonce(as_martin, camille):
    as_martin.post(_url(camille), _data(hidden_from_patient="on"))
    doc = Document.objects.get(patient=camille)
    assert doc.hidden_from_patient and doc.hidden_from_patient_released_at is None
    assert not Notification.objects.filter(profile=camille, code=Notification.Code.NEW_DOCUMENT)


@pytest.fixture
def louis_pediatre(louis, dr_martin):
    from mes.conftest import authorise

    authorise(louis, dr_martin)
    return louis


def test_for_a_minor_hidden_from_the_representatives(as_martin, louis_pediatre):
    louis = louis_pediatre
    html = body(as_martin.get(_url(louis)))
    assert "Non visible par les représentants légaux, à la demande du patient mineur" in html
    as_martin.post(_url(louis), _data(hidden_from_representatives="on"))
    doc = Document.objects.get(patient=louis)
    assert doc.hidden_from_representatives
    assert traces(louis, TraceAction.DEPOSIT_DOC)[0].hidden_from_representatives


def test_replacing_one_of_my_documents(as_martin, camille, consultation):
    html = body(as_martin.get(_url(camille) + f"?remplace={consultation.pk}"))
    assert "Nouvelle version d'un de vos documents" in html
    assert f'<option value="{consultation.pk}" selected>' in html
    as_martin.post(_url(camille), _data(replaces=str(consultation.pk), title="CR corrigé"))
    consultation.refresh_from_db()
    assert consultation.status == Document.Status.SUPERSEDED
    new = Document.objects.get(replaces=consultation)
    assert new.title == "CR corrigé"
    assert traces(camille, TraceAction.REPLACE_DOC)[0].document_id == new.pk


def test_one_cannot_replace_another_authors_document(
    as_martin, camille, consultation, plan_de_soins
):
    html = body(as_martin.post(_url(camille), _data(replaces=str(plan_de_soins.pk))))
    assert "Choisissez un de vos documents dans la liste." in html
    plan_de_soins.refresh_from_db()
    assert plan_de_soins.status == Document.Status.CURRENT
    assert Document.objects.filter(patient=camille).count() == 2
