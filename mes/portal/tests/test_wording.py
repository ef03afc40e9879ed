"""The wording and display faults found on the portal (issue 8 item 8)."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mes.access.actions import notify_first_access
from mes.access.actors import system_actor
from mes.access.models import PrivacySettings
from mes.audit import trace
from mes.audit.history import SYSTEM_NAME
from mes.audit.models import TraceAction
from mes.conftest import make_pdf, pro
from mes.lib.errors import InvalidInput
from mes.notifications.models import Notification
from mes.records import actions
from mes.records.models import Document


@pytest.fixture
def as_camille(client, camille):
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    client.force_login(camille.user)
    return client


def _html(response) -> str:
    return unescape(response.content.decode())


def test_blocking_says_what_happens_without_bracketed_endings(as_camille, camille, ide_bernard):
    response = as_camille.post(
        reverse("portal:access"),
        {"op": "bloquer", "professional": str(ide_bernard.pk)},
        follow=True,
    )
    html = _html(response)
    assert f"{ide_bernard.display_name} ne peut plus accéder à votre profil." in html
    assert "(e)" not in html and "(s)" not in html


def test_a_childs_notifications_speak_of_the_child(camille, louis, dr_martin):
    """Louis has no account: his representatives read his notifications, in the third person."""
    from mes.access.models import ProfessionalAccess

    ProfessionalAccess.objects.create(
        patient=louis, professional=dr_martin, status=ProfessionalAccess.Status.AUTHORISED
    )
    actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=louis.pk,
        content=make_pdf(),
        title="Certificat de sport",
        type_code="11490-0",
    )
    notify_first_access(pro(dr_martin), louis)
    labels = list(Notification.objects.filter(profile=louis).values_list("label", flat=True))
    assert (
        f"{dr_martin.display_name} a ajouté le document «\u00a0Certificat de sport\u00a0» "
        "au profil de Louis" in labels
    )
    assert (
        f"{dr_martin.display_name} a consulté le dossier de Louis pour la première fois." in labels
    )
    assert not any("vous" in label or "votre" in label for label in labels)
    # Camille's own stay in the second person.
    actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Lettre",
        type_code="11490-0",
    )
    assert Notification.objects.get(profile=camille).label.endswith(
        "vous a ajouté le document «\u00a0Lettre\u00a0»"
    )


def test_a_job_is_never_shown_as_who(as_camille, camille):
    trace.record(
        actor=system_actor("import-mesures-documents"),
        action=TraceAction.ADD_MEASURE,
        patient_id=camille.pk,
        document_title="Poids",
    )
    html = _html(as_camille.get(reverse("portal:history")))
    assert SYSTEM_NAME in html
    assert "import-mesures-documents" not in html


def test_the_entourage_shows_each_person_once_with_their_roles(as_camille, camille):
    data = {
        "is_emergency": "on",
        "is_trusted": "on",
        "last_name": "Lefèvre",
        "first_name": "Paul",
        "link": "PARTNER",
        "phone1": "0639980101",
        "address": "12 rue des Lilas",
        "postal_code": "75015",
        "city": "Paris",
    }
    response = as_camille.post(reverse("portal:profile_contact_add"), data)
    assert response.status_code == 302
    html = _html(as_camille.get(reverse("portal:profile_entourage")))
    assert html.count('<h3 class="h5 mb-0">Paul Lefèvre') == 1
    assert "Contact d'urgence</span>" in html and "Personne de confiance</span>" in html
    assert "06 39 98 01 01" in html  # by pairs


def test_a_document_title_is_limited_to_50_characters(as_camille, camille, camille_actor):
    with pytest.raises(InvalidInput, match="50 caractères"):
        actions.document_deposit(
            actor=camille_actor,
            patient_id=camille.pk,
            content=make_pdf(),
            title="x" * 51,
            category="ORD_SOIN",
        )
    data = {
        "title": "x" * 51,
        "service_date": "2024-02-03",
        "category": "RADIO_SC",
        "folder": "",
        "confidentiality": "visible",
        "file": SimpleUploadedFile("a.pdf", make_pdf()),
    }
    response = as_camille.post(reverse("portal:document_add"), data)
    assert not Document.objects.exists()
    assert 'maxlength="50"' in response.content.decode()


def test_professionals_keep_longer_titles(camille, dr_martin):
    doc = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="y" * 120,
        type_code="11490-0",
    )
    assert len(doc.title) == 120


def test_a_document_date_is_not_before_birth(as_camille, camille, camille_actor):
    before = date(1980, 1, 1)
    assert camille.birth_date > before
    with pytest.raises(InvalidInput, match="antérieure à la date de naissance"):
        actions.document_deposit(
            actor=camille_actor,
            patient_id=camille.pk,
            content=make_pdf(),
            title="Vieux",
            category="ORD_SOIN",
            service_date=before,
        )
    data = {
        "title": "Vieux",
        "service_date": "1980-01-01",
        "category": "RADIO_SC",
        "folder": "",
        "confidentiality": "visible",
        "file": SimpleUploadedFile("a.pdf", make_pdf()),
    }
    response = as_camille.post(reverse("portal:document_add"), data)
    assert not Document.objects.exists()
    assert "antérieure à la date de naissance (14/05/1985)" in _html(response)
    doc = actions.document_deposit(
        actor=camille_actor,
        patient_id=camille.pk,
        content=make_pdf(),
        title="Récent",
        category="ORD_SOIN",
        service_date=date(2020, 1, 1),
    )
    with pytest.raises(InvalidInput, match="antérieure à la date de naissance"):
        actions.document_update(
            actor=camille_actor,
            document_id=doc.pk,
            title="Récent",
            service_date=before,
            category="ORD_SOIN",
            folder_id=None,
        )
    doc.refresh_from_db()
    assert doc.service_date == date(2020, 1, 1)
