"""Catalogue de services and Services synchronisés in the portal (wave2.md §1.4, portal.md §5.5):
browse, filter, search, a service's page, « Signaler ce service », change a synchronised
service's purposes, approve new rights, unpair. Denials: anonymous, another citizen, a proche
aidant; each refusal traced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from mes.access.decision import decide_exchange
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.carers.tests.conftest import delegate
from mes.catalogue.actors import app_actor
from mes.catalogue.models import (
    Consent,
    DataCategory,
    ExchangeAction,
    Pairing,
    PairingToken,
    Service,
    ServiceReport,
)
from mes.catalogue.registry import reference_service
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.notifications.models import Notification
from mes.portal.access import PROFILE_SESSION_KEY

pytestmark = pytest.mark.django_db

MEASURES_WRITE = (DataCategory.MEASURES, ExchangeAction.WRITE)


def _as(client, citizen, profile=None):
    client.force_login(citizen.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str((profile or citizen).pk)
    session.save()
    return client


@pytest.fixture
def services(db):
    glyco = glucose_service()
    Service.objects.filter(pk=glyco.pk).update(
        pairing_url="https://glyco.example/synchroniser", web_url="https://glyco.example/"
    )
    quit_ = reference_service(
        oid="1.2.250.1.999.2",
        slug="souffle-libre",
        name="Souffle Libre",
        editor_name="Association Air Pur",
        category="prevention",
        summary="Un accompagnement pour arrêter de fumer.",
        description="Des conseils quotidiens et une communauté d'entraide pour la crèche.",
    ).service
    hidden = reference_service(
        oid="1.2.250.1.999.3",
        slug="ancien-service",
        name="Ancien Service",
        editor_name="Vieux Éditeur",
        category="prevention",
        summary="Déréférencé.",
        description="Plus au catalogue.",
        status=Service.Status.DEREFERENCED,
    ).service
    return glyco, quit_, hidden


def test_anonymous_is_sent_to_the_login(client, services):
    for name, kwargs in [
        ("portal:catalogue", {}),
        ("portal:catalogue_service", {"slug": "glyco"}),
        ("portal:catalogue_synced", {}),
    ]:
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_browse_filter_and_search(client, camille, services):
    _as(client, camille)
    page = client.get(reverse("portal:catalogue")).content.decode()
    assert "Catalogue de services" in page
    assert "Glyco glyco" in page and "Souffle Libre" in page
    assert "Ancien Service" not in page  # dereferenced
    assert "Avec échange de données" in page and "En ligne" in page
    # thématique
    page = client.get(reverse("portal:catalogue"), {"thematique": "prevention"}).content.decode()
    assert "Souffle Libre" in page and "Glyco glyco" not in page
    # data exchanged
    page = client.get(reverse("portal:catalogue"), {"donnees": "mesures"}).content.decode()
    assert "Glyco glyco" in page and "Souffle Libre" not in page
    page = client.get(reverse("portal:catalogue"), {"donnees": "aucune"}).content.decode()
    assert "Souffle Libre" in page and "Glyco glyco" not in page
    # search: editor, description, without accents or case
    page = client.get(reverse("portal:catalogue"), {"q": "AIR pur"}).content.decode()
    assert "Souffle Libre" in page and "Glyco glyco" not in page
    page = client.get(reverse("portal:catalogue"), {"q": "creche"}).content.decode()
    assert "Souffle Libre" in page
    page = client.get(reverse("portal:catalogue"), {"q": "introuvable"}).content.decode()
    assert "Aucun service ne correspond" in page


def test_a_service_page_in_plain_french(client, camille, services):
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_service", args=["glyco"])).content.decode()
    assert "Ajouter mon glucose sanguin" in page
    assert "Mesures ajoutées : glucose interstitiel, HbA1c, index de gestion de glycémie" in page
    assert "https://glyco.example/synchroniser" in page and "Synchroniser" in page
    assert "En ligne depuis le" in page
    assert (
        client.get(reverse("portal:catalogue_service", args=["ancien-service"])).status_code == 404
    )


def test_a_suspended_service_cannot_be_synchronised(client, camille, services):
    glyco, _, _ = services
    Service.objects.filter(pk=glyco.pk).update(status=Service.Status.SUSPENDED)
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_service", args=["glyco"])).content.decode()
    assert "Ce service est temporairement indisponible" in page
    assert "https://glyco.example/synchroniser" not in page


def test_the_catalogue_follows_the_profile_switcher(client, camille, louis, services):
    glyco, _, _ = services
    pair(glyco, louis, granted_by=camille.user)
    _as(client, camille, louis)
    page = client.get(reverse("portal:catalogue_service", args=["glyco"])).content.decode()
    assert "synchronisé avec le profil de" in page
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_service", args=["glyco"])).content.decode()
    assert "synchronisé avec" not in page


def test_report_a_service_once_a_day(client, camille, services):
    _as(client, camille)
    url = reverse("portal:catalogue_report", args=["souffle-libre"])
    empty = client.post(url, {"comment": "x"})
    assert empty.status_code == 200 and "Choisissez le motif" in empty.content.decode()
    assert not ServiceReport.objects.exists()
    sent = client.post(url, {"reason": "contenu", "comment": "Les conseils sont datés."})
    assert sent.status_code == 302
    report = ServiceReport.objects.get()
    assert report.reason == "contenu" and report.reporter == camille.user
    trace = Trace.objects.get(action=TraceAction.REPORT_SERVICE)
    assert trace.patient_id == camille.pk and trace.document_title == "Souffle Libre"
    page = client.get(reverse("portal:catalogue_service", args=["souffle-libre"])).content.decode()
    assert "Dernier signalement de votre part" in page
    assert "Vous pourrez le signaler de nouveau demain" in page
    again = client.post(url, {"reason": "autre"})
    assert (
        again.status_code == 200 and "Vous avez déjà signalé ce service" in again.content.decode()
    )
    assert ServiceReport.objects.count() == 1
    ServiceReport.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert client.post(url, {"reason": "autre"}).status_code == 302
    assert ServiceReport.objects.count() == 2


def test_empty_synced_services(client, camille, services):
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert "Découvrir le catalogue de services" in page
    assert Trace.objects.filter(
        action=TraceAction.CONSULT_SYNCED_SERVICES, patient_id=camille.pk
    ).exists()


def test_change_a_purpose(client, camille, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille, purposes=["11", "12"])
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert f"J'autorise {glyco.name} à effectuer les actions suivantes" in page
    assert decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed
    response = client.post(
        reverse("portal:catalogue_consents", args=[pairing.pk]), {"finalites": ["12", "31"]}
    )
    assert response.status_code == 302
    codes = set(Consent.objects.filter(pairing=pairing).values_list("purpose__code", flat=True))
    assert codes == {"12", "31"}
    # withdrawn at once: the service's next call is refused
    assert not decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed
    assert Trace.objects.filter(
        action=TraceAction.PAIRING_CONSENT_WITHDRAWN, patient_id=camille.pk
    ).exists()
    assert Trace.objects.filter(action=TraceAction.PAIRING_CONSENT_GIVEN).count() == 1
    assert Notification.objects.filter(
        profile=camille, code=Notification.Code.SYNCED_SERVICES
    ).exists()


def test_withdrawing_every_purpose_is_asked_as_an_unpairing(client, camille, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille, purposes=["11"])
    _as(client, camille)
    response = client.post(reverse("portal:catalogue_consents", args=[pairing.pk]), {}, follow=True)
    assert "Gardez au moins une autorisation" in response.content.decode()
    assert Consent.objects.filter(pairing=pairing).count() == 1  # nothing lost


def test_unpair_revokes_every_token(client, camille, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille)
    _raw, access = paired_token(pairing)
    refresh = RefreshToken.objects.create(
        user=camille.user, application=glyco.application, token="r-1", access_token=access
    )
    PairingToken.objects.create(pairing=pairing, refresh_token=refresh)
    _as(client, camille)
    confirm = client.get(reverse("portal:catalogue_unpair", args=[pairing.pk])).content.decode()
    assert "ne pourra plus échanger de données avec Mon espace santé" in confirm
    response = client.post(reverse("portal:catalogue_unpair", args=[pairing.pk]))
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.status == Pairing.Status.UNPAIRED and pairing.ended_at is not None
    assert not AccessToken.objects.filter(pk=access.pk).exists()
    refresh.refresh_from_db()
    assert refresh.revoked is not None
    assert not decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed
    trace = Trace.objects.get(action=TraceAction.UNPAIR)
    assert trace.patient_id == camille.pk and trace.document_title == glyco.name
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert "Découvrir le catalogue de services" in page


def test_a_suspended_service_may_still_be_unpaired(client, camille, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille)
    Service.objects.filter(pk=glyco.pk).update(status=Service.Status.SUSPENDED)
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert "Ce service est temporairement indisponible. Vous pouvez tout de même" in page
    refused = client.post(
        reverse("portal:catalogue_consents", args=[pairing.pk]), {"finalites": ["12"]}, follow=True
    )
    assert "temporairement indisponible" in refused.content.decode()
    assert client.post(reverse("portal:catalogue_unpair", args=[pairing.pk])).status_code == 302
    assert Pairing.objects.get(pk=pairing.pk).status == Pairing.Status.UNPAIRED


def test_reapproval_banner_and_approval(client, camille, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille, purposes=["11"])
    deadline = timezone.now() + timedelta(days=10)
    Service.objects.filter(pk=glyco.pk).update(rights_version=2)
    glyco.purposes.filter(code="41").update(since_version=2)
    Pairing.objects.filter(pk=pairing.pk).update(reapproval_deadline=deadline)
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert (
        f"La mise à jour des autorisations de {glyco.name} est nécessaire avant le "
        f"{timezone.localtime(deadline):%d/%m/%Y} pour conserver la synchronisation." in page
    )
    assert "Nouveau" in page
    response = client.post(
        reverse("portal:catalogue_reapprove", args=[pairing.pk]), {"finalites": ["11", "41"]}
    )
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.approved_version == 2 and pairing.reapproval_deadline is None
    assert decide_exchange(
        app_actor(pairing), camille, DataCategory.AGENDA, ExchangeAction.WRITE
    ).allowed
    assert Trace.objects.filter(action=TraceAction.PAIRING_REAPPROVED).exists()


def test_past_the_deadline_the_pairing_shows_stopped(client, camille, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille)
    Pairing.objects.filter(pk=pairing.pk).update(
        reapproval_deadline=timezone.now() - timedelta(minutes=1)
    )
    _as(client, camille)
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert "Arrêté" in page
    refused = client.post(
        reverse("portal:catalogue_reapprove", args=[pairing.pk]), {"finalites": ["11"]}, follow=True
    )
    assert "La date limite de mise à jour des autorisations est passée" in refused.content.decode()


def test_a_parent_manages_a_childs_pairings(client, camille, louis, services):
    glyco, _, _ = services
    pairing = pair(glyco, louis, granted_by=camille.user)
    _as(client, camille, louis)
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert glyco.name in page
    assert client.post(reverse("portal:catalogue_unpair", args=[pairing.pk])).status_code == 302
    assert Trace.objects.get(action=TraceAction.UNPAIR).patient_id == louis.pk


def test_another_citizen_is_refused_and_traced(client, camille, bob, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille)
    _as(client, bob)
    assert client.post(reverse("portal:catalogue_unpair", args=[pairing.pk])).status_code == 404
    assert (
        client.post(
            reverse("portal:catalogue_consents", args=[pairing.pk]), {"finalites": ["12"]}
        ).status_code
        == 404
    )
    assert client.get(reverse("portal:catalogue_unpair", args=[pairing.pk])).status_code == 404
    assert Pairing.objects.get(pk=pairing.pk).status == Pairing.Status.ACTIVE
    refused = Trace.objects.filter(outcome=TraceOutcome.REFUSED, patient_id=camille.pk)
    assert refused.filter(action=TraceAction.UNPAIR).exists()
    assert refused.filter(action=TraceAction.PAIRING_CONSENT_WITHDRAWN).exists()


def test_a_proche_aidant_sees_but_does_not_change(client, camille, bob, services):
    glyco, _, _ = services
    pairing = pair(glyco, camille)
    delegate(camille, bob)
    _as(client, bob, camille)
    page = client.get(reverse("portal:catalogue_synced")).content.decode()
    assert glyco.name in page and "En tant que proche aidant" in page
    assert "Désynchroniser" not in page
    assert client.post(reverse("portal:catalogue_unpair", args=[pairing.pk])).status_code == 404
    assert Pairing.objects.get(pk=pairing.pk).status == Pairing.Status.ACTIVE
    assert Trace.objects.filter(
        action=TraceAction.UNPAIR, outcome=TraceOutcome.REFUSED, patient_id=camille.pk
    ).exists()


def test_an_apps_activity_shows_in_the_history(client, camille, services):
    from mes.audit import trace

    glyco, _, _ = services
    pairing = pair(glyco, camille)
    trace.record(
        actor=app_actor(pairing),
        action=TraceAction.ADD_MEASURE,
        patient_id=camille.pk,
        document_title="Glucose interstitiel",
    )
    _as(client, camille)
    page = client.get(reverse("portal:history")).content.decode()
    assert glyco.name in page and "Service synchronisé" in page


def test_logos_are_served_safely(client, services):
    from django.core.files.base import ContentFile

    glyco, _, _ = services
    glyco.logo.save("glyco.svg", ContentFile(b'<svg xmlns="http://www.w3.org/2000/svg"/>'))
    response = client.get(reverse("portal:catalogue_logo", args=["glyco"]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(reverse("portal:catalogue_logo", args=["souffle-libre"])).status_code == 404
