"""Issue 12 §6: the queries of one ITI-67 search page and of one ITI-65 deposit, counted
exactly, so that a change that makes them grow (or a per-row query) fails here; the bench
measures the time (`make bench`, which prints the same counts taken on the served API).

Counted inside the test's transaction, so the savepoint of each @traced_action is counted (2
statements each) and the first-access check always runs (it is remembered per process only once
a transaction commits). A search page, 9: the access token's row; the patient with their privacy
settings, espace state and this professional's access (one query); the first-access check; the
savepoint; the trace (chain head, row, head update); the release; the page with its total
(COUNT(*) OVER ()), its authors coming from the per-process cache (mes/fhir/mhd/authors.py). A
deposit, 17: the token; the patient named by the bundle (once for all its references); the
uniqueId duplicate check of the bundle; the savepoints of provide and document_deposit; the
patient with their facts; the action's own uniqueId check; the document row; the patient's vault
key; the trace (3); the notification; the releases. The registered client and the professional
come from the per-token cache (mes/fhir/auth/token_cache.py), the author's structure (for the
response's context) from the authors' cache. Before issue 12 §6: 16 and 26; then 9 and 18."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mes.fhir.tests.mhd_fixtures import document, provide_bundle

SEARCH_QUERIES = 9
DEPOSIT_QUERIES = 17


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
    assert len(search) == SEARCH_QUERIES, [q["sql"][:120] for q in search.captured_queries]
    assert len(deposit) == DEPOSIT_QUERIES, [q["sql"][:120] for q in deposit.captured_queries]
