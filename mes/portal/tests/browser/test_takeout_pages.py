"""« Télécharger mes données » (and the share links) in a real browser, checked with axe-core at
desktop and phone widths."""

from __future__ import annotations

import io
import zipfile

from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings

from .conftest import check_a11y, login


def test_camille_downloads_her_data(page, live_server, camille):
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    login(page, live_server, camille)
    page.goto(live_server.url + "/histoire-de-sante/telecharger-mes-donnees/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Télécharger mes données")
    check_a11y(page, "telecharger-mes-donnees")
    page.get_by_role("button", name="Demander le téléchargement de mes données").click()
    expect(page.get_by_role("status")).to_contain_text("Votre demande est enregistrée")
    page.reload()
    expect(page.get_by_text("Statut : Disponible")).to_be_visible()
    check_a11y(page, "telecharger-mes-donnees-pret")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger le fichier").click()
    path = info.value.path()
    with open(path, "rb") as f:
        assert zipfile.ZipFile(io.BytesIO(f.read())).testzip() is None
