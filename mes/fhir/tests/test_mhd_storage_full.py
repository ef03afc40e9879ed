"""ITI-65 when the blob store's disk is full (issue 16 §7): a real small filesystem (tmpfs, so
root) answers ENOSPC; the deposit is refused with a FHIR OperationOutcome 507 and a
Retry-After, nothing of it stays (no row, no partial blob, no trace of a deposit), what was
stored before stays readable, and deposits work again as soon as there is room. The whole
drill, with the running server, is `python -m drills.disk_full`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.fhir.tests.conftest import fhir_json
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.records.models import Document
from mes.vault import store

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("mount") is None,
        reason="monter un tmpfs demande root",
    ),
]


@pytest.fixture
def small_disk(tmp_path: Path, settings) -> Path:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        check=True,
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(disk / "vault")},
        },
    }
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    ballast = disk / "ballast"
    ballast.write_bytes(b"\0" * max(0, shutil.disk_usage(disk).free - leave))
    return ballast


def _blobs(disk: Path) -> list[Path]:
    return sorted(p for p in (disk / "vault").rglob("*") if p.is_file())


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def test_a_full_disk_refuses_the_deposit_cleanly_and_keeps_what_was_stored(
    api, camille, small_disk
):
    before = make_pdf("Compte rendu d'avant")
    first = api.post("/fhir/", provide_bundle(camille, [document(before)]))
    assert first.status_code == 200, first.content
    kept = Document.objects.get(patient=camille)
    ballast = _fill(small_disk, leave=2048)
    big = make_pdf("Compte rendu " + "x" * 20000)
    deposits = Trace.objects.filter(action=TraceAction.DEPOSIT_DOC, outcome=TraceOutcome.ALLOWED)
    traced = deposits.count()

    response = api.post("/fhir/", provide_bundle(camille, [document(big, unique_id="1.2.3.507")]))

    assert response.status_code == 507, response.content
    assert response["Retry-After"] == "300"
    outcome = fhir_json(response, "OperationOutcome")
    assert outcome["issue"][0]["code"] == "exception"
    assert "plein" in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "XDSRepositoryError"
    assert not Document.objects.filter(unique_id="1.2.3.507").exists()
    assert deposits.count() == traced
    # Only the earlier document's blob: the vault removed the truncated one.
    assert [kept.pk.hex in p.name for p in _blobs(small_disk)] == [True]
    assert store.get(camille.pk, kept.pk) == before  # reads go on

    ballast.unlink()  # space freed: no restart needed
    again = api.post("/fhir/", provide_bundle(camille, [document(big, unique_id="1.2.3.508")]))
    assert again.status_code == 200, again.content
    stored = Document.objects.get(unique_id="1.2.3.508")
    assert store.get(camille.pk, stored.pk) == big
