"""The operators' endpoints: probes that tell the truth, metrics only for who may scrape them,
and a request id on every answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import storages
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_checks_database_storage_and_queue(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "storage": "ok", "queue": "ok"}
    # The storage probe leaves nothing behind.
    assert storages["vault"].listdir("readyz")[1] == []


def test_readyz_says_which_part_is_down(client: Client, monkeypatch: Any) -> None:
    vault = storages["vault"]

    def full_disk(*args: Any, **kwargs: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vault, "save", full_disk)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "indisponible",
        "checks": {"database": "ok", "storage": "indisponible", "queue": "ok"},
    }


def test_probes_refuse_other_methods(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


def test_metrics_from_loopback_count_requests_per_view_and_the_queue(client: Client) -> None:
    client.get("/healthz")
    client.get("/documents/")  # anonymous: redirected to the login page
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'mes_http_requests_total{method="GET",status="2xx",view="ops:healthz"}' in body
    assert 'mes_http_requests_total{method="GET",status="3xx",view="portal:documents"}' in body
    assert 'mes_http_request_duration_seconds_bucket{le="0.005",view="ops:healthz"}' in body
    assert "mes_task_queue_depth 0.0" in body
    assert "mes_task_queue_oldest_age_seconds 0.0" in body


def test_metrics_count_refusals_and_deposits(client: Client, camille: Any) -> None:
    client.force_login(camille.user)
    client.get("/documents/00000000-0000-0000-0000-000000000000/")
    client.post("/documents/ajouter/", {})  # a form with nothing in it: refused, re-shown
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'mes_refusals_total{view="portal:document"}' in body
    assert 'mes_deposits_total{outcome="accepted",view="portal:document_add"}' in body


def test_metrics_look_absent_from_elsewhere(client: Client) -> None:
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 404
    assert b"mes_" not in response.content


def test_metrics_token_replaces_the_loopback_rule(client: Client, settings: Any) -> None:
    settings.MES_METRICS_TOKEN = "jeton-de-supervision-tres-long"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer autre-jeton")
    assert wrong.status_code == 404
    good = client.get("/metrics", HTTP_AUTHORIZATION="Bearer jeton-de-supervision-tres-long")
    assert good.status_code == 200
    assert b"mes_http_requests_total" in good.content


def test_every_answer_carries_a_request_id(client: Client) -> None:
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21")["X-Request-ID"]
    assert kept == "lb-7f3a9c21"
    # Anything else a caller sends is replaced, never echoed (header and log injection).
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="<script>\r\nx")["X-Request-ID"]
    assert odd != "<script>\r\nx"
    assert len(odd) == 32
