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
about half a minute on one core). To hunt: `MES_FUZZ_EXAMPLES=5000 pytest ... -n 0
--hypothesis-seed=N -s` (and DATABASE_URL for PostgreSQL); a failure prints its example, which
then goes below as an @example.
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
# Values the FHIR models accept by coercion although the JSON has another type (« 14 » or 14.0
# for an integer, « true » for a boolean): the reader then sees the raw JSON, not the model's
# value. 14 is the size of the fuzzed documents, so a size of the right value but the wrong type
# goes past the size check. And the names and codes that send a mutated entry down another path.
coerced = st.sampled_from(
    [0, 1, 14, 14.0, "14", "14.0", " 14 ", "1_4", True, "true", "yes", "1970-01-01", 5]
)
words = st.sampled_from(
    [
        "POST",
        "PUT",
        "PATCH",
        "GET",
        "DELETE",
        "Binary",
        "Patient",
        "List",
        "DocumentReference",
        "Parameters",
        "Bundle",
        "Practitioner",
        "current",
        "superseded",
        "working",
        "transaction",
        "submissionset",
        "folder",
        "replaces",
        "transforms",
        "#auteur",
        "application/pdf",
    ]
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
    coerced,
    words,
)
# The element names the ITI-65 reader looks at. Added where the valid bundle has none, they reach
# what mutating its own elements never does: an attachment with data or language, a relatesTo,
# context.related or event, a contained author, a resource with meta, a primitive's extension...
FHIR_NAMES = [
    "resourceType",
    "resource",
    "fullUrl",
    "request",
    "method",
    "url",
    "meta",
    "profile",
    "id",
    "extension",
    "valueIdentifier",
    "valueBoolean",
    "value",
    "system",
    "code",
    "coding",
    "identifier",
    "reference",
    "subject",
    "item",
    "entry",
    "attachment",
    "data",
    "contentType",
    "size",
    "_size",
    "hash",
    "language",
    "creation",
    "title",
    "format",
    "relatesTo",
    "target",
    "context",
    "event",
    "related",
    "period",
    "start",
    "end",
    "facilityType",
    "practiceSetting",
    "sourcePatientInfo",
    "author",
    "authenticator",
    "contained",
    "securityLabel",
    "category",
    "masterIdentifier",
    "status",
    "_status",
    "mode",
    "date",
    "type",
    "description",
    "parameter",
    "part",
    "name",
]
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["a", *FHIR_NAMES]), children, max_size=3),
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


def _at(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


@st.composite
def mutations(draw: st.DrawFn, template: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Up to three changes of the valid bundle: set an element to any JSON value, add one the
    bundle does not have, delete one, give a value another JSON type (« 14 » for 14, [x] for x),
    or duplicate an entry."""
    paths = _paths(template)
    objects = [(), *(p for p in paths if isinstance(_at(template, p), dict))]
    out: list[tuple[str, Any, Any]] = []
    # One change most often: a second one mostly makes the model refuse the bundle before the
    # reader is reached, and the reader is where the defects were.
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        kind = draw(st.sampled_from(["set", "set", "add", "retype", "delete", "duplicate"]))
        if kind == "add":
            at = draw(st.sampled_from(objects))
            out.append(("set", (*at, draw(st.sampled_from(FHIR_NAMES))), draw(json_values)))
            continue
        path = draw(st.sampled_from(paths))
        if kind == "retype":
            value = _at(template, path)
            kinds = [[value], {"value": value}, None]
            if not isinstance(value, dict | list):
                kinds += [str(value), json.dumps(value)]
            if isinstance(value, int | float) and not isinstance(value, bool):
                kinds += [float(value), bool(value)]
            out.append(("set", path, draw(st.sampled_from(kinds))))
            continue
        out.append((kind, path, draw(json_values) if kind == "set" else None))
    return out


def _duplicate_entry(bundle: dict[str, Any], path: tuple[Any, ...]) -> None:
    """The entry `path` is in (the first one otherwise) appended once more. An earlier mutation
    may have made `entry` anything (null, a string...): then there is nothing to duplicate."""
    entries = bundle.get("entry")
    n = path[1] if len(path) > 1 and path[0] == "entry" and isinstance(path[1], int) else 0
    if isinstance(entries, list) and n < len(entries):
        entries.append(copy.deepcopy(entries[n]))


def _mutate(bundle: dict[str, Any], plan: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    for kind, path, value in plan:
        try:
            if kind == "set":
                _set(out, path, value)
            elif kind == "delete":
                _delete(out, path)
            else:  # duplicate an entry (same fullUrl), as the attacker did with a Binary
                _duplicate_entry(out, path)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return out


STATUSES: Counter[int] = Counter()


def _check(response: Any, *, coded: bool = False) -> dict[str, Any] | None:
    """No 5xx; an error is a valid OperationOutcome (`coded`: each issue with its code in
    details.coding, as ITI-65 promises, issue 12 §1)."""
    event(f"HTTP {response.status_code}")
    STATUSES[response.status_code] += 1
    assert response.status_code < 500, (response.status_code, response.content[:500])
    if response.status_code >= 400:
        outcome = fhir_json(response, "OperationOutcome")
        if coded:
            assert all(i["details"]["coding"][0]["code"] for i in outcome["issue"]), outcome
        return outcome
    return None


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def test_generated_bundles(api, camille):
    template = provide_bundle(camille, [document(b"%PDF-1.4 court"), document(b"%PDF-1.4 autre")])
    for entry in template["entry"]:  # small, distinct documents: the fuzzing is in the metadata
        entry["resource"].pop("contained", None)

    size = ("entry", 1, "resource", "content", 0, "attachment", "size")

    @FUZZ
    @given(plan=mutations(template))
    @example(plan=[])  # the valid bundle itself: the accepted side is always exercised
    # What the fuzzer found (docs/decisions.md, FHIR API): `entry` made null then an entry
    # duplicated broke the mutation itself (the AttributeError of the lost run); a null size
    # and a size of « 14.0 », which the model accepts, made the reader's int() fail (500).
    @example(plan=[("set", ("entry",), None), ("duplicate", ("resourceType",), None)])
    @example(plan=[("set", size, None)])
    @example(plan=[("set", size, "14.0")])
    def run(plan: list[tuple[str, Any, Any]]) -> None:
        bundle = _mutate(template, plan)
        before = Counts.now()
        response = api.post("/fhir/", json.dumps(bundle))
        after = Counts.now()
        if _check(response, coded=True) is None:
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
