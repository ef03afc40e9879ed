"""The benchmark harness (bench/) runs and produces numbers: the requests it times are the ones
the API accepts, its baseline does the same work, its driver counts what it sees.

No timing is asserted here: speed is measured by `make bench`, never by the test suite.
"""

from __future__ import annotations

import math
import os
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from bench import load, scenarios
from mes.conftest import make_pdf, pro
from mes.identity.models import Citizen, Professional
from mes.records.actions import document_deposit
from mes.records.models import Document
from mes.vault import store

BASELINE_URLS = "bench.baseline_urls"


def _deposit(author: Professional, patient: Citizen, count: int) -> None:
    for n in range(count):
        document_deposit(
            actor=pro(author),
            patient_id=patient.pk,
            content=make_pdf(f"CR {n}"),
            title=f"CR {n}",
            type_code="11488-4",
            service_date=date(2024, 1, 1) + timedelta(days=n),
        )


def _send(client: Client, call: load.Call) -> Any:
    headers = {k: v for k, v in call.headers.items() if k != "Content-Type"}
    if call.method == "GET":
        return client.get(call.path, headers=headers)
    return client.post(
        call.path, call.body, content_type=call.headers["Content-Type"], headers=headers
    )


def test_the_timed_search_is_the_baseline_query(
    settings: Any, client: Client, fhir_client_for: Any, dr_martin: Professional, camille: Citizen
) -> None:
    settings.ROOT_URLCONF = BASELINE_URLS
    _deposit(dr_martin, camille, scenarios.PAGE_SIZE + 1)
    patients = [{"id": str(camille.pk)}]
    token = fhir_client_for(dr_martin).token

    api = _send(client, scenarios.search_calls(patients, token, 1)[0])
    baseline = _send(client, scenarios.baseline_search_calls(patients, 1)[0])

    assert api.status_code == 200, api.content
    assert baseline.status_code == 200
    api_ids = [e["resource"]["id"] for e in api.json()["entry"]]
    assert len(api_ids) == scenarios.PAGE_SIZE
    assert api_ids == [e["id"] for e in baseline.json()["entry"]]  # same page, same order


def test_the_timed_deposits_store_a_document(
    settings: Any, client: Client, fhir_client_for: Any, dr_martin: Professional, camille: Citizen
) -> None:
    settings.ROOT_URLCONF = BASELINE_URLS
    patients = [{"id": str(camille.pk)}]
    token = fhir_client_for(dr_martin).token
    pdf = make_pdf("Lettre du banc d'essai")

    api = _send(client, scenarios.deposit_calls(patients, token, pdf, 1)[0])
    baseline = _send(client, scenarios.baseline_deposit_calls(patients, pdf, 1)[0])

    assert api.status_code == 200, api.content
    body = api.json()
    assert body["type"] == "transaction-response"
    assert all(e["response"]["status"].startswith("201") for e in body["entry"])
    assert baseline.status_code == 201, baseline.content
    bare = Document.objects.get(pk=baseline.json()["id"])
    assert store.get(camille.pk, bare.pk) == pdf
    assert Document.objects.filter(patient=camille).count() == 2


def test_the_load_driver_counts_and_summarises(
    settings: Any, live_server: Any, dr_martin: Professional, camille: Citizen
) -> None:
    settings.ROOT_URLCONF = BASELINE_URLS
    _deposit(dr_martin, camille, 3)
    calls = scenarios.baseline_search_calls([{"id": str(camille.pk)}], 12)

    measured = load.summarise([load.run(live_server.url, calls, concurrency=3, expect=200)])
    refused = load.summarise([load.run(live_server.url, calls[:2], concurrency=2, expect=201)])

    assert (measured.requests, measured.errors) == (12, 0)
    assert 0 < measured.p50 <= measured.p95 <= measured.p99 <= measured.max
    assert measured.rps > 0 and math.isfinite(measured.mean)
    assert (refused.requests, refused.errors) == (0, 2)
    assert refused.error_samples and "HTTP 200" in refused.error_samples[0]
    assert load.process_tree_cpu(os.getpid()) > 0


@pytest.mark.parametrize(("p", "expected"), [(50, 5), (90, 9), (95, 10), (99, 10), (1, 1)])
def test_percentiles_are_nearest_rank(p: float, expected: float) -> None:
    assert load.percentile([float(x) for x in range(1, 11)], p) == expected
