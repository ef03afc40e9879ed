"""No INS, no e-mail address and no health content in any log line (DESIGN.md §5).

The redaction filter is tested on its own, then the whole demo is loaded and walked by a
citizen and a professional while every line the configured handler writes is collected."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from mes.demo import dataset
from mes.identity.models import Citizen, Professional
from mes.ops.logging import REDACTED, RedactIdentifiers, redact
from mes.records.models import Document


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The stream of the handler that settings.LOGGING configured, swapped for a buffer."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, RedactIdentifiers) for f in h.filters)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "INS 281037511504265 inconnu",
        "NIR 2 81 03 75 115 042 refusé",
        "clé 2810375115042",
        "écrire à louise.dupont@example.fr",
    ],
)
def test_identifiers_are_blanked(text: str) -> None:
    assert REDACTED in redact(text)
    assert not any(ch.isdigit() for ch in redact(text).split("NIR")[-1].replace("clé", ""))


def test_short_numbers_stay(text: str = "ITI-67 200 en 12.5 ms, 3 documents, RPPS absent") -> None:
    assert redact(text) == text


def test_a_careless_log_call_leaks_nothing(log_output: io.StringIO) -> None:
    logging.getLogger("mes.test").warning("patient %s introuvable", "281037511504265")
    try:
        raise ValueError("INS 281037511504265 invalide")
    except ValueError:
        logging.getLogger("mes.test").exception("échec")
    out = log_output.getvalue()
    assert "281037511504265" not in out
    assert out.count(REDACTED) >= 2
    for line in out.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            assert {"time", "level", "logger", "request_id", "message"} <= set(record)


def _forbidden_strings() -> list[str]:
    """Everything the demo knows that no log line may contain."""
    forbidden: list[str] = []
    for citizen in Citizen.objects.all():
        forbidden += [citizen.ins, citizen.ins[:13]]
        if citizen.email:
            forbidden.append(citizen.email)
    forbidden += [d.title for d in Document.objects.all() if len(d.title) >= 12]
    return forbidden


@pytest.mark.django_db
def test_the_demo_story_writes_no_identifier_or_health_content(
    log_output: io.StringIO, client: Client, settings: Any
) -> None:
    call_command("demo", "--load-only", stdout=io.StringIO())
    louise = Citizen.objects.get(ins=next(p.ins for p in dataset.PEOPLE if p.key == "louise"))
    client.force_login(louise.user)
    pages = [
        "/",
        "/documents/",
        "/profil-medical/",
        "/profil-medical/mesures/",
        "/profil-medical/vaccinations/",
        "/mon-compte/historique-activite/",
        "/notifications/",
        "/documents/00000000-0000-0000-0000-000000000000/",
    ]
    for document in Document.objects.filter(patient=louise)[:5]:
        pages += [f"/documents/{document.pk}/", f"/documents/{document.pk}/telecharger/"]
    for page in pages:
        assert client.get(page).status_code in (200, 302, 404), page
    client.logout()
    doctor = Professional.objects.get(rpps=next(p.rpps for p in dataset.PROS if p.key == "mt"))
    client.force_login(doctor.user)
    assert client.get(f"/pro/patients/{louise.pk}/").status_code == 200
    client.get(f"/fhir/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|{louise.ins}")

    out = log_output.getvalue()
    assert "portal:documents" in out  # the walk was logged
    leaks = [s for s in _forbidden_strings() if s in out]
    assert leaks == []
