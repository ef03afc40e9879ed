"""The request body is capped before it is read (issue 13 item 6, portal and Web PS), and
X-Forwarded-Proto is believed only from the declared proxy (item 7)."""

from __future__ import annotations

import io

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from mes.records.models import Document
from mes.web.limits import RequestLimitsMiddleware
from mes.web.proxy import TrustedProxyMiddleware


class _Unreadable(io.RawIOBase):
    """A request body that fails the test if anyone reads it."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("le corps de la requête a été lu")

    readline = read


def _must_not_run(request):
    raise AssertionError("la vue a été appelée")


@pytest.mark.parametrize("path", ["/documents/ajouter/", "/pro/connexion/"])
def test_a_body_over_the_cap_is_refused_unread_with_a_french_413(settings, path):
    settings.MES_REQUEST_MAX_BYTES = 1000
    request = RequestFactory().generic(
        "POST", path, b"", content_type="multipart/form-data; boundary=x"
    )
    request.META["CONTENT_LENGTH"] = "1001"
    request.META["wsgi.input"] = _Unreadable()
    response = RequestLimitsMiddleware(_must_not_run)(request)
    assert response.status_code == 413
    html = response.content.decode()
    assert "Envoi trop volumineux" in html and "1000\xa0octets" in html and 'lang="fr"' in html
    assert response["Cache-Control"] == "no-store"


def test_a_body_at_the_cap_goes_through(settings):
    settings.MES_REQUEST_MAX_BYTES = 1000
    request = RequestFactory().post("/connexion/", {"username": "x"})
    request.META["CONTENT_LENGTH"] = "1000"
    response = RequestLimitsMiddleware(lambda r: HttpResponse("vue"))(request)
    assert response.content == b"vue"


def test_an_invalid_length_is_refused(settings):
    request = RequestFactory().post("/connexion/", {"username": "x"})
    request.META["CONTENT_LENGTH"] = "-5"
    assert RequestLimitsMiddleware(_must_not_run)(request).status_code == 400


def test_an_upload_over_the_cap_through_the_whole_stack(client, camille, settings):
    client.force_login(camille.user)
    settings.MES_REQUEST_MAX_BYTES = 64 * 1024
    response = client.post(
        reverse("portal:document_add"),
        b"x" * (64 * 1024 + 1),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413 and "Envoi trop volumineux" in response.content.decode()
    assert not Document.objects.exists()


def test_the_default_cap_leaves_room_for_the_form_s_own_message(settings):
    assert settings.MES_REQUEST_MAX_BYTES == 2 * settings.MES_UPLOAD_MAX_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.MES_REQUEST_MAX_BYTES


@pytest.mark.parametrize(
    ("trusted", "peer", "kept"),
    [
        ([], "203.0.113.9", False),
        (["10.0.0.0/8"], "203.0.113.9", False),
        (["10.0.0.0/8"], "10.1.2.3", True),
        (["::1"], "::1", True),
    ],
)
def test_x_forwarded_proto_only_from_the_declared_proxy(settings, trusted, peer, kept):
    settings.MES_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR=peer)
    seen = {}

    def view(r):
        seen["proto"] = r.META.get("HTTP_X_FORWARDED_PROTO")
        return HttpResponse()

    TrustedProxyMiddleware(view)(request)
    assert (seen["proto"] == "https") is kept
