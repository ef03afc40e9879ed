"""The Web PS document viewer: inline, sandboxed, traced like a download; the same refusals as
the download (no consent, another profession's documents)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.vault import store
from mes.web.viewer import VIEW_CSP

from .test_documents_views import body


def test_the_medecin_traitant_views_a_document_in_the_page(
    as_martin, dr_martin, camille, consultation
):
    html = body(as_martin.get(reverse("pro:document", args=[consultation.pk])))
    view = reverse("pro:document_view", args=[consultation.pk])
    assert "Aperçu du document" in html and f'data-src="{view}"' in html
    assert reverse("pro:document_download", args=[consultation.pk]) in html
    response = as_martin.get(view)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"].startswith("inline; ")
    assert response["Content-Security-Policy"] == VIEW_CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.VIEW_DOC)
    assert trace.outcome == TraceOutcome.ALLOWED
    assert trace.actor_id == dr_martin.national_id
    assert trace.document_id == consultation.pk


def test_a_professional_without_consent_gets_not_found_traced(
    as_durand, dr_durand, camille, consultation
):
    response = as_durand.get(reverse("pro:document_view", args=[consultation.pk]))
    assert response.status_code == 404
    assert b"%PDF" not in response.content
    trace = Trace.objects.get(action=TraceAction.VIEW_DOC)
    assert trace.outcome == TraceOutcome.REFUSED
    assert trace.actor_id == dr_durand.national_id


def test_anonymous_goes_to_the_pro_login(client, consultation):
    response = client.get(reverse("pro:document_view", args=[consultation.pk]))
    assert response.status_code == 302
    assert "/pro/connexion/" in response["Location"]


@pytest.fixture
def as_camille(client, camille):
    client.force_login(camille.user)
    return client


def test_a_patient_session_gets_not_found_on_the_web_ps(as_camille, consultation):
    assert as_camille.get(reverse("pro:document_view", args=[consultation.pk])).status_code == 404


@pytest.mark.parametrize("name", ["pro:document_view", "pro:document_download"])
def test_an_unreadable_file_is_a_french_error_without_details(
    as_martin, consultation, monkeypatch, caplog, name
):
    def broken(patient_id, blob_id):
        raise store.VaultError("clé détruite pour le patient 1234")

    monkeypatch.setattr(store, "get", broken)
    response = as_martin.get(reverse(name, args=[consultation.pk]))
    assert response.status_code == 500
    html = body(response)
    assert "Document indisponible" in html and "clé détruite" not in html
    assert f"Document {consultation.pk} illisible dans le coffre" in caplog.text
