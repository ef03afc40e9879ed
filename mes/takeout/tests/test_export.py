"""Camille downloads her data and Louis's: the zip opens, its Bundles validate as FHIR R4 and hold
every document; the request and each download are traced; an aidant may not ask; the link
expires."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from mes.access.actors import carer_actor, citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.carers.tests.conftest import delegate, make_isabelle
from mes.conftest import make_pdf
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.models import Notification
from mes.records import actions as records
from mes.reimbursements.tests.conftest import episode
from mes.takeout.export import export_download, export_request
from mes.takeout.models import DataExport
from mes.vaccinations import actions as vaccinations


@pytest.fixture
def dossier(camille, louis):
    docs = [
        records.document_deposit(
            actor=citizen_actor(camille),
            patient_id=camille.pk,
            content=make_pdf(f"Document {n}"),
            title=f"Compte rendu {n}",
            category="CPT_REND",
        )
        for n in (1, 2)
    ]
    docs.append(
        records.document_deposit(
            actor=citizen_actor(camille),
            patient_id=louis.pk,
            content=make_pdf("Carnet"),
            title="Certificat de Louis",
            category="CERT_MED",
        )
    )
    vaccinations.vaccination_add(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        vaccine_code="VAXIGRIPTETRA",
        vaccination_date=timezone.localdate() - timedelta(days=40),
    )
    episode(camille, "E1", label="Consultation")
    return docs


def _request(django_capture_on_commit_callbacks, actor):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(actor=actor)
    export.refresh_from_db()
    return export


def test_the_zip_opens_validates_and_holds_every_document(
    camille, louis, dossier, django_capture_on_commit_callbacks
):
    export = _request(django_capture_on_commit_callbacks, citizen_actor(camille))
    assert export.status == DataExport.Status.READY
    assert export.medical_size > 0 and export.account_size > 0 and export.messaging_size > 0
    note = Notification.objects.get(profile=camille, code="EXPORT_DONNEES")
    assert note.link_label == "Télécharger mes données"

    _, content = export_download(actor=citizen_actor(camille), export_id=export.pk)
    assert content is not None and len(content) == export.zip_size
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    names = archive.namelist()
    bundles = [n for n in names if n.endswith("dossier-medical/bundle.json")]
    assert len(bundles) == 2  # Camille and Louis
    seen_docs = set()
    for name in bundles:
        data = json.loads(archive.read(name))
        Bundle.model_validate(data)
        assert data["type"] == "searchset"
        types = {e["resource"]["resourceType"] for e in data["entry"]}
        assert "Patient" in types
        folder = name.removesuffix("bundle.json")
        for e in data["entry"]:
            r = e["resource"]
            if r["resourceType"] == "DocumentReference":
                path = folder + r["content"][0]["attachment"]["url"]
                assert archive.read(path).startswith(b"%PDF")
                seen_docs.add(r["id"])
    assert seen_docs == {str(d.pk) for d in dossier}
    assert any(n.endswith("synthese.pdf") for n in names)
    assert any(n.endswith("messagerie/LISEZ-MOI.txt") for n in names)
    account = json.loads(archive.read(next(n for n in names if n.endswith("compte/compte.json"))))
    assert "identite" in account and "proches_aidants" in account

    for patient in (camille, louis):
        assert Trace.objects.filter(
            patient_id=patient.pk, action=TraceAction.EXPORT_REQUEST
        ).exists()
        assert Trace.objects.filter(
            patient_id=patient.pk, action=TraceAction.EXPORT_DOWNLOAD
        ).exists()


def test_an_aidant_may_not_ask(camille, django_capture_on_commit_callbacks):
    isabelle = make_isabelle()
    delegate(camille, isabelle)
    with pytest.raises(NotFound):
        export_request(actor=carer_actor(isabelle, aided=camille))
    assert not DataExport.objects.exists()
    refused = Trace.objects.get(
        patient_id=camille.pk, action=TraceAction.EXPORT_REQUEST, outcome=TraceOutcome.REFUSED
    )
    assert "proche aidant" in refused.reason


def test_nobody_else_downloads(
    camille, bob, dossier, django_capture_on_commit_callbacks, dr_martin
):
    from mes.conftest import pro

    export = _request(django_capture_on_commit_callbacks, citizen_actor(camille))
    for actor in (citizen_actor(bob), pro(dr_martin)):
        with pytest.raises(NotFound):
            export_download(actor=actor, export_id=export.pk)


def test_the_link_expires(camille, dossier, django_capture_on_commit_callbacks):
    export = _request(django_capture_on_commit_callbacks, citizen_actor(camille))
    with time_machine.travel(export.expires_at + timedelta(seconds=1)):
        _, content = export_download(actor=citizen_actor(camille), export_id=export.pk)
    assert content is None
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.EXPORT_DOWNLOAD, outcome=TraceOutcome.REFUSED
    ).exists()


def test_one_request_at_a_time(camille):
    export_request(actor=citizen_actor(camille))
    with pytest.raises(InvalidInput, match="déjà en cours"):
        export_request(actor=citizen_actor(camille))


def test_the_messaging_part_holds_the_conversations_and_their_files(
    camille, louis, dossier, dr_martin, django_capture_on_commit_callbacks
):
    from mes.messaging.actions import IncomingFile
    from mes.messaging.tests.fixtures import mail, martin_mailbox, receive

    martin_mailbox(dr_martin)
    pdf = make_pdf("Résultats de la prise de sang")
    receive(camille, mail(files=[IncomingFile("../../résultats bilan.pdf", pdf)]))
    export = _request(django_capture_on_commit_callbacks, citizen_actor(camille))
    _, content = export_download(actor=citizen_actor(camille), export_id=export.pk)
    archive = zipfile.ZipFile(io.BytesIO(content))
    names = archive.namelist()
    listing_name = next(n for n in names if n.endswith("messagerie/conversations.json"))
    (conversation,) = json.loads(archive.read(listing_name))
    (message,) = conversation["messages"]
    assert message["sens"] == "Reçu" and "Martin" in message["expediteur"]
    (attachment,) = message["pieces_jointes"]
    assert attachment["nom"].endswith("résultats bilan.pdf")  # the name as received...
    path = listing_name.removesuffix("conversations.json") + attachment["fichier"]
    assert ".." not in attachment["fichier"]  # ...stored under a name made here
    assert archive.read(path) == pdf
    # Louis has no conversation: his part says so.
    assert any(n.endswith("messagerie/LISEZ-MOI.txt") for n in names)
