"""The catalogue operators' back office in a real browser: the services, a service's page with its
forms (status, logo, purposes, new rights), the reports; axe at desktop and phone widths. The
session is opened directly (the desk's login and its second step have their own tests)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from mes.backoffice.models_desk import SupportAgent
from mes.catalogue.models import Service, ServiceReport
from mes.catalogue.testing import glucose_service
from mes.conftest import PASSWORD
from mes.identity.models import User

from .conftest import check_a11y


@pytest.fixture
def operator_page(page, live_server, transactional_db):
    user = User.objects.create_user(
        username="nadia.catalogue", password=PASSWORD, kind=User.Kind.OPERATOR, first_name="Nadia"
    )
    SupportAgent.objects.create(user=user, role=SupportAgent.Role.CATALOGUE)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return page


def test_an_operator_suspends_a_service_and_closes_a_report(operator_page, live_server):
    page = operator_page
    service = glucose_service()
    report = ServiceReport.objects.create(service=service, reason="donnees", comment="Publicité.")
    page.goto(live_server.url + "/guichet/catalogue/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Services référencés")
    check_a11y(page, "catalogue-operateurs")
    page.get_by_role("link", name=service.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(service.name)
    check_a11y(page, "catalogue-operateurs-service")
    page.get_by_label("Nouveau statut").select_option("SUSPENDUE")
    page.get_by_role("button", name="Changer le statut").click()
    expect(page.get_by_role("status")).to_contain_text("Suspendu")
    assert Service.objects.get(pk=service.pk).status == Service.Status.SUSPENDED
    page.get_by_role("link", name="Signalements").click()
    expect(page.get_by_text("Publicité.")).to_be_visible()
    check_a11y(page, "catalogue-operateurs-signalements")
    # Its number, not 1: PostgreSQL's sequences go on between tests.
    page.get_by_role("button", name=f"Clore le signalement n° {report.pk}").click()
    expect(page.get_by_role("status")).to_contain_text("est clos")
