"""Issue 12 §6: the queries of one ITI-67 search page and of one ITI-65 deposit, counted, so
that a change that makes them grow fails here (the bench measures the time: `make bench`).

Counted inside the test's transaction (the savepoints of the atomic blocks are counted too).
Today: the token, the professional, the dossier's access decision (patient, privacy, the
professional's authorisation), the first-access check, the trace (chain head and row), the
count and the page (16 for a search); the deposit adds the document's checks, blob key, row,
trace and notification (26). The registered client comes from a per-process cache."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mes.fhir.tests.mhd_fixtures import document, provide_bundle

SEARCH_QUERIES = 16
DEPOSIT_QUERIES = 26


def test_one_search_page_and_one_deposit(fhir_client_for, dr_martin, camille):
    api = fhir_client_for(dr_martin)
    for _ in range(5):
        assert api.post("/fhir/", provide_bundle(camille, [document()])).status_code == 200
    with CaptureQueriesContext(connection) as deposit:
        assert api.post("/fhir/", provide_bundle(camille, [document()])).status_code == 200
    api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current")
    with CaptureQueriesContext(connection) as search:
        response = api.get(
            "/fhir/DocumentReference", patient=str(camille.pk), status="current", _count=3
        )
    assert len(response.json()["entry"]) == 3
    # The page's size does not change the count (no query per document).
    with CaptureQueriesContext(connection) as bigger:
        api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current", _count=6)
    assert len(bigger) == len(search)
    assert len(search) <= SEARCH_QUERIES, [q["sql"][:120] for q in search.captured_queries]
    assert len(deposit) <= DEPOSIT_QUERIES, [q["sql"][:120] for q in deposit.captured_queries]
