"""The citizen sends the synthèse du profil médical to a paired service, which reads it
(issue 11 item 5)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.catalogue.models import ProfileShare
from mes.catalogue.testing import glucose_service, pair, paired_token

pytestmark = pytest.mark.django_db

SCOPES = "profil.read patient/DocumentReference.read patient/Binary.read"


def _portal(citizen) -> Client:
    client = Client()
    client.force_login(citizen.user)
    return client


def test_the_citizen_sends_the_synthesis_and_the_app_reads_it(camille):
    service = glucose_service()
    pairing = pair(service, camille, purposes=["51"])
    raw, _ = paired_token(pairing, scopes=SCOPES)
    portal = _portal(camille)
    page = portal.get(reverse("portal:synthesis_send"))
    assert page.status_code == 200 and service.name in page.content.decode()
    sent = portal.post(
        reverse("portal:synthesis_send"),
        {"pairing": str(pairing.pk), "sections": ["ALLERGIES", "TREATMENTS"]},
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    share = ProfileShare.objects.get(pairing=pairing)
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.SERVICE_PROFILE_SEND, document_title=service.name
    ).exists()

    listing = Client().get(
        "/fhir/services/DocumentReference",
        {"type": "DOCPAT08"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert listing.status_code == 200
    entry = json.loads(listing.content)["entry"][0]["resource"]
    assert entry["id"] == str(share.pk)
    pdf = Client().get(entry["content"][0]["attachment"]["url"], HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Without the documents purpose, the rest of the documents stays closed.
    others = Client().get("/fhir/services/DocumentReference", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert others.status_code == 403


def test_no_synthesis_for_an_app_without_the_profile_purpose(camille):
    pairing = pair(glucose_service(), camille, purposes=["11"])
    portal = _portal(camille)
    page = portal.get(reverse("portal:synthesis_send"))
    assert "Aucun service synchronisé" in page.content.decode()
    forged = portal.post(
        reverse("portal:synthesis_send"), {"pairing": str(pairing.pk), "sections": ["ALLERGIES"]}
    )
    assert forged.status_code == 400
    assert not ProfileShare.objects.exists()


def test_another_citizen_cannot_send_for_the_espace(camille, bob):
    pairing = pair(glucose_service(), camille, purposes=["51"])
    from mes.access.actors import citizen_actor
    from mes.catalogue.pairing import profile_send
    from mes.lib.errors import NotFound
    from mes.medical_profile.synthesis import Section

    with pytest.raises(NotFound):
        profile_send(
            actor=citizen_actor(bob),
            pairing_id=pairing.pk,
            patient_id=camille.pk,
            sections=[Section("ALLERGIES")],
        )
    assert Trace.objects.filter(
        patient_id=camille.pk,
        action=TraceAction.SERVICE_PROFILE_SEND,
        outcome=TraceOutcome.REFUSED,
    ).exists()
