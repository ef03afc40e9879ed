"""The orphan sweep removes only blobs that no committed row refers to, and only old ones."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from mes.conftest import make_pdf, pro
from mes.records import actions
from mes.vault import store
from mes.vault.references import owners
from mes.vault.sweep import blob_id_of, sweep_orphan_blobs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_vault(settings: Any, tmp_path: Any) -> None:
    """A vault folder of this test's own: the sweep looks at everything in the store."""
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "vault")},
        },
    }


@pytest.fixture
def no_grace(settings: Any) -> None:
    settings.MES_VAULT_SWEEP_GRACE = timedelta(0)


def deposit(camille: Any, dr_martin: Any) -> Any:
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Compte rendu"),
        title="Compte rendu de consultation",
        type_code="11488-4",
    )


def test_an_orphan_goes_and_a_referenced_blob_stays(camille, dr_martin, no_grace) -> None:
    kept = deposit(camille, dr_martin)
    orphan = uuid.uuid4()  # as if the process died between the blob write and the commit
    store.put(camille.pk, orphan, b"jamais valide")
    storages["vault"].save("notes/readme.txt", ContentFile(b"pas au coffre"))

    report = sweep_orphan_blobs()

    assert (report.seen, report.removed, report.foreign) == (2, 1, 1)
    assert store.get(camille.pk, kept.pk).startswith(b"%PDF-")
    assert not storages["vault"].exists(store._blob_name(camille.pk, orphan))
    assert storages["vault"].exists("notes/readme.txt")  # not ours: left alone


def test_a_young_orphan_may_be_a_transaction_in_flight(camille, settings) -> None:
    settings.MES_VAULT_SWEEP_GRACE = timedelta(hours=1)
    orphan = uuid.uuid4()
    store.put(camille.pk, orphan, b"en cours")
    report = sweep_orphan_blobs()
    assert (report.removed, report.kept_young) == (0, 1)
    assert storages["vault"].exists(store._blob_name(camille.pk, orphan))


def test_a_rolled_back_deposit_leaves_nothing_after_the_sweep(camille, dr_martin, no_grace):
    with pytest.raises(RuntimeError):
        from django.db import transaction

        with transaction.atomic():
            deposit(camille, dr_martin)
            raise RuntimeError("panne entre l'écriture du fichier et la validation")
    assert sweep_orphan_blobs().removed == 1
    assert sweep_orphan_blobs().seen == 0


def test_every_blob_owner_is_registered() -> None:
    """Every module that writes to the vault (store.put) owns a model the sweep must ask: an
    owner missing here would see its blobs swept away."""
    import pathlib

    writers = {
        path.parent.name
        for path in pathlib.Path(__file__).resolve().parents[2].rglob("*.py")
        if "tests" not in path.parts and "store.put(" in path.read_text(encoding="utf-8")
    }
    registered = {name.split(".")[0] for name in owners()}
    assert writers <= registered, writers - registered
    assert {"records.Document", "messaging.Attachment", "takeout.DataExport"} <= set(owners())


def test_a_message_attachment_is_never_swept(camille, dr_martin, no_grace) -> None:
    from mes.messaging.actions import IncomingFile
    from mes.messaging.models import Attachment
    from mes.messaging.tests.fixtures import mail, martin_mailbox, receive

    martin_mailbox(dr_martin)
    receive(camille, mail(files=[IncomingFile("CR.pdf", make_pdf())]))
    attachment = Attachment.objects.get()
    assert sweep_orphan_blobs().removed == 0
    assert store.get(camille.pk, attachment.pk).startswith(b"%PDF-")


# Fixed ids: parallel test workers must collect the same parameters.
P, B = "ab3f" + "0" * 28, "c0ffee" + "1" * 26


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        (f"ab/{P}/{B}.bin", True),
        (f"ab/{P}/readme.txt", False),
        ("readyz/abc", False),
        (f"ab/pas-un-uuid/{B}.bin", False),
    ],
)
def test_only_vault_names_are_considered(name: str, ours: bool) -> None:
    assert (blob_id_of(name) is not None) is ours
