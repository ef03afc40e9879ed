"""scripts/deposit_document.py over real HTTP: the hospital's server deposits a cardiologist's
letter in Camille's DMP, and Camille finds it in her documents, with a notification."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction
from mes.conftest import make_pdf, make_professional
from mes.fhir.models import register_client
from mes.notifications.models import Notification
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.vault import store

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "deposit_document.py"


def load_script():
    spec = importlib.util.spec_from_file_location("deposit_document", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db(transaction=True)
def test_the_hospital_deposits_a_letter_with_the_script(live_server, camille, hopital, tmp_path):
    cardiologue = make_professional("10000000099", "Karim", "Benali", "10", "SM04", hopital)
    server = register_client(
        software_name="DPI Saint-Louis", software_version="12.0", organisation=hopital
    )
    letter = tmp_path / "lettre.pdf"
    pdf = make_pdf("Lettre de liaison de sortie de cardiologie")
    letter.write_bytes(pdf)
    script = load_script()
    location = script.deposit(
        script.parse(
            [
                "--base",
                live_server.url,
                "--client-id",
                server.client_id,
                "--client-secret",
                server.client_secret,
                "--professional",
                cardiologue.national_id,
                "--ins",
                camille.ins,
                "--file",
                str(letter),
                "--title",
                "Lettre de liaison de sortie (cardiologie)",
                "--date",
                "2026-01-15",
            ]
        )
    )
    assert location.startswith("DocumentReference/")
    doc = Document.objects.get(pk=location.split("/")[1])
    assert (doc.patient_id, doc.author_professional_id, doc.type_code) == (
        camille.pk,
        cardiologue.pk,
        "11490-0",
    )
    assert store.get(camille.pk, doc.pk) == pdf
    assert list(documents_visible_to(citizen_actor(camille), camille)) == [doc]
    assert camille.notifications.filter(code=Notification.Code.NEW_DOCUMENT).count() == 1
    row = Trace.objects.get(action=TraceAction.DEPOSIT_DOC)
    assert row.software == "DPI Saint-Louis 12.0 via Hôpital Saint-Louis"


@pytest.mark.django_db(transaction=True)
def test_a_refused_deposit_exits_with_the_diagnostic(live_server, camille, hopital, tmp_path):
    cardiologue = make_professional("10000000098", "Karim", "Benali", "10", "SM04", hopital)
    server = register_client(software_name="DPI", software_version="1", organisation=hopital)
    text = tmp_path / "note.txt"
    text.write_text("Note de sortie\n")
    script = load_script()
    args = script.parse(
        [
            "--base",
            live_server.url,
            "--client-id",
            server.client_id,
            "--client-secret",
            server.client_secret,
            "--professional",
            cardiologue.national_id,
            "--ins",
            camille.ins,
            "--file",
            str(text),
            "--type",
            "99999-9",
        ]
    )
    with pytest.raises(SystemExit) as exit_:
        script.deposit(args)
    assert "Type de document inconnu" in str(exit_.value)
    assert not Document.objects.exists()
