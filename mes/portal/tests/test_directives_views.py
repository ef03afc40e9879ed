"""Camille's directives anticipées and synthèse pages: writing online, depositing a signed
document, choosing the synthesis sections, downloading and saving it — with the denials
(anonymous, a professional's login, another patient, a minor's profile) and the traces."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf
from mes.medical_profile import directives, synthesis
from mes.medical_profile.models import Allergy, Contact
from mes.medical_profile.synthesis import Section
from mes.records.models import Document

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00\xb8" * 64
PAGES = ["directives", "directives_upload", "synthesis"]


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel("2026-06-15 10:00 +02:00", tick=False):
        yield


def _url(name):
    if name == "directives_write":
        return reverse("portal:directives_write", args=["a"])
    return reverse(f"portal:{name}")


def _show(client, profile):
    response = client.post(reverse("portal:switch_profile"), {"profile": str(profile.pk)})
    assert response.status_code == 302


def _write_data(**changes):
    data = {
        "birth_place": "Lyon",
        "address": "12 rue des Lilas, Paris",
        "situations": "Coma en phase terminale.",
        "life_support": "non",
        "resuscitation_start": "non",
        "resuscitation_stop": "oui",
        "sedation": "oui",
        "place": "Paris",
    }
    data.update(changes)
    return data


def text_of(content):
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


# --- denials --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*PAGES, "directives_write"])
def test_anonymous_is_sent_to_login(client, db, name):
    url = _url(name)
    assert client.get(url)["Location"] == f"/connexion/?next={url}"
    assert client.post(url, {"action": "save"})["Location"] == f"/connexion/?next={url}"
    assert not Document.objects.exists() and not Trace.objects.exists()


@pytest.mark.parametrize("name", [*PAGES, "directives_write"])
def test_professional_login_gets_not_found(as_durand, name):
    assert as_durand.get(_url(name)).status_code == 404
    data = _write_data(sections=["ALLERGIES"], action="save")
    assert as_durand.post(_url(name), data).status_code == 404
    assert not Document.objects.exists()


def test_unknown_model_is_not_found(as_camille):
    assert as_camille.get(reverse("portal:directives_write", args=["c"])).status_code == 404


def test_another_patient_never_sees_camilles(as_bob, camille, bob):
    me = citizen_actor(camille)
    da = directives.directives_upload(actor=me, patient_id=camille.pk, content=make_pdf("DA"))
    synth = synthesis.synthesis_save(actor=me, patient_id=camille.pk, sections=list(Section))
    html = as_bob.get(reverse("portal:directives")).content.decode()
    assert "Je n'ai pas encore enregistré de directives anticipées." in html
    assert str(da.pk) not in html
    html = as_bob.get(reverse("portal:synthesis")).content.decode()
    assert "Aucune synthèse n'est encore enregistrée" in html and str(synth.pk) not in html
    # Nor can he make her profile his current one, or open her documents.
    assert (
        as_bob.post(reverse("portal:switch_profile"), {"profile": str(camille.pk)}).status_code
        == 404
    )
    for doc in (da, synth):
        assert as_bob.get(reverse("portal:document_download", args=[doc.pk])).status_code == 404
        row = Trace.objects.get(document_id=doc.pk, outcome=TraceOutcome.REFUSED)
        assert row.actor_id == bob.ins and row.action == TraceAction.DOWNLOAD_DOC
    # What bob saves goes to his own dossier only.
    response = as_bob.post(
        reverse("portal:synthesis"), {"sections": ["ALLERGIES"], "action": "save"}
    )
    assert response.status_code == 302
    assert Document.objects.filter(patient=bob, type_code="DOCPAT08").count() == 1
    assert Document.objects.filter(patient=camille, type_code="DOCPAT08").get() == synth


# --- directives: the page -------------------------------------------------------------------


def test_empty_page_explains_and_offers_both_ways(as_camille):
    html = as_camille.get(reverse("portal:directives")).content.decode()
    assert "Mes directives anticipées" in html
    assert "Je n'ai pas encore enregistré de directives anticipées." in html
    assert "Rédiger avec le modèle A" in html and "Rédiger avec le modèle B" in html
    assert "Je suis atteint(e) d&#x27;une maladie grave" in html
    assert "Je pense être en bonne santé" in html
    assert reverse("portal:directives_upload") in html
    assert "Déposer mes directives signées" in html
    assert "visibles par les professionnels de santé autorisés" in html


def test_current_directives_are_linked(as_camille, camille):
    doc = directives.directives_upload(
        actor=citizen_actor(camille), patient_id=camille.pk, content=make_pdf("DA")
    )
    html = as_camille.get(reverse("portal:directives")).content.decode()
    assert reverse("portal:document", args=[doc.pk]) in html
    assert reverse("portal:document_download", args=[doc.pk]) in html
    assert "Enregistrées le 15/06/2026" in html and "Mettre à jour mes directives" in html


def test_a_minors_profile_explains_why_there_are_none(as_camille, louis):
    _show(as_camille, louis)
    html = as_camille.get(reverse("portal:directives")).content.decode()
    assert "Les directives anticipées de Louis Lefèvre" in html
    assert "Les directives anticipées ne s'appliquent pas aux mineurs." in html
    assert "Louis pourra rédiger les siennes à sa majorité" in html
    assert "Rédiger avec le modèle" not in html and "Déposer mes directives" not in html
    # The forms send back to that explanation; a forced post stores nothing.
    assert as_camille.get(reverse("portal:directives_upload"))["Location"] == reverse(
        "portal:directives"
    )
    response = as_camille.post(reverse("portal:directives_write", args=["a"]), _write_data())
    assert response.status_code == 302 and response["Location"] == reverse("portal:directives")
    assert not Document.objects.exists()


# --- directives: writing online -------------------------------------------------------------


def test_model_a_form_has_the_official_parts(as_camille, camille):
    Contact.objects.create(
        patient=camille,
        added_by="Camille Lefèvre",
        last_name="Lefèvre",
        first_name="Jeanne",
        link="OTHER",
        phone1="0639980199",
        address="3 rue des Lilas",
        postal_code="75011",
        city="Paris",
        is_trusted=True,
    )
    html = as_camille.get(reverse("portal:directives_write", args=["a"])).content.decode()
    for label in (
        "Modèle A",
        "Partie 1 sur 6 : mon identité",
        "LEFÈVRE",
        "14/05/1985",
        "Je bénéficie d&#x27;une mesure de tutelle",
        "Le lieu où je souhaite finir mes jours",
        "Les situations dans lesquelles je pourrais me trouver",
        "Le maintien artificiel de ma vie",
        "Réanimation cardiaque et respiratoire",
        "Branchement sur un appareil de dialyse rénale",
        "Intervention chirurgicale",
        "Qu&#x27;on l&#x27;arrête s&#x27;il a déjà été entrepris",
        "sédation profonde et continue",
        "Fait à",
        "Attestation des témoins",
        "Nom du témoin 2",
    ):
        assert label in html, label
    # Her personne de confiance comes from her entourage.
    assert 'value="Jeanne Lefèvre"' in html
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.CONSULT_ENTOURAGE)
    assert row.actor_id == camille.ins


def test_model_b_form_speaks_of_starting_or_continuing(as_camille):
    html = as_camille.get(reverse("portal:directives_write", args=["b"])).content.decode()
    assert "Je pense être en bonne santé" in html
    assert "Qu&#x27;on le mette en œuvre ou le poursuive" in html
    assert "resuscitation_stop" not in html


def test_writing_online_deposits_the_pdf(as_camille, camille):
    response = as_camille.post(reverse("portal:directives_write", args=["a"]), _write_data())
    assert response.status_code == 302 and response["Location"] == reverse("portal:directives")
    doc = Document.objects.get(patient=camille)
    assert doc.type_code == "EXPPAT_3" and doc.category == "DIR_ANT"
    assert doc.author_citizen_id == camille.pk
    assert Trace.objects.get(document_id=doc.pk).action == TraceAction.DEPOSIT_DOC
    page = as_camille.get(reverse("portal:directives")).content.decode()
    assert "Directives anticipées enregistrées" in page
    download = as_camille.get(reverse("portal:document_download", args=[doc.pk]))
    text = text_of(download.content)
    assert "Je refuse qu'il soit entrepris" in text and "Fait le 15/06/2026 à Paris" in text


def test_missing_place_is_explained_and_nothing_is_stored(as_camille):
    response = as_camille.post(
        reverse("portal:directives_write", args=["a"]), _write_data(place="")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Le champ « Fait à » est obligatoire." in html and 'role="alert"' in html
    assert 'aria-describedby="id_place_helptext id_place_error"' in html
    assert not Document.objects.exists()


def test_witnesses_are_asked_for_when_she_cannot_write(as_camille, camille):
    url = reverse("portal:directives_write", args=["a"])
    html = as_camille.post(url, _write_data(cannot_write="on")).content.decode()
    assert "Le champ « Nom du témoin 1 » est obligatoire." in html
    assert "<details open>" in html
    assert not Document.objects.exists()
    witnesses = {
        "witness1_last_name": "Lefèvre",
        "witness1_first_names": "Jeanne",
        "witness1_quality": "sœur",
        "witness1_trusted": "on",
        "witness2_last_name": "Durand",
        "witness2_first_names": "Marc",
        "witness2_quality": "voisin",
    }
    data = _write_data(cannot_write="on", trusted_person="Jeanne Lefèvre", **witnesses)
    assert as_camille.post(url, data).status_code == 302
    doc = Document.objects.get(patient=camille)
    text = text_of(as_camille.get(reverse("portal:document_download", args=[doc.pk])).content)
    assert "Attestation des témoins" in text and "Je soussigné(e) Marc Durand, voisin" in text


def test_a_second_version_replaces_the_first(as_camille, camille):
    url = reverse("portal:directives_write", args=["b"])
    as_camille.post(url, {"place": "Paris", "comments": "Première version."})
    as_camille.post(url, {"place": "Paris", "comments": "Seconde version."})
    first, second = Document.objects.filter(patient=camille).order_by("deposited_at", "pk")
    assert {first.status, second.status} == {"current", "superseded"}
    current = Document.objects.get(patient=camille, status="current")
    assert current.replaces is not None
    assert Trace.objects.filter(action=TraceAction.REPLACE_DOC, document_id=current.pk).exists()


# --- directives: the signed document --------------------------------------------------------


def test_upload_a_signed_scan(as_camille, camille):
    html = as_camille.get(reverse("portal:directives_upload")).content.decode()
    assert "Document signé" in html and "Date de signature" in html
    upload = SimpleUploadedFile("da.pdf", make_pdf("Mes directives signées"))
    response = as_camille.post(
        reverse("portal:directives_upload"), {"file": upload, "service_date": "2026-06-01"}
    )
    doc = Document.objects.get(patient=camille)
    assert response["Location"] == reverse("portal:document", args=[doc.pk])
    assert doc.type_code == "EXPPAT_3" and doc.title == "Directives anticipées signées"
    assert str(doc.service_date) == "2026-06-01"
    assert Trace.objects.get(document_id=doc.pk).action == TraceAction.DEPOSIT_DOC


def test_upload_refuses_an_executable(as_camille):
    upload = SimpleUploadedFile("da.pdf", EXE)
    response = as_camille.post(reverse("portal:directives_upload"), {"file": upload})
    assert response.status_code == 200
    assert "Format de fichier non accepté" in response.content.decode()
    assert not Document.objects.exists()


# --- synthesis ------------------------------------------------------------------------------


def test_synthesis_page_ticks_every_section(as_camille):
    html = as_camille.get(reverse("portal:synthesis")).content.decode()
    assert html.count('name="sections"') == len(Section)
    assert html.count("checked") == len(Section)
    assert "Télécharger la synthèse médicale" in html and "Enregistrer dans les documents" in html
    assert "Aucune synthèse n'est encore enregistrée" in html
    assert "Rendre visible" not in html


def test_download_gives_a_pdf_attachment_and_a_trace(as_camille, camille):
    Allergy.objects.create(patient=camille, added_by="Camille Lefèvre", name="Pénicilline")
    response = as_camille.post(
        reverse("portal:synthesis"), {"sections": ["ALLERGIES"], "action": "download"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="synthese-profil-medical-2026-06-15.pdf"'
    )
    text = text_of(response.content)
    assert "Pénicilline" in text and "Traitements" not in text
    row = Trace.objects.get(patient_id=camille.pk)
    assert row.action == TraceAction.DOWNLOAD_DOC and row.document_title == (
        "Synthèse du profil médical"
    )
    assert not Document.objects.exists()


def test_save_then_the_page_says_when(as_camille, camille):
    response = as_camille.post(
        reverse("portal:synthesis"), {"sections": ["ALLERGIES", "MEASURES"], "action": "save"}
    )
    assert response["Location"] == reverse("portal:synthesis")
    doc = Document.objects.get(patient=camille)
    assert doc.type_code == "DOCPAT08" and doc.category == "SYNTH_PML"
    assert doc.description == "Rubriques : Allergies, Mesures"
    assert Trace.objects.get(document_id=doc.pk).action == TraceAction.DEPOSIT_DOC
    html = as_camille.get(reverse("portal:synthesis")).content.decode()
    assert "Synthèse enregistrée dans les documents de santé" in html
    assert "Mis à jour le 15/06/2026" in html
    assert reverse("portal:document", args=[doc.pk]) in html
    # It is listed among her documents.
    documents = as_camille.get(reverse("portal:documents")).content.decode()
    assert "Synthèse du profil médical" in documents and "Synthèse médicale" in documents


def test_saving_again_replaces(as_camille, camille):
    as_camille.post(reverse("portal:synthesis"), {"sections": ["ALLERGIES"], "action": "save"})
    as_camille.post(reverse("portal:synthesis"), {"sections": ["TREATMENTS"], "action": "save"})
    current = Document.objects.get(patient=camille, status="current")
    assert current.description == "Rubriques : Traitements" and current.replaces is not None
    assert current.replaces.status == "superseded"


def test_no_section_is_explained(as_camille):
    response = as_camille.post(reverse("portal:synthesis"), {"action": "save"})
    assert response.status_code == 200
    assert "Choisissez au moins une rubrique" in response.content.decode()
    assert not Document.objects.exists()


def test_rendre_visible_when_documents_are_masked_by_default(as_camille, camille):
    PrivacySettings.objects.filter(patient=camille).update(mask_new_documents=True)
    html = as_camille.get(reverse("portal:synthesis")).content.decode()
    assert "je l'enregistre en la rendant visible" in html
    assert "Rendre visible et enregistrer dans les documents" in html
    as_camille.post(
        reverse("portal:synthesis"), {"sections": ["ALLERGIES"], "action": "save_visible"}
    )
    assert not Document.objects.get(patient=camille, status="current").masked_from_professionals
    as_camille.post(reverse("portal:synthesis"), {"sections": ["ALLERGIES"], "action": "save"})
    assert Document.objects.get(patient=camille, status="current").masked_from_professionals


def test_a_parent_saves_her_sons_synthesis(as_camille, camille, louis):
    _show(as_camille, louis)
    html = as_camille.get(reverse("portal:synthesis")).content.decode()
    assert "du profil médical de Louis Lefèvre" in html
    as_camille.post(reverse("portal:synthesis"), {"sections": ["ALLERGIES"], "action": "save"})
    doc = Document.objects.get(type_code="DOCPAT08")
    assert doc.patient_id == louis.pk and doc.author_citizen_id == camille.pk
    row = Trace.objects.get(document_id=doc.pk)
    assert row.patient_id == louis.pk and row.acting_citizen_id == camille.pk
