"""Fuzzing the FHIR API (issue 13, « What it must show »): generated ITI-65 bundles, ITI-67
searches and PATCHes, each checked for

- no 5xx, ever;
- a FHIR body (a valid OperationOutcome) for every error;
- nothing half-stored: documents, blobs, traces and notifications counted before and after;
  a refused bundle stores nothing, an accepted one stores exactly its documents; a refused
  PATCH changes nothing.

The bundles start from a valid one and are mutated where a fuzzer hurts: wrong JSON types,
controls and bidi overrides, duplicated or dropped entries, impossible dates, huge numbers.
`MES_FUZZ_EXAMPLES` sets the examples per test (default 100: three tests, three hundred requests,
about half a minute on one core).
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from mes.fhir.tests.conftest import fhir_json
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.fhir.tests.test_hardening import Counts
from mes.records.models import Document

EXAMPLES = int(os.environ.get("MES_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database in the repository; failures print their example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Strings where parsers and databases break: controls, NUL, bidi overrides, non-ASCII digits,
# offsets and years out of range, very long ones.
nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "\u202e",
            "\x1b[31m",
            "١٢",
            "²",
            "9" * 40,
            "-1",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "2024-03-01T10:00:00+99:99",
            "2024-02-30",
            "urn:uuid:x",
            "Patient/",
            "DocumentReference/" + "0" * 32,
            "urn:oid:1.2.250.1.213.1.4.8",
            "x" * 5000,
        ]
    ),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["a", "url", "code", "value", "reference"]), children, max_size=3
        ),
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to an element of a JSON tree (Binary data excluded: it is one big string)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "data":
                out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            out += _paths(value, (*prefix, n))
    return out


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def _delete(tree: Any, path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        tree = tree[key]
    del tree[path[-1]]


@st.composite
def mutations(draw: st.DrawFn, template: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    paths = _paths(template)
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["set", "set", "set", "delete", "duplicate"]))
        path = draw(st.sampled_from(paths))
        out.append((kind, path, draw(json_values) if kind == "set" else None))
    return out


def _mutate(bundle: dict[str, Any], plan: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    for kind, path, value in plan:
        try:
            if kind == "set":
                _set(out, path, value)
            elif kind == "delete":
                _delete(out, path)
            else:  # duplicate an entry (same fullUrl), as the attacker did with a Binary
                out["entry"].append(copy.deepcopy(out["entry"][path[1] if len(path) > 1 else 0]))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return out


STATUSES: Counter[int] = Counter()


def _check(response: Any) -> dict[str, Any] | None:
    event(f"HTTP {response.status_code}")
    STATUSES[response.status_code] += 1
    assert response.status_code < 500, (response.status_code, response.content[:500])
    if response.status_code >= 400:
        return fhir_json(response, "OperationOutcome")
    return None


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def test_generated_bundles(api, camille):
    template = provide_bundle(camille, [document(b"%PDF-1.4 court"), document(b"%PDF-1.4 autre")])
    for entry in template["entry"]:  # small, distinct documents: the fuzzing is in the metadata
        entry["resource"].pop("contained", None)

    @FUZZ
    @given(plan=mutations(template))
    @example(plan=[])  # the valid bundle itself: the accepted side is always exercised
    def run(plan: list[tuple[str, Any, Any]]) -> None:
        bundle = _mutate(template, plan)
        before = Counts.now()
        response = api.post("/fhir/", json.dumps(bundle))
        after = Counts.now()
        if _check(response) is None:
            stored = sum(
                1
                for e in response.json()["entry"]
                if "DocumentReference/" in e["response"]["location"]
            )
            assert after.documents == before.documents + stored
            assert after.blobs == before.blobs + stored
            Document.objects.filter(patient=camille).delete()  # next example starts clean
        else:
            assert (after.documents, after.blobs, after.notifications) == (
                before.documents,
                before.blobs,
                before.notifications,
            )

    STATUSES.clear()
    run()
    print("ITI-65 fuzz:", dict(STATUSES))
    # The fuzzer reached both sides: accepted bundles and refused ones.
    assert STATUSES[200] and sum(n for code, n in STATUSES.items() if code >= 400)


SEARCH_NAMES = [
    "patient",
    "patient.identifier",
    "status",
    "isArchived",
    "category",
    "type",
    "format",
    "security-label",
    "event",
    "related",
    "identifier",
    "_id",
    "date",
    "_lastUpdated",
    "creation",
    "period",
    "author.given",
    "author.family:exact",
    "author.family:contains",
    "type:not",
    "_count",
    "_offset",
    "_sort",
    "_format",
    "x\x00",
]


def test_generated_searches(api, camille):
    @FUZZ
    @given(
        params=st.lists(st.tuples(st.sampled_from(SEARCH_NAMES), nasty_text), max_size=5),
        post=st.booleans(),
    )
    @example(params=[], post=False)
    @example(params=[("_count", "x")], post=True)
    def run(params: list[tuple[str, str]], post: bool) -> None:
        query = [("patient", str(camille.pk)), ("status", "current"), *params]
        before = Counts.now()
        encoded = urlencode(query)
        if post:
            response = api.client.post(
                "/fhir/DocumentReference/_search",
                encoded,
                content_type="application/x-www-form-urlencoded",
                headers=api._headers(None),
            )
        else:
            response = api.client.get(
                f"/fhir/DocumentReference?{encoded}", headers=api._headers(None)
            )
        _check(response)
        assert Counts.now().documents == before.documents

    STATUSES.clear()
    run()
    print("ITI-67 fuzz:", dict(STATUSES))
    assert STATUSES[200] and STATUSES[400]


def test_generated_patches(api, camille):
    deposit = api.post("/fhir/", provide_bundle(camille, [document()]))
    doc_id = deposit.json()["entry"][1]["response"]["location"].split("/")[1]
    url = f"/fhir/DocumentReference/{doc_id}"
    operation = st.fixed_dictionaries(
        {
            "op": st.sampled_from(["add", "remove", "replace", "test", "move", "x"]),
            "path": st.one_of(
                nasty_text,
                st.sampled_from(
                    [
                        "/status",
                        "/securityLabel/-",
                        "/securityLabel/0",
                        "/securityLabel/1/coding/0/code",
                        "/extension/0/valueBoolean",
                        "/extension/0",
                        "/extension/-",
                        "/content/0/attachment/url",
                    ]
                ),
            ),
        },
        optional={"value": json_values},
    )

    @FUZZ
    @given(ops=st.one_of(st.lists(operation, max_size=3), json_values))
    def run(ops: Any) -> None:
        before = Document.objects.values().get(pk=doc_id)
        response = api.client.patch(
            url,
            json.dumps(ops),
            content_type="application/json-patch+json",
            headers=api._headers(None),
        )
        if _check(response) is not None:
            assert Document.objects.values().get(pk=doc_id) == before

    STATUSES.clear()
    run()
    print("PATCH fuzz:", dict(STATUSES))
