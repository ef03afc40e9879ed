"""Camille fills her profil médical, shares it as a synthesis and writes her directives
anticipées, in a real browser (Chromium); every page visited is checked with axe-core.

The locators are roles and labels on purpose: a field or button a test cannot find by its name
is one a screen reader user cannot find either.
"""

from __future__ import annotations

import io
import re

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction
from mes.conftest import pro
from mes.measures.models import Measurement
from mes.medical_profile.models import Allergy
from mes.records import actions
from mes.records.models import Document

from .conftest import check_a11y, login


def onboarded(citizen):
    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at=timezone.now())


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_allergy_glucose_synthesis_then_documents(page, live_server, camille, ide_bernard):
    """An allergy and a glucose value go into the synthesis she saves; her nurse reads it."""
    onboarded(camille)
    login(page, live_server, camille)

    # An allergy, on the Allergies rubric of the profil médical.
    page.goto(reverse("portal:profile_allergy_add"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_a11y(page, "profil-allergie-ajout")
    page.get_by_label(re.compile("^Nom de l'allergène")).fill("Pénicilline")
    page.get_by_label(re.compile("^Réaction")).fill("Urticaire géante")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("main").get_by_text("Pénicilline").first).to_be_visible()
    check_a11y(page, "profil-allergies")
    assert Allergy.objects.filter(patient=camille, name="Pénicilline").exists()

    # A glucose value, on the Mesures page.
    page.goto(reverse("portal:measures"))
    check_a11y(page, "mesures")
    page.goto(reverse("portal:measure_add", args=["GLUCOSE"]))
    check_a11y(page, "mesure-glycemie-ajout")
    page.get_by_role("textbox", name=re.compile("^Glycémie")).fill("105")
    page.get_by_label("À jeun").check()
    page.get_by_role("button", name="Ajouter la valeur").click()
    expect(page.get_by_role("status")).to_contain_text("valeur ajoutée")
    check_a11y(page, "mesure-glycemie")
    assert Measurement.objects.filter(patient=camille, type_code="GLUCOSE").count() == 1

    # The synthesis: every section ticked; download it, then save it.
    page.goto(reverse("portal:synthesis"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Synthèse du profil médical")
    sections = page.get_by_role("group", name=re.compile("^Rubriques à inclure"))
    expect(sections.get_by_role("checkbox")).to_have_count(14)
    for box in sections.get_by_role("checkbox").all():
        expect(box).to_be_checked()
    check_a11y(page, "synthese")
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger la synthèse médicale").click()
    with open(download.value.path(), "rb") as f:
        text = pdf_text(f.read())
    assert "Pénicilline" in text and "105 mg/dL (à jeun)" in text
    assert download.value.suggested_filename.startswith("synthese-profil-medical-")

    # Without the measures this time, then saved in her documents.
    sections.get_by_label("Mesures").uncheck()
    page.get_by_role("button", name="Enregistrer dans les documents").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Synthèse enregistrée dans les documents de santé"
    )
    today = timezone.localdate().strftime("%d/%m/%Y")
    expect(page.get_by_text(f"Mis à jour le {today}")).to_be_visible()
    check_a11y(page, "synthese-enregistree")
    saved = Document.objects.get(patient=camille, type_code="DOCPAT08")
    assert "Mesures" not in saved.description

    # It is among her documents, as « Synthèse médicale ».
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Documents"
    ).click()
    documents = page.get_by_role("list", name="Documents")
    expect(documents.get_by_role("link", name="Synthèse du profil médical")).to_be_visible()
    expect(documents).to_contain_text("Synthèse médicale")
    check_a11y(page, "documents-avec-synthese")
    documents.get_by_role("link", name="Synthèse du profil médical").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Synthèse du profil médical")
    expect(page.get_by_role("main")).to_contain_text("Profil médical Mon espace santé")
    check_a11y(page, "synthese-document")

    # Her nurse, authorised, reads it: the allergy reaches her only this way.
    _, content = actions.document_content(actor=pro(ide_bernard), document_id=saved.pk)
    text = pdf_text(content)
    assert "Pénicilline" in text and "105 mg/dL" not in text
    assert Trace.objects.filter(
        document_id=saved.pk, action=TraceAction.DOWNLOAD_DOC, actor_id=ide_bernard.national_id
    ).exists()


def test_directives_written_online(page, live_server, camille, louis):
    """Camille writes her directives with model A; Louis's profile explains why he has none."""
    onboarded(camille)
    login(page, live_server, camille)

    page.goto(reverse("portal:directives"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes directives anticipées")
    check_a11y(page, "directives")
    page.get_by_role("link", name=re.compile("^Rédiger avec le modèle A")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rédiger mes directives anticipées")
    check_a11y(page, "directives-modele-a")

    page.get_by_role("button", name="Enregistrer mes directives anticipées").click()
    expect(page.get_by_role("alert")).to_contain_text("Fait à")
    expect(page).to_have_title(re.compile("^Erreur"))
    check_a11y(page, "directives-modele-a-erreur")

    life = page.get_by_role("group", name="Le maintien artificiel de ma vie")
    life.get_by_label("Je ne souhaite pas être maintenu(e) artificiellement en vie").check()
    resuscitation = page.get_by_role("group", name="Réanimation cardiaque et respiratoire")
    resuscitation.get_by_role("group", name="Qu'on l'entreprenne").get_by_label(
        "Je refuse qu'il soit entrepris"
    ).check()
    page.get_by_label(re.compile("^Fait à")).fill("Paris")
    page.get_by_role("button", name="Enregistrer mes directives anticipées").click()
    expect(page.get_by_role("status")).to_contain_text("Directives anticipées enregistrées")
    expect(page.get_by_role("link", name="Directives anticipées", exact=True)).to_be_visible()
    check_a11y(page, "directives-enregistrees")
    doc = Document.objects.get(patient=camille, type_code="EXPPAT_3")
    _, content = actions.document_content(actor=citizen_actor(camille), document_id=doc.pk)
    text = pdf_text(content)
    assert "Je refuse qu'il soit entrepris" in text and "à Paris" in text

    # Her son's profile: no directives for a minor, and the page says why.
    banner = page.get_by_role("banner")
    banner.get_by_role("button", name=re.compile("Profil affiché")).click()
    banner.get_by_role("button", name="Louis Lefèvre").click()
    page.goto(reverse("portal:directives"))
    expect(page.get_by_role("note")).to_contain_text("ne s'appliquent pas aux mineurs")
    expect(page.get_by_role("link", name=re.compile("^Rédiger avec le modèle"))).to_have_count(0)
    check_a11y(page, "directives-mineur")
