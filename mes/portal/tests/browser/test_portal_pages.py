"""Camille's portal in a real browser (Chromium): every page visited is checked with axe-core.

The locators are roles and labels on purpose: a field or button a test cannot find by its name
is one a screen reader user cannot find either.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from playwright.sync_api import expect

from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit.models import Trace, TraceAction
from mes.conftest import make_pdf, pro
from mes.records import actions
from mes.records.models import Document

from .conftest import check_a11y, login, submit_login_code, submit_password

# A Windows executable (MZ header) under a PDF's name: refused by its content, not its name.
FAKE_PDF = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240


def account_menu(page, link: str) -> None:
    """Open the header's account menu and follow one of its links."""
    page.get_by_role("button", name=re.compile("Profil affiché")).click()
    page.locator(".mes-profile-menu").get_by_role("link", name=link, exact=True).click()


def onboarded(citizen):
    from django.utils import timezone

    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at=timezone.now())


@pytest.fixture
def camille_documents(camille, camille_actor, dr_martin):
    """Two documents from her médecin traitant (one of which he read again), one of her own."""
    lettre = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Lettre de liaison"),
        title="Lettre de liaison de sortie",
        type_code="11490-0",
        service_date=date(2026, 3, 2),
    )
    bilan = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Bilan sanguin"),
        title="Bilan sanguin annuel",
        type_code="11502-2",
        service_date=date(2026, 4, 10),
    )
    ordonnance = actions.document_deposit(
        actor=camille_actor,
        patient_id=camille.pk,
        content=make_pdf("Ordonnance de kinésithérapie"),
        title="Ordonnance de kiné",
        category="ORD_SOIN",
        service_date=date(2026, 5, 20),
    )
    actions.document_content(actor=pro(dr_martin), document_id=lettre.pk)
    return lettre, bilan, ordonnance


