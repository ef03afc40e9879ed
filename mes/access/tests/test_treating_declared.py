"""The médecin traitant declared by a professional (TD0.3, issue 8 item 9): Camille is told at
once who declared it and when, the portal never says « déclaré à l'Assurance Maladie » for it,
and she contests it in one step (traced)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from mes.access.actions import authorisation_declare, treating_physician_contest
from mes.access.actors import citizen_actor
from mes.access.models import ProfessionalAccess, TreatingSource
from mes.audit.guard import Refused
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import InvalidInput
from mes.notifications.models import Notification

CONTEST = reverse("portal:treating_contest")
ACCESS = reverse("portal:access")


@pytest.fixture
def declared(camille, dr_durand) -> ProfessionalAccess:
    """Dr Durand declares himself Camille's médecin traitant from his software or the Web PS."""
    return authorisation_declare(
        actor=pro(dr_durand), patient_id=camille.pk, treating_physician=True
    )


@pytest.fixture
def as_camille(camille) -> Client:
    client = Client()
    client.force_login(camille.user)
    return client


def test_the_declaration_is_kept_with_its_source_and_date(declared):
    assert declared.is_treating_physician
    assert declared.treating_source == TreatingSource.PROFESSIONAL
    assert declared.treating_since == declared.since


def test_camille_is_notified_at_once_of_who_declared_it_and_when(camille, declared):
    notice = Notification.objects.get(profile=camille, code=Notification.Code.TREATING_PHYSICIAN)
    assert notice.code == "DECLARATION_MT"
    assert notice.label.startswith("Dr Paul Durand a déclaré être votre médecin traitant le ")
    assert "contester cette déclaration" in notice.label
    assert notice.url == ACCESS


def test_it_replaces_the_previous_one_and_says_so_once(camille, dr_martin, dr_durand):
    authorisation_declare(actor=pro(dr_durand), patient_id=camille.pk, treating_physician=True)
    authorisation_declare(actor=pro(dr_durand), patient_id=camille.pk, treating_physician=True)
    assert not ProfessionalAccess.objects.get(professional=dr_martin).is_treating_physician
    notices = Notification.objects.filter(
        profile=camille, code=Notification.Code.TREATING_PHYSICIAN
    )
    assert notices.count() == 1  # declaring again changes nothing


def test_the_portal_says_who_declared_it_never_the_assurance_maladie(as_camille, declared):
    for url in (ACCESS, reverse("portal:profile_professionals")):
        page = unescape(as_camille.get(url).content.decode())
        assert "Déclaration faite par Dr Paul Durand le " in page
        assert "Déclaré à l'Assurance Maladie" not in page


def test_one_declared_to_the_assurance_maladie_says_so_and_cannot_be_contested_here(
    as_camille, camille, dr_martin
):
    page = unescape(as_camille.get(ACCESS).content.decode())
    assert "Déclaré à l'Assurance Maladie" in page
    assert "Confirmer la contestation" not in page
    with pytest.raises(InvalidInput, match="auprès de votre caisse"):
        treating_physician_contest(
            actor=citizen_actor(camille), patient_id=camille.pk, professional_id=dr_martin.pk
        )
    assert ProfessionalAccess.objects.get(professional=dr_martin).is_treating_physician


def test_camille_contests_it_in_one_step_and_it_is_traced(as_camille, camille, declared):
    response = as_camille.post(CONTEST, {"professional": str(declared.professional_id)})
    assert response["Location"] == ACCESS
    row = ProfessionalAccess.objects.get(pk=declared.pk)
    assert not row.is_treating_physician
    assert row.treating_source == "" and row.treating_since is None
    assert row.status == ProfessionalAccess.Status.AUTHORISED  # the consent he declared stays
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.CONTEST_TREATING)
    assert trace.outcome == TraceOutcome.ALLOWED
    assert trace.actor_id == camille.ins
    assert trace.document_title == "Dr Paul Durand"
    page = unescape(as_camille.get(ACCESS).content.decode())
    assert "La déclaration de médecin traitant de Dr Paul Durand est retirée." in page


def test_anonymous_is_sent_to_the_login(client, declared):
    response = client.post(CONTEST, {"professional": str(declared.professional_id)})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert ProfessionalAccess.objects.get(pk=declared.pk).is_treating_physician


def test_another_patient_cannot_contest_camilles(bob, declared):
    client = Client()
    client.force_login(bob.user)
    response = client.post(CONTEST, {"professional": str(declared.professional_id)}, follow=True)
    assert "n'est pas votre médecin traitant" in unescape(response.content.decode())
    assert ProfessionalAccess.objects.get(pk=declared.pk).is_treating_physician
    assert not Trace.objects.filter(action=TraceAction.CONTEST_TREATING).exists()


def test_a_professional_gets_not_found(dr_durand, declared):
    client = Client()
    client.force_login(dr_durand.user)
    response = client.post(CONTEST, {"professional": str(declared.professional_id)})
    assert response.status_code == 404
    assert ProfessionalAccess.objects.get(pk=declared.pk).is_treating_physician


def test_a_professional_actor_is_refused_and_traced(camille, dr_durand, declared):
    with pytest.raises(Refused):
        treating_physician_contest(
            actor=pro(dr_durand), patient_id=camille.pk, professional_id=dr_durand.pk
        )
    trace = Trace.objects.get(action=TraceAction.CONTEST_TREATING)
    assert trace.outcome == TraceOutcome.REFUSED
    assert ProfessionalAccess.objects.get(pk=declared.pk).is_treating_physician


def test_a_garbled_or_unrelated_professional_changes_nothing(as_camille, ide_bernard, declared):
    for value in ("pas-un-uuid", str(ide_bernard.pk)):
        response = as_camille.post(CONTEST, {"professional": value}, follow=True)
        assert "n'est pas votre médecin traitant" in unescape(response.content.decode())
    assert ProfessionalAccess.objects.get(pk=declared.pk).is_treating_physician
