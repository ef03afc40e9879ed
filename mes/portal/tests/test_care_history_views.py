"""Mon histoire de santé in the portal: Camille's timeline, a line's details, copying a drug into
her treatments, her confidentiality choice; strangers and anonymous get nothing."""

from __future__ import annotations

from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.portal.access import PROFILE_SESSION_KEY
from mes.reimbursements.models import CareHistorySettings, Episode
from mes.reimbursements.tests.conftest import episode
from mes.reimbursements.tests.conftest import history as history


def _as(client, citizen, profile=None):
    client.force_login(citizen.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str((profile or citizen).pk)
    session.save()
    return client


def test_the_timeline_grouped_and_filtered(client, camille, history):
    _as(client, camille)
    page = client.get(reverse("portal:care_history"), {"regrouper": "annee"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "METFORMINE 1000 MG CPR" in body and "VAXIGRIPTETRA" in body
    assert ">2026<" in body and ">2025<" in body
    drugs = client.get(reverse("portal:care_history"), {"categorie": "MEDICAMENT"})
    assert "METFORMINE" in drugs.content.decode() and "VAXIGRIPTETRA" not in drugs.content.decode()
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.CONSULT_CARE_HISTORY
    ).exists()


def test_details_and_add_treatment(client, camille, history):
    _as(client, camille)
    drug = history[1]
    page = client.get(reverse("portal:care_history_episode", args=[drug.pk]))
    body = page.content.decode()
    for label in (
        "Date de délivrance",
        "Quantité délivrée",
        "Groupe thérapeutique",
        "Prescrit par",
    ):
        assert label in body
    assert "Ajouter ce traitement" in body
    client.post(reverse("portal:care_history_add_treatment", args=[drug.pk]))
    again = client.get(reverse("portal:care_history_episode", args=[drug.pk]))
    assert "Déjà ajouté à la rubrique Traitements" in again.content.decode()
    assert Episode.objects.get(pk=drug.pk).treatment_entry_id is not None


def test_add_to_my_vaccinations(client, camille, history):
    _as(client, camille)
    vaccine = history[2]
    page = client.get(reverse("portal:care_history_episode", args=[vaccine.pk]))
    assert "Valence vaccinale" in page.content.decode()
    client.post(reverse("portal:care_history_add_vaccination", args=[vaccine.pk]))
    assert Episode.objects.get(pk=vaccine.pk).vaccination_id is not None


def test_the_confidentiality_choice(client, camille, history):
    _as(client, camille)
    assert client.get(reverse("portal:care_history_confidentiality")).status_code == 200
    client.post(reverse("portal:care_history_confidentiality"), {"visibilite": "masquee"})
    assert CareHistorySettings.objects.get(patient=camille).masked_from_professionals
    page = client.get(reverse("portal:care_history"))
    assert "masquées aux professionnels" in page.content.decode()


def test_anonymous_goes_to_login(client, db):
    response = client.get(reverse("portal:care_history"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_another_patient_sees_nothing_of_camille(client, camille, bob, history):
    _as(client, bob)
    page = client.get(reverse("portal:care_history"))
    assert "METFORMINE" not in page.content.decode()
    assert (
        client.get(reverse("portal:care_history_episode", args=[history[1].pk])).status_code == 404
    )
    refused = client.post(reverse("portal:care_history_add_treatment", args=[history[1].pk]))
    assert refused.status_code == 404
    assert (
        Trace.objects.filter(
            patient_id=camille.pk,
            action=TraceAction.CONSULT_CARE_HISTORY,
            outcome=TraceOutcome.REFUSED,
        ).count()
        == 2
    )


def test_a_parent_sees_the_childs_history(client, camille, louis):
    episode(louis, "L1", label="Consultation pédiatrique")
    _as(client, camille, louis)
    page = client.get(reverse("portal:care_history"))
    assert "Consultation pédiatrique" in page.content.decode()
    assert "Histoire de santé de Louis" in page.content.decode()