def test_login_and_code_pages_are_accessible(page, live_server, camille):
    page.goto("/connexion/")
    expect(page).to_have_title(re.compile("Connexion"))
    check_a11y(page, "connexion")

    # A wrong password: the French error is announced and tied to the form.
    page.get_by_label("Identifiant").fill("camille")
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    submit_password(page)
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    check_a11y(page, "connexion-erreur")

    submit_password(page, username="camille")
    expect(page).to_have_url(re.compile(r"/connexion/code/"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert len(mail.outbox) == 1 and "camille@example.org" in mail.outbox[0].to
    check_a11y(page, "connexion-code")

    # A wrong code says so, in French, and keeps Camille on the code page.
    page.get_by_label(re.compile(r"^Code de connexion")).fill("000000")
    submit_login_code(page)
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/connexion/code/"))
    check_a11y(page, "connexion-code-erreur")


def test_louise_story(page, live_server, camille, dr_martin, ide_bernard, camille_documents):
    """Camille logs in, sets up her espace, masks a document, blocks a nurse, and checks who
    did what in her activity history."""
    lettre, _bilan, _ordonnance = camille_documents

    login(page, live_server, camille)
    expect(page).to_have_url(re.compile(r"/bienvenue/"))
    check_a11y(page, "bienvenue")
    page.get_by_label(
        "Rendre visibles mes informations aux professionnels de santé habilités"
    ).check()
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Camille")
    assert PrivacySettings.objects.get(patient=camille).onboarded_at is not None
    check_a11y(page, "accueil")
    # The first Tab reaches the skip link, which is then visible and leads to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes documents")
    documents = page.get_by_role("list", name="Documents").get_by_role("listitem")
    expect(documents).to_have_count(3)
    check_a11y(page, "documents")

    page.get_by_role("link", name="Lettre de liaison de sortie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettre de liaison de sortie")
    check_a11y(page, "document-detail")
    confidentiality = page.get_by_role("group", name="Qui peut consulter ce document ?")
    confidentiality.get_by_label(re.compile("masqué aux professionnels")).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("masqué aux professionnels")
    check_a11y(page, "document-masque")
    lettre.refresh_from_db()
    assert lettre.masked_from_professionals

    # Accès and Historique sit in the account menu (portal.md §1.1–1.2).
    account_menu(page, "Accès des professionnels")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès des professionnels de santé")
    check_a11y(page, "acces-professionnels")
    authorised = page.get_by_role("table", name=re.compile("Professionnels autorisés"))
    bernard = authorised.get_by_role("row").filter(has_text="Bernard")
    bernard.get_by_text("Bloquer", exact=True).click()
    bernard.get_by_role("button", name="Confirmer le blocage").click()
    blocked = page.get_by_role("table", name="Professionnels bloqués")
    expect(blocked.get_by_role("row").filter(has_text="Bernard")).to_be_visible()
    check_a11y(page, "acces-professionnels-bloque")
    assert (
        ProfessionalAccess.objects.get(patient=camille, professional=ide_bernard).status
        == ProfessionalAccess.Status.BLOCKED
    )

    account_menu(page, "Historique d'activité")
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique d'activité")
    # Professionals' tab (the default): dr_martin's earlier download of the letter.
    pros = page.get_by_role("table")
    martin_read = (
        pros.get_by_role("row")
        .filter(has_text="Martin")
        .filter(has_text=str(TraceAction.DOWNLOAD_DOC.label))
    )
    expect(martin_read).to_have_count(1)
    expect(martin_read).to_contain_text("Lettre de liaison de sortie")
    check_a11y(page, "historique-professionnels")

    tabs = page.get_by_role("navigation", name="Onglets de l'historique")
    tabs.get_by_role("link", name="Mes activités").click()
    mine = page.get_by_role("table")
    expect(
        mine.get_by_role("row").filter(has_text=str(TraceAction.MASK_DOC.label))
    ).to_contain_text("Lettre de liaison de sortie")
    blocking = mine.get_by_role("row").filter(has_text=str(TraceAction.BLOCK_PRO.label))
    expect(blocking).to_have_count(1)
    expect(blocking).to_contain_text("Julie Bernard")
    check_a11y(page, "historique-mes-activites")


def test_upload_of_a_disguised_executable_is_refused(page, live_server, tmp_path, camille):
    onboarded(camille)
    login(page, live_server, camille)
    page.goto("/documents/ajouter/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un document")
    check_a11y(page, "document-ajout")

    fake = tmp_path / "compte-rendu.pdf"
    fake.write_bytes(FAKE_PDF)
    page.get_by_label(re.compile("^Nom du document")).fill("Compte rendu")
    page.get_by_label(re.compile("^Catégorie du document")).select_option(label="Comptes rendus")
    page.get_by_label(re.compile("^Fichier")).set_input_files(str(fake))
    page.get_by_role("button", name="Ajouter le document").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Format de fichier non accepté")
    file_input = page.get_by_label(re.compile("^Fichier"))
    expect(file_input).to_have_attribute("aria-invalid", "true")
    expect(file_input).to_have_accessible_description(re.compile("Format de fichier non accepté"))
    expect(page).to_have_title(re.compile("^Erreur"))
    check_a11y(page, "document-ajout-erreur")
    assert not Document.objects.filter(patient=camille).exists()
    assert not Trace.objects.filter(patient_id=camille.pk, action=TraceAction.DEPOSIT_DOC).exists()


def test_notifications_page(page, live_server, camille, dr_martin, camille_documents):
    onboarded(camille)
    login(page, live_server, camille)
    bell = page.get_by_role("banner").get_by_role("link", name=re.compile("^Notifications"))
    expect(bell).to_have_accessible_name("Notifications 3 non lues")
    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    items = page.get_by_role("list", name=re.compile("Notifications du profil")).get_by_role(
        "listitem"
    )
    # The two documents dr_martin added, and his first opening of her dossier (mes-spec §5.8).
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("a consulté votre dossier pour la première fois")
    check_a11y(page, "notifications")

    bilan = items.filter(has_text="Bilan sanguin annuel")
    bilan.get_by_role("button", name=re.compile("^Marquer comme lu")).click()
    expect(page.get_by_text("Il y a 2 notifications non lues")).to_be_visible()
    items.filter(has_text="Bilan sanguin annuel").get_by_role(
        "link", name="Voir le document"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan sanguin annuel")


def test_profile_switch_to_a_child_shows_the_banner(page, live_server, camille, louis):
    onboarded(camille)
    login(page, live_server, camille)
    page.get_by_role("button", name=re.compile("Profil affiché")).click()
    louis_button = page.get_by_role("button", name=re.compile("^Louis"))
    expect(louis_button).to_be_visible()
    check_a11y(page, "menu-profil")
    louis_button.click()
    expect(page.get_by_text("Vous consultez le profil de")).to_contain_text("Louis")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Louis")
    check_a11y(page, "accueil-enfant")


def test_emergency_and_confidentiality_settings(page, live_server, camille):
    onboarded(camille)
    login(page, live_server, camille)
    page.goto("/mon-compte/acces-cas-urgence/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès en cas d'urgence")
    samu = page.get_by_role("switch", name=re.compile("SAMU – Centre 15"))
    expect(samu).to_have_accessible_description(re.compile("médecin régulateur"))
    expect(samu).to_be_checked()  # allowed unless Camille opposes it (L1111-17)
    check_a11y(page, "acces-cas-urgence")
    samu.uncheck()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("switch", name=re.compile("SAMU – Centre 15"))).not_to_be_checked()
    assert PrivacySettings.objects.get(patient=camille).oppose_centre_15

    page.get_by_role("link", name="Confidentialité des informations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confidentialité des informations")
    check_a11y(page, "confidentialite")
