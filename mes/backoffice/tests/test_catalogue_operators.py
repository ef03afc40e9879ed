"""The catalogue operators' back office (issue 11): reference a service, its purposes and logo,
change its status (a suspended service stops exchanging at once), publish new rights (every
active pairing must be approved again before the deadline, the holders told; past it the pairing
stops), read and close reports. Each action refused to a 3422 agent, a citizen and an anonymous
visitor; operators never reach an espace."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from mes.access.decision import decide_exchange
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.backoffice.models_desk import SupportAgent
from mes.backoffice.testing import desk_login
from mes.catalogue.actors import app_actor
from mes.catalogue.models import DataCategory, ExchangeAction, Pairing, Service, ServiceReport
from mes.catalogue.tasks import lapse_overdue_pairings
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.conftest import PASSWORD
from mes.identity.models import User
from mes.notifications.models import Notification

pytestmark = pytest.mark.django_db

MEASURES_WRITE = (DataCategory.MEASURES, ExchangeAction.WRITE)


def _operator_user(username: str, role: str) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        kind=User.Kind.OPERATOR,
        first_name="Opérateur",
        email=f"{username}@guichet.example.org",  # the login's code is e-mailed
    )
    SupportAgent.objects.create(user=user, role=role)
    return user


@pytest.fixture
def operator(client, db):
    _operator_user("nadia.catalogue", SupportAgent.Role.CATALOGUE)
    response = desk_login(client, "nadia.catalogue")
    assert response.status_code == 302
    # The desk's landing sends a catalogue operator to their own pages.
    landing = client.get(response["Location"])
    assert landing.status_code == 302
    assert landing["Location"] == reverse("backoffice_catalogue:services")
    return client


@pytest.fixture
def agent_client(client, db):
    _operator_user("sophie.agent", SupportAgent.Role.ADVISER)
    desk_login(client, "sophie.agent")
    return client


def _png(size: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (12, 65, 154)).save(buf, format="PNG")
    return buf.getvalue()


def test_an_operator_references_a_service(operator):
    response = operator.post(
        reverse("backoffice_catalogue:service_new"),
        {
            "oid": "1.2.250.1.999.42",
            "slug": "pas-a-pas",
            "name": "Pas à Pas",
            "editor_name": "Marche SAS",
            "category": "bien_etre",
            "summary": "Compter ses pas.",
            "description": "Un podomètre.",
            "redirect_uris": "https://pas.example/retour",
            "pairing_url": "https://pas.example/synchroniser",
        },
    )
    assert response.status_code == 302
    service = Service.objects.get(slug="pas-a-pas")
    assert service.status == Service.Status.OFFLINE and service.exchanges_data
    assert Trace.objects.filter(
        action=TraceAction.CATALOGUE_SERVICE_EDIT, patient_id=None, outcome=TraceOutcome.ALLOWED
    ).exists()
    page = operator.get(reverse("backoffice_catalogue:service", args=[service.pk]))
    assert page.status_code == 200 and "Pas à Pas" in page.content.decode()
    # a purpose of a service never paired is current at once
    saved = operator.post(
        reverse("backoffice_catalogue:purpose_save", args=[service.pk]),
        {
            "code": "21",
            "label": "Ajouter mes pas",
            "description": "Le service ajoute ses mesures de pas.",
            "x_mesures_ecriture": "on",
            "d_mesures_ecriture": "nombre de pas",
        },
    )
    assert saved.status_code == 302
    purpose = service.purposes.get(code="21")
    assert purpose.since_version == service.rights_version
    assert purpose.exchanges.get().details == "nombre de pas"
    # the card
    edited = operator.post(
        reverse("backoffice_catalogue:service", args=[service.pk]),
        {
            "name": "Pas à Pas",
            "editor_name": "Marche SAS",
            "category": "bien_etre",
            "summary": "Compter ses pas chaque jour.",
            "description": "Un podomètre.",
        },
    )
    assert edited.status_code == 302
    assert Service.objects.get(pk=service.pk).summary == "Compter ses pas chaque jour."


def test_logo_upload_checks_the_image(operator, settings):
    service = glucose_service()
    url = reverse("backoffice_catalogue:service_logo", args=[service.pk])
    ok = operator.post(url, {"logo": SimpleUploadedFile("l.png", _png(), "image/png")})
    assert ok.status_code == 302
    service.refresh_from_db()
    assert service.logo.name.endswith(".png")
    fake = operator.post(
        url, {"logo": SimpleUploadedFile("l.png", b"<svg onload=alert(1)>", "image/png")}
    )
    assert fake.status_code == 400 and "n&#x27;est pas une image" in fake.content.decode()
    settings.MES_CATALOGUE_LOGO_MAX_BYTES = 10
    big = operator.post(url, {"logo": SimpleUploadedFile("l.png", _png(), "image/png")})
    assert big.status_code == 400 and "Le logo dépasse" in big.content.decode()
    assert Service.objects.get(pk=service.pk).logo.name == service.logo.name  # kept


def test_suspension_stops_exchanges_at_once(operator, camille):
    service = glucose_service()
    pairing = pair(service, camille)
    assert decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed
    response = operator.post(
        reverse("backoffice_catalogue:service_status", args=[service.pk]), {"status": "SUSPENDUE"}
    )
    assert response.status_code == 302
    refused = decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE)
    assert not refused.allowed and "suspendu" in refused.reason
    assert Notification.objects.filter(
        profile=camille, code=Notification.Code.SYNCED_SERVICES
    ).exists()
    operator.post(
        reverse("backoffice_catalogue:service_status", args=[service.pk]),
        {"status": "DEREFERENCEE"},
    )
    assert not decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed
    operator.post(
        reverse("backoffice_catalogue:service_status", args=[service.pk]), {"status": "EN_LIGNE"}
    )
    assert decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed
    assert Trace.objects.filter(action=TraceAction.CATALOGUE_SERVICE_STATUS).count() == 3


def test_changing_a_purpose_never_widens_a_pairing_without_the_citizen(operator, camille):
    service = glucose_service()
    pairing = pair(service, camille, purposes=["12"])  # measures, read
    operator.post(
        reverse("backoffice_catalogue:purpose_save", args=[service.pk]),
        {
            "code": "12",
            "label": "Consulter et ajouter mes mesures",
            "description": "Plus large.",
            "x_mesures_lecture": "on",
            "x_agenda_lecture": "on",
        },
    )
    actor = app_actor(pairing)
    assert not decide_exchange(actor, camille, DataCategory.AGENDA, ExchangeAction.READ).allowed
    assert not decide_exchange(actor, camille, DataCategory.MEASURES, ExchangeAction.READ).allowed


def test_new_rights_ask_for_reapproval_then_stop(operator, camille, bob):
    service = glucose_service()
    kept = pair(service, camille)
    late = pair(service, bob)
    _raw, token = paired_token(late)
    before = timezone.now()
    response = operator.post(reverse("backoffice_catalogue:publish_rights", args=[service.pk]))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.rights_version == 2
    for pairing in (kept, late):
        pairing.refresh_from_db()
        assert pairing.reapproval_deadline is not None
        period = pairing.reapproval_deadline - before
        assert timedelta(days=29) < period <= timedelta(days=30, seconds=5)
    assert Notification.objects.filter(
        profile=bob, code=Notification.Code.SYNCED_SERVICES, label__contains="est nécessaire avant"
    ).exists()
    # still exchanging until the deadline
    assert decide_exchange(app_actor(late), bob, *MEASURES_WRITE).allowed
    Pairing.objects.filter(pk=late.pk).update(
        reapproval_deadline=timezone.now() - timedelta(seconds=1)
    )
    late.refresh_from_db()
    assert not decide_exchange(app_actor(late), bob, *MEASURES_WRITE).allowed
    assert lapse_overdue_pairings() == 1
    assert lapse_overdue_pairings() == 0
    late.refresh_from_db()
    assert late.status == Pairing.Status.LAPSED
    assert not type(token).objects.filter(pk=token.pk).exists()
    assert Trace.objects.filter(action=TraceAction.PAIRING_LAPSED, patient_id=bob.pk).exists()


def test_reports_are_read_and_closed(operator, camille):
    service = glucose_service()
    report = ServiceReport.objects.create(
        service=service, reporter=camille.user, reason="donnees", comment="Publicité ciblée."
    )
    page = operator.get(reverse("backoffice_catalogue:reports")).content.decode()
    assert "Publicité ciblée." in page and service.name in page
    assert camille.display_name not in page  # who reported is never shown
    response = operator.post(reverse("backoffice_catalogue:report_close", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.handled_at is not None
    assert Trace.objects.filter(action=TraceAction.CATALOGUE_REPORT_CLOSE).exists()


def _every_operator_request(service_id, report_id):
    return [
        ("get", reverse("backoffice_catalogue:services"), {}),
        ("get", reverse("backoffice_catalogue:service", args=[service_id]), {}),
        ("get", reverse("backoffice_catalogue:reports"), {}),
        (
            "post",
            reverse("backoffice_catalogue:service_status", args=[service_id]),
            {"status": "SUSPENDUE"},
        ),
        ("post", reverse("backoffice_catalogue:publish_rights", args=[service_id]), {}),
        ("post", reverse("backoffice_catalogue:purpose_delete", args=[service_id, "11"]), {}),
        ("post", reverse("backoffice_catalogue:report_close", args=[report_id]), {}),
    ]


def _assert_untouched(service, report):
    service.refresh_from_db()
    report.refresh_from_db()
    assert service.status == Service.Status.ONLINE and service.rights_version == 1
    assert service.purposes.filter(code="11").exists() and report.handled_at is None


@pytest.fixture
def service_and_report(camille):
    service = glucose_service()
    report = ServiceReport.objects.create(service=service, reporter=camille.user, reason="autre")
    return service, report


def test_anonymous_goes_to_the_login(client, service_and_report):
    service, report = service_and_report
    for method, url, data in _every_operator_request(service.pk, report.pk):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"] == reverse("backoffice:login")
    _assert_untouched(service, report)


def test_a_3422_agent_is_refused(agent_client, service_and_report):
    service, report = service_and_report
    for method, url, data in _every_operator_request(service.pk, report.pk):
        assert getattr(agent_client, method)(url, data).status_code == 404
    _assert_untouched(service, report)


def test_a_citizen_is_refused(client, camille, service_and_report):
    service, report = service_and_report
    client.force_login(camille.user)
    for method, url, data in _every_operator_request(service.pk, report.pk):
        assert getattr(client, method)(url, data).status_code == 404
    _assert_untouched(service, report)


def test_a_refused_action_is_traced(camille, service_and_report):
    from mes.access.actors import citizen_actor
    from mes.catalogue.actions import operator as actions
    from mes.lib.errors import NotFound

    service, _ = service_and_report
    with pytest.raises(NotFound):
        actions.service_status_set(
            actor=citizen_actor(camille), service_id=service.pk, status="SUSPENDUE"
        )
    assert Trace.objects.filter(
        action=TraceAction.CATALOGUE_SERVICE_STATUS, outcome=TraceOutcome.REFUSED
    ).exists()


def test_an_operator_never_reaches_the_desk_nor_an_espace(operator, camille):
    assert operator.get(reverse("backoffice:search"), {"nir": camille.ins}).status_code == 302
    assert operator.post(reverse("backoffice:resend", args=[camille.pk])).status_code == 404
    assert operator.get(reverse("portal:documents")).status_code in (302, 404)
