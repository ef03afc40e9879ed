"""Viewing a document in the page (issue 8 item 5): the content served inline under a
sandboxing CSP, traced like a download (AFFICHAGE_DOC), refused like « not found »."""

from __future__ import annotations

import struct
import zlib
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.records import actions
from mes.web.viewer import VIEW_CSP


def tiny_png() -> bytes:
    """A valid 1×1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def deposit(citizen, *, content: bytes, title: str = "Ordonnance kiné"):
    return actions.document_deposit(
        actor=citizen_actor(citizen),
        patient_id=citizen.pk,
        title=title,
        category="ORD_SOIN",
        service_date=date(2024, 3, 1),
        content=content,
    )


@pytest.fixture
def ordonnance(camille):
    return deposit(camille, content=make_pdf("Ordonnance"))


@pytest.fixture
def as_camille(camille) -> Client:
    client = Client()
    client.force_login(camille.user)
    return client


def _views(camille, outcome=TraceOutcome.ALLOWED):
    return Trace.objects.filter(patient_id=camille.pk, action=TraceAction.VIEW_DOC, outcome=outcome)


def test_the_pdf_is_served_inline_sandboxed_and_traced(as_camille, camille, ordonnance):
    response = as_camille.get(reverse("portal:document_view", args=[ordonnance.pk]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="ordonnance-kine.pdf"'
    assert response["Content-Security-Policy"] == VIEW_CSP
    assert "sandbox" in VIEW_CSP and "default-src 'none'" in VIEW_CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    [trace] = _views(camille)
    assert trace.document_id == ordonnance.pk
    assert trace.actor_id == camille.ins


def test_the_detail_page_holds_the_viewer_and_the_download(as_camille, ordonnance):
    html = as_camille.get(reverse("portal:document", args=[ordonnance.pk])).content.decode()
    assert "Aperçu du document" in html
    assert f'data-src="{reverse("portal:document_view", args=[ordonnance.pk])}"' in html
    assert "vendor/pdfjs/pdf.min.mjs" in html and "vendor/pdfjs/pdf.worker.min.mjs" in html
    assert 'type="module"' in html and "portal/viewer.mjs" in html
    assert reverse("portal:document_download", args=[ordonnance.pk]) in html


def test_an_image_is_shown_as_an_image(as_camille, camille):
    photo = deposit(camille, content=tiny_png(), title="Photo ordonnance")
    html = as_camille.get(reverse("portal:document", args=[photo.pk])).content.decode()
    view = reverse("portal:document_view", args=[photo.pk])
    assert f'<img src="{view}" alt="Aperçu du document « Photo ordonnance »"' in html
    response = as_camille.get(view)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == VIEW_CSP


def test_a_format_without_viewer_is_only_downloaded(as_camille, camille):
    note = deposit(camille, content=b"Note de suivi\n", title="Note")
    html = as_camille.get(reverse("portal:document", args=[note.pk])).content.decode()
    assert "Ce format ne peut pas être affiché dans la page" in html
    assert as_camille.get(reverse("portal:document_view", args=[note.pk])).status_code == 404
    assert not _views(camille).exists()


def test_anonymous_is_sent_to_the_login(client, camille, ordonnance):
    response = client.get(reverse("portal:document_view", args=[ordonnance.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert not Trace.objects.filter(action=TraceAction.VIEW_DOC).exists()


def test_another_patient_gets_not_found_and_it_is_traced(bob, camille, ordonnance):
    client = Client()
    client.force_login(bob.user)
    response = client.get(reverse("portal:document_view", args=[ordonnance.pk]))
    assert response.status_code == 404
    assert b"%PDF" not in response.content
    [refused] = _views(camille, TraceOutcome.REFUSED)
    assert refused.actor_id == bob.ins


def test_a_professional_session_gets_not_found_on_the_portal(dr_durand, ordonnance):
    client = Client()
    client.force_login(dr_durand.user)
    assert client.get(reverse("portal:document_view", args=[ordonnance.pk])).status_code == 404


def test_post_is_not_allowed(as_camille, ordonnance):
    response = as_camille.post(reverse("portal:document_view", args=[ordonnance.pk]))
    assert response.status_code == 405
