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


def test_camille_shares_a_document_by_link(browser, page, live_server, camille):
    from mes.access.actors import citizen_actor
    from mes.conftest import make_pdf
    from mes.records import actions as records
    from mes.takeout.models import ShareLink

    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    records.document_deposit(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        content=make_pdf("Radio"),
        title="Radio du genou",
        category="RADIO_SC",
    )
    login(page, live_server, camille)
    page.goto(live_server.url + "/histoire-de-sante/liens-de-partage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partager par lien")
    check_a11y(page, "liens-de-partage")
    page.get_by_role("button", name="Créer le lien").click()
    expect(page.get_by_role("alert")).to_contain_text("Donnez un nom à ce partage.")
    check_a11y(page, "liens-de-partage-erreurs")
    page.get_by_label("Nom du partage").fill("Pour mon kiné")
    page.get_by_label("Radio du genou").check()
    page.get_by_label("Code d'accès (facultatif)").fill("genou-2026")
    page.get_by_role("button", name="Créer le lien").click()
    expect(page.get_by_role("status")).to_contain_text("Le lien de partage est créé")
    url = page.get_by_label("Lien à transmettre").input_value()
    assert "#shlink:/" in url
    check_a11y(page, "liens-de-partage-cree")

    # The recipient, in another context with no account.
    other = browser.new_context(locale="fr-FR")
    pg = other.new_page()
    try:
        pg.goto(url)
        expect(pg.get_by_role("heading", level=1)).to_have_text("Documents partagés")
        check_a11y(pg, "partage-code")
        pg.get_by_label("Code d'accès").fill("genou-2026")
        pg.get_by_role("button", name="Voir les documents").click()
        expect(pg.get_by_role("link", name="Radio du genou")).to_be_visible()
        check_a11y(pg, "partage-documents")
    finally:
        other.close()

    page.reload()
    expect(page.get_by_text("Ouvert 1 fois")).to_be_visible()
    page.get_by_role("button", name="Désactiver le lien").click()
    expect(page.get_by_text("Désactivé le")).to_be_visible()
    link = ShareLink.objects.get()
    other = browser.new_context(locale="fr-FR")
    pg = other.new_page()
    try:
        pg.goto(f"{live_server.url}/partage/{link.token}/")
        expect(pg.get_by_role("heading", level=1)).to_have_text("Lien de partage indisponible")
        check_a11y(pg, "partage-desactive")
    finally:
        other.close()
