"""The Web PS in a real browser (Chromium): a doctor logs in, finds Camille by INS, records her
consent, reads her timeline, deposits a PDF; another opens an emergency access. Every page
visited is checked with axe-core at desktop and phone widths (screenshots in test-output/)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import BreakGlassSession, PrivacySettings, ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.notifications.models import Notification
from mes.records import actions
from mes.records.models import Document
from mes.vaccinations.models import Vaccination

from .conftest import check_a11y, pro_login, submit_password, with_email

FAKE_PDF = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240


@pytest.fixture
def camille_dossier(camille, dr_martin, ide_bernard):
    """Her médecin traitant's letter and lab results, a nurse's care plan, a vaccination."""
    now = timezone.now()
    Vaccination.objects.create(
        patient=camille,
        vaccine_code="REVAXIS",
        vaccine_label="Revaxis",
        date=date(2024, 9, 12),
        source=Vaccination.Source.PATIENT,
        author_label=camille.display_name,
        created_at=now,
        updated_at=now,
    )
    for title, type_code, day, author in (
        ("Lettre de liaison de sortie", "11490-0", date(2026, 3, 2), dr_martin),
        ("Bilan sanguin annuel", "11502-2", date(2026, 4, 10), dr_martin),
        ("Synthèse médicale", "60591-5", date(2025, 12, 1), dr_martin),
        ("Plan de soins infirmiers", "18776-5", date(2026, 2, 1), ide_bernard),
    ):
        actions.document_deposit(
            actor=pro(author),
            patient_id=camille.pk,
            content=make_pdf(title),
            title=title,
            type_code=type_code,
            service_date=day,
        )


def test_login_pages_are_accessible(page, live_server, dr_durand):
    with_email(dr_durand)
    page.goto("/pro/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace professionnel")
    expect(page.get_by_role("banner")).to_contain_text("Espace professionnel")
    check_a11y(page, "pro-connexion")

    page.get_by_label(re.compile(r"^Identifiant")).fill(dr_durand.rpps)
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    submit_password(page)
    expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect.")
    check_a11y(page, "pro-connexion-erreur")

    submit_password(page, rpps=dr_durand.rpps)
    expect(page).to_have_url(re.compile(r"/pro/connexion/code/"))
    assert len(mail.outbox) == 1
    check_a11y(page, "pro-connexion-code")


def test_a_doctor_finds_camille_records_consent_reads_and_deposits(
    page, live_server, tmp_path, camille, dr_durand, camille_dossier
):
    pro_login(page, dr_durand)
    expect(page.get_by_role("heading", level=1)).to_have_text("Rechercher un patient")
    expect(page.get_by_role("banner")).to_contain_text("Dr Paul Durand")
    check_a11y(page, "pro-accueil")

    # A wrong key first: the French error is announced and tied to the field.
    ins_field = page.get_by_role("textbox", name=re.compile("^Matricule INS"))
    ins_field.fill(camille.ins[:13] + ("00" if camille.ins[13:] != "00" else "01"))
    page.get_by_role("button", name="Rechercher par INS").click()
    expect(page.get_by_role("alert")).to_contain_text("La clé du numéro INS ne correspond pas")
    expect(page.get_by_role("textbox", name=re.compile("^Matricule INS"))).to_have_attribute(
        "aria-invalid", "true"
    )
    check_a11y(page, "pro-accueil-erreur-ins")

    page.get_by_role("textbox", name=re.compile("^Matricule INS")).fill(camille.ins)
    page.get_by_role("button", name="Rechercher par INS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossier de Camille Lefèvre")
    expect(page.get_by_text("Aucune", exact=True)).to_be_visible()
    check_a11y(page, "pro-patient-sans-autorisation")

    page.get_by_label(re.compile("J'atteste avoir recueilli le consentement du patient")).check()
    page.get_by_role("button", name="Enregistrer le consentement").click()
    expect(page.get_by_role("status")).to_contain_text("autorisation d'accès au dossier")
    check_a11y(page, "pro-patient-autorise")
    assert ProfessionalAccess.objects.get(professional=dr_durand).status == "authorised"

    page.get_by_role("link", name="Consulter les documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents de Camille Lefèvre")
    reports = page.get_by_role("region", name=re.compile("^Comptes rendus"))
    expect(reports.get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_role("region", name=re.compile("^Synthèses"))).to_contain_text(
        "Synthèse médicale"
    )
    check_a11y(page, "pro-documents-frise")

    page.get_by_label("Affichage").select_option("liste")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("list", name="Documents").get_by_role("listitem")).to_have_count(4)
    check_a11y(page, "pro-documents-liste")

    page.get_by_role("link", name="Lettre de liaison de sortie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettre de liaison de sortie")
    check_a11y(page, "pro-document")

    # A disguised executable is refused, nothing is stored.
    page.get_by_role("navigation", name="Dossier du patient").get_by_role(
        "link", name="Déposer un document"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Déposer un document")
    check_a11y(page, "pro-depot")
    fake = tmp_path / "compte-rendu.pdf"
    fake.write_bytes(FAKE_PDF)
    page.get_by_label(re.compile("^Fichier PDF")).set_input_files(str(fake))
    page.get_by_label(re.compile("^Type de document")).select_option("11488-4")
    page.get_by_label(re.compile("^Titre du document")).fill("Compte rendu de consultation")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_role("alert")).to_contain_text("seul le format PDF est accepté")
    check_a11y(page, "pro-depot-erreur")
    assert not Document.objects.filter(author_professional=dr_durand).exists()

    real = tmp_path / "consultation.pdf"
    real.write_bytes(make_pdf("Compte rendu de consultation de cardiologie"))
    page.get_by_label(re.compile("^Fichier PDF")).set_input_files(str(real))
    page.get_by_label(re.compile("^Titre du document")).fill("Compte rendu de consultation")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu de consultation")
    expect(page.get_by_role("status")).to_contain_text("déposé dans le dossier")
    check_a11y(page, "pro-document-depose")
    doc = Document.objects.get(author_professional=dr_durand)
    assert doc.type_code == "11488-4"
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.DEPOSIT_DOC, document_id=doc.pk
    ).exists()


def test_emergency_access_with_its_banner(
    page, live_server, camille, bob, dr_durand, camille_dossier
):
    PrivacySettings.objects.filter(patient=bob).update(oppose_break_glass=True)
    pro_login(page, dr_durand)

    # By identity traits this time.
    page.get_by_label(re.compile("^Nom")).fill("lefevre")
    page.get_by_label(re.compile("^Date de naissance")).fill("1985-05-14")
    page.get_by_role("button", name="Rechercher par identité").click()
    results = page.get_by_role("list", name="Patients trouvés")
    expect(results.get_by_role("listitem")).to_have_count(1)
    check_a11y(page, "pro-recherche-identite")
    results.get_by_role("link", name="Camille Lefèvre").click()

    page.get_by_role("link", name="Accéder en urgence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès en urgence au dossier")
    check_a11y(page, "pro-urgence")
    page.get_by_role("button", name="Accéder au dossier en urgence").click()
    expect(page.get_by_role("alert")).to_contain_text("La justification est obligatoire.")
    check_a11y(page, "pro-urgence-erreur")
    assert not BreakGlassSession.objects.exists()

    page.get_by_label(re.compile("^Justification")).fill("Patiente inconsciente aux urgences")
    page.get_by_label(re.compile("^J'atteste que le patient est hors d'état")).check()
    page.get_by_role("button", name="Accéder au dossier en urgence").click()
    banner = page.get_by_role("region", name="Accès en urgence")
    expect(banner).to_contain_text("Accès en urgence (bris de glace) jusqu'au")
    expect(banner).to_contain_text("Patiente inconsciente aux urgences")
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents de Camille Lefèvre")
    check_a11y(page, "pro-urgence-documents")
    opened = Trace.objects.get(patient_id=camille.pk, action=TraceAction.BREAK_GLASS)
    assert opened.access_mode == "bris_de_glace" and opened.outcome == TraceOutcome.ALLOWED
    assert Notification.objects.filter(profile=camille, code=Notification.Code.BREAK_GLASS)

    page.get_by_role("link", name="Bilan sanguin annuel").click()
    expect(page.get_by_role("region", name="Accès en urgence")).to_be_visible()
    check_a11y(page, "pro-urgence-document")

    page.get_by_role("link", name="Entourage et volontés").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entourage et volontés")
    check_a11y(page, "pro-entourage")

    page.get_by_role("navigation", name="Dossier du patient").get_by_role(
        "link", name="Vaccinations"
    ).click()
    expect(page.get_by_role("table")).to_contain_text("Revaxis")
    check_a11y(page, "pro-vaccinations")

    banner.get_by_role("button", name="Quitter l'accès en urgence").click()
    expect(page.get_by_role("region", name="Accès en urgence")).to_have_count(0)

    # Bob opposed bris de glace: the refusal says no more than « accès impossible ».
    page.goto(f"/pro/patients/{bob.pk}/urgence/")
    page.get_by_label(re.compile("^Justification")).fill("Patient inconscient aux urgences")
    page.get_by_label(re.compile("^J'atteste que le patient est hors d'état")).check()
    page.get_by_role("button", name="Accéder au dossier en urgence").click()
    expect(page.get_by_role("alert")).to_contain_text("Accès impossible")
    check_a11y(page, "pro-urgence-refusee")
    refused = Trace.objects.get(patient_id=bob.pk, action=TraceAction.BREAK_GLASS)
    assert refused.outcome == TraceOutcome.REFUSED
