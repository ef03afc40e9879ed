"""Issue 11 « in the demo »: the citizen pairs the sample partner app « Glycémie Plus »
(partner_app/, a separate program speaking only HTTP) in the browser, the app pushes a day of
glucose readings and its AGP report, and the citizen finds them in her glucose chart and her
Documents, marked as coming from the app; after she unpairs, the app's next call gets a 401.

The app runs here in a thread on its own port, exactly as `mes demo` runs it in a process."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer, make_server

import pytest
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.catalogue.actions.citizen import pairing_unpair
from mes.catalogue.models import Pairing
from mes.catalogue.registry import reference_service
from mes.demo.story_partner_app import PARTNER_CLIENT_ID, PARTNER_OID, PURPOSES
from mes.identity.models import Citizen
from mes.measures.models import Measurement
from mes.records.models import Document
from partner_app.__main__ import QuietHandler
from partner_app.app import Config, PartnerApp

from .conftest import (
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    check_a11y,
    login_code_for,
    submit_login_code,
    submit_password,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def partner(live_server: Any, transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """Glycémie Plus on a port of its own, referenced with that redirect URI."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    reference_service(
        oid=PARTNER_OID,
        slug="glycemie-plus",
        name="Glycémie Plus",
        editor_name="Glycémie Plus SAS",
        category="maladie_chronique",
        summary="Le carnet de glycémie connecté.",
        description="Relève les mesures du capteur et les ajoute à Mon espace santé.",
        redirect_uris=f"{url}/retour-mes",
        purposes=PURPOSES,
        client_id=PARTNER_CLIENT_ID,
    )
    app = PartnerApp(
        Config(
            mes_url=live_server.url,
            fhir_base=f"{live_server.url}/fhir/services",
            client_id=PARTNER_CLIENT_ID,
            editor_oid=PARTNER_OID,
            public_url=url,
            state_dir=tmp_path,
        )
    )
    server: WSGIServer = make_server("127.0.0.1", port, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_pair_push_see_and_unpair(
    browser: Any, live_server: Any, partner: str, camille: Citizen, viewport: dict[str, int]
) -> None:
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(partner)
        page.get_by_role("button", name="Synchroniser avec Mon espace santé").click()
        # Mon espace santé's own login, then the consent page.
        assert page.url.startswith(live_server.url)
        submit_password(page, username="camille")
        submit_login_code(page, login_code_for(camille))
        page.get_by_role("heading", name="Synchroniser « Glycémie Plus » avec Mon espace santé")
        check_a11y(page, f"partner-consent-{viewport['width']}")
        for purpose in PURPOSES:
            page.get_by_label(purpose.label).check()
        page.get_by_role("button", name="Autoriser et synchroniser").click()

        # Back in the app, paired: it sends yesterday's readings and report.
        page.wait_for_url(f"{partner}/")
        assert "Synchronisé avec" in page.content()
        page.get_by_role("button", name="Envoyer ma journée d'hier à Mon espace santé").click()
        page.wait_for_url(f"{partner}/", timeout=120_000)
        assert "48 mesures du" in page.content()
        assert "Rapport du jour déposé" in page.content()

        pairing = Pairing.objects.get(patient=camille, service__slug="glycemie-plus")
        from_app = Measurement.objects.filter(patient=camille, source=Measurement.Source.APP)
        assert from_app.count() == 48
        assert {m.author_label for m in from_app} == {"Glycémie Plus"}
        report = Document.objects.get(patient=camille, author_kind=Document.AuthorKind.APP)
        assert "Glycémie Plus" in report.author_label

        # In the portal: the chart and Documents say where the data came from.
        page.goto(f"{live_server.url}/profil-medical/mesures/GLUCOSE/")
        assert "Glycémie Plus" in page.content()
        check_a11y(page, f"partner-glucose-{viewport['width']}")
        page.goto(f"{live_server.url}/documents/")
        assert "Glycémie Plus" in page.content()

        # Unpaired on the espace's side: the app's next call is refused, it says so.
        pairing_unpair(actor=citizen_actor(camille), pairing_id=pairing.pk)
        page.goto(partner)
        page.get_by_role("button", name="Envoyer ma journée d'hier à Mon espace santé").click()
        page.wait_for_url(f"{partner}/", timeout=60_000)
        assert "HTTP 401" in page.content()
        assert Measurement.objects.filter(patient=camille, source="app").count() == 48
    finally:
        context.close()
