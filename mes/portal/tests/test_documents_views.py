"""Camille's Documents pages: her list, adding, one document and its actions, her folders —
each page with its denials (anonymous, a professional's login, another patient) and its traces."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.portal.documents import views as views_documents
from mes.records import actions
from mes.records.models import Document, Folder
from mes.vault import store

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00\xb8" * 64


# --- the cast's documents -------------------------------------------------------------------


def deposit(citizen, patient=None, **kwargs):
    args = {
        "title": "Ordonnance kiné",
        "category": "ORD_SOIN",
        "service_date": date(2024, 3, 1),
        "content": make_pdf(),
    }
    args.update(kwargs)
    return actions.document_deposit(
        actor=citizen_actor(citizen), patient_id=(patient or citizen).pk, **args
    )


@pytest.fixture
def ordonnance(camille):
    return deposit(camille)


@pytest.fixture
def compte_rendu(camille, dr_martin):
    return actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Compte rendu de consultation"),
        title="Compte rendu de consultation",
        type_code="11488-4",
        service_date=date(2024, 1, 10),
    )


@pytest.fixture
def louis_doc(camille, louis):
    return deposit(camille, louis, title="Carnet de santé de Louis", category="SYNTHESE")


def _show(client, profile):
    response = client.post(reverse("portal:switch_profile"), {"profile": str(profile.pk)})
    assert response.status_code == 302


def _traces(document, action):
    return list(Trace.objects.filter(document_id=document.pk, action=action).order_by("at", "seq"))


def _last_trace(document, action):
    rows = _traces(document, action)
    assert rows, f"no {action} trace"
    return rows[-1]


def _upload(content=None, name="ordonnance.pdf"):
    return SimpleUploadedFile(name, make_pdf() if content is None else content)


def _add_data(**kwargs):
    data = {
        "title": "Radio du genou",
        "service_date": "2024-02-03",
        "category": "RADIO_SC",
        "folder": "",
        "confidentiality": "visible",
        "file": _upload(),
    }
    data.update(kwargs)
    return data


def _titles(html):
    """Document titles in the order the list shows them."""
    return re.findall(r'<a class="fw-semibold" href="/documents/[0-9a-f-]+/">([^<]+)</a>', html)


DOC_URLS = [
    "document",
    "document_download",
    "document_edit",
    "document_report",
]
POST_DOC_URLS = [
    ("document_delete", {}),
    ("document_confidentiality", {"confidentiality": "masked"}),
    ("document_pin", {"pinned": "1"}),
    ("document_edit", {"title": "x", "service_date": "2024-01-01", "category": "ORD_SOIN"}),
    ("document_report", {"description": "Erreur de nom"}),
]


# --- denials shared by every page -----------------------------------------------------------


@pytest.mark.parametrize("name", ["documents", "document_add", "folders"])
def test_anonymous_is_sent_to_login_from_profile_pages(client, db, name):
    url = reverse(f"portal:{name}")
    assert client.get(url)["Location"] == f"/connexion/?next={url}"
    assert client.post(url, {"op": "create", "name": "x"})["Location"] == f"/connexion/?next={url}"
    assert not Folder.objects.exists() and not Document.objects.exists()


@pytest.mark.parametrize("name", DOC_URLS + [n for n, _ in POST_DOC_URLS])
def test_anonymous_is_sent_to_login_from_document_pages(client, ordonnance, name):
    url = reverse(f"portal:{name}", args=[ordonnance.pk])
    response = client.post(url) if name in dict(POST_DOC_URLS) else client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/connexion/?next={url}"


@pytest.mark.parametrize("name", ["documents", "document_add", "folders"])
def test_professional_login_gets_not_found_on_profile_pages(as_durand, name):
    assert as_durand.get(reverse(f"portal:{name}")).status_code == 404
    assert as_durand.post(reverse(f"portal:{name}"), {"op": "create"}).status_code == 404


@pytest.mark.parametrize("name", DOC_URLS)
def test_professional_login_gets_not_found_on_document_pages(as_durand, ordonnance, name):
    assert as_durand.get(reverse(f"portal:{name}", args=[ordonnance.pk])).status_code == 404
    # The view refused before any policy ran: no access happened, so nothing to trace.
    assert not Trace.objects.filter(document_id=ordonnance.pk).exclude(action="DEPOT_DOC").exists()


@pytest.mark.parametrize(("name", "data"), POST_DOC_URLS)
def test_professional_login_cannot_change_a_document(as_durand, ordonnance, name, data):
    response = as_durand.post(reverse(f"portal:{name}", args=[ordonnance.pk]), data)
    assert response.status_code == 404
    ordonnance.refresh_from_db()
    assert ordonnance.status == "current" and not ordonnance.masked_from_professionals
    assert ordonnance.pinned_at is None and ordonnance.reported_at is None


@pytest.mark.parametrize("name", DOC_URLS)
def test_other_patient_gets_not_found_and_a_refused_trace(as_bob, bob, ordonnance, name):
    response = as_bob.get(reverse(f"portal:{name}", args=[ordonnance.pk]))
    assert response.status_code == 404
    row = Trace.objects.get(document_id=ordonnance.pk, outcome=TraceOutcome.REFUSED)
    assert row.actor_id == bob.ins and row.patient_id == ordonnance.patient_id
    expected = TraceAction.DOWNLOAD_DOC if name == "document_download" else TraceAction.CONSULT_DOC
    assert row.action == expected and row.reason


@pytest.mark.parametrize(("name", "data"), POST_DOC_URLS)
def test_other_patient_cannot_change_a_document(as_bob, bob, ordonnance, name, data):
    response = as_bob.post(reverse(f"portal:{name}", args=[ordonnance.pk]), data)
    assert response.status_code == 404
    ordonnance.refresh_from_db()
    assert ordonnance.status == "current" and ordonnance.title == "Ordonnance kiné"
    assert not ordonnance.masked_from_professionals and ordonnance.pinned_at is None
    assert ordonnance.reported_at is None
    row = Trace.objects.get(document_id=ordonnance.pk, outcome=TraceOutcome.REFUSED)
    assert row.actor_id == bob.ins


def test_unknown_document_is_the_same_not_found(as_camille, camille, ordonnance):
    import uuid

    unknown = as_camille.get(reverse("portal:document", args=[uuid.uuid4()]))
    assert unknown.status_code == 404
    row = Trace.objects.filter(outcome=TraceOutcome.REFUSED).get()
    assert row.reason == "document inconnu" and row.actor_id == camille.ins


# --- list -----------------------------------------------------------------------------------


def test_list_shows_each_document_with_its_markers(as_camille, ordonnance, compte_rendu):
    actions.document_set_pinned(
        actor=citizen_actor(ordonnance.patient), document_id=ordonnance.pk, pinned=True
    )
    actions.document_set_masked(
        actor=citizen_actor(ordonnance.patient), document_id=compte_rendu.pk, masked=True
    )
    response = as_camille.get(reverse("portal:documents"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mes documents" in html
    assert f'href="/documents/{ordonnance.pk}/">Ordonnance kiné</a>' in html
    assert 'class="chip chip-ORD_SOIN' in html and "Ordonnances et soins" in html
    assert 'class="chip chip-CPT_REND' in html
    assert "01/03/2024" in html and "par Camille" in html and "par Dr Anne Martin" in html
    assert html.count("Document épinglé") == 1 and html.count("Masqué aux professionnels") == 1
    assert "Voir mes documents épinglés (1)" in html
    assert _titles(html) == ["Ordonnance kiné", "Compte rendu de consultation"]


def test_list_of_another_patient_never_shows_camilles(as_bob, ordonnance):
    html = as_bob.get(reverse("portal:documents")).content.decode()
    assert "Ordonnance kiné" not in html and "Aucun document trouvé" in html


@pytest.fixture
def trois(camille, dr_martin, compte_rendu):
    a = deposit(camille, title="Bilan sanguin", category="BIOLOGIE", service_date=date(2023, 6, 1))
    b = deposit(camille, title="attestation mutuelle", category="DOC_ADM")
    return a, b, compte_rendu


@pytest.mark.parametrize(
    ("tri", "expected"),
    [
        ("", ["Bilan sanguin", "attestation mutuelle", "Compte rendu de consultation"]),
        ("recents", ["attestation mutuelle", "Compte rendu de consultation", "Bilan sanguin"]),
        ("anciens", ["Bilan sanguin", "Compte rendu de consultation", "attestation mutuelle"]),
        ("nom", ["attestation mutuelle", "Bilan sanguin", "Compte rendu de consultation"]),
        ("nom_desc", ["Compte rendu de consultation", "Bilan sanguin", "attestation mutuelle"]),
        ("auteur", ["Bilan sanguin", "attestation mutuelle", "Compte rendu de consultation"]),
        ("auteur_desc", ["Compte rendu de consultation", "Bilan sanguin", "attestation mutuelle"]),
    ],
)
def test_sorts(as_camille, trois, tri, expected):
    html = as_camille.get(reverse("portal:documents"), {"tri": tri}).content.decode()
    titles = _titles(html)
    if tri == "":
        # Default is « Plus récents »: by date of the document.
        expected = ["attestation mutuelle", "Compte rendu de consultation", "Bilan sanguin"]
    if tri.startswith("auteur"):
        # Camille's two documents share an author: compare the author order only.
        mine = {"Bilan sanguin", "attestation mutuelle"}
        first = "Compte rendu de consultation"
        assert (titles[0] == first) == (tri == "auteur_desc")
        assert set(titles[1:] if tri == "auteur_desc" else titles[:2]) == mine
        return
    assert titles == expected


def test_sort_labels_are_offered(as_camille, camille):
    html = as_camille.get(reverse("portal:documents")).content.decode()
    for label in (
        "Plus récents",
        "Plus anciens",
        "Nom : A à Z",
        "Nom : Z à A",
        "Ajouté par : A à Z",
        "Ajouté par : Z à A",
    ):
        assert label in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"categorie": ["BIOLOGIE"]}, {"Bilan sanguin"}),
        ({"categorie": ["BIOLOGIE", "DOC_ADM"]}, {"Bilan sanguin", "attestation mutuelle"}),
        ({"auteur": "martin"}, {"Compte rendu de consultation"}),
        ({"q": "SANGUIN"}, {"Bilan sanguin"}),
        ({"du": "2024-01-01"}, {"attestation mutuelle", "Compte rendu de consultation"}),
        ({"au": "2024-01-10"}, {"Bilan sanguin", "Compte rendu de consultation"}),
        ({"du": "2024-01-01", "au": "2024-01-31"}, {"Compte rendu de consultation"}),
        ({"q": "rien de tel"}, set()),
    ],
)
def test_filters(as_camille, trois, query, expected):
    html = as_camille.get(reverse("portal:documents"), query).content.decode()
    assert set(_titles(html)) == expected
    if not expected:
        assert "Aucun document trouvé" in html and "Modifier ma recherche" in html


def test_filter_by_folder_and_pinned(as_camille, camille, trois):
    bilan, attestation, _ = trois
    me = citizen_actor(camille)
    folder = actions.folder_create(actor=me, patient_id=camille.pk, name="Analyses")
    actions.document_move(actor=me, document_id=bilan.pk, folder_id=folder.pk)
    actions.document_set_pinned(actor=me, document_id=attestation.pk, pinned=True)
    url = reverse("portal:documents")
    assert _titles(as_camille.get(url, {"dossier": folder.pk}).content.decode()) == [
        "Bilan sanguin"
    ]
    html = as_camille.get(url, {"epingles": "on"}).content.decode()
    assert _titles(html) == ["attestation mutuelle"] and "1 document épinglé" in html


def test_bad_dates_are_explained_and_nothing_is_filtered(as_camille, trois):
    html = as_camille.get(
        reverse("portal:documents"), {"du": "2024-05-01", "au": "2024-01-01"}
    ).content.decode()
    assert "La date de fin doit être postérieure à la date de début." in html
    assert 'aria-describedby="id_au_error"' in html and 'role="alert"' in html
    assert len(_titles(html)) == 3


def test_list_paginates(as_camille, camille, monkeypatch):
    monkeypatch.setattr(views_documents, "PAGE_SIZE", 2)
    for i in range(5):
        deposit(camille, title=f"Document {i}", service_date=date(2024, 1, i + 1))
    html = as_camille.get(reverse("portal:documents"), {"tri": "anciens"}).content.decode()
    assert _titles(html) == ["Document 0", "Document 1"] and "Page 1 sur 3" in html
    assert "?tri=anciens&amp;page=2" in html
    html = as_camille.get(reverse("portal:documents"), {"tri": "anciens", "page": 3}).content
    assert _titles(html.decode()) == ["Document 4"]


def test_switching_to_louis_shows_his_documents_not_hers(as_camille, ordonnance, louis_doc, louis):
    _show(as_camille, louis)
    html = as_camille.get(reverse("portal:documents")).content.decode()
    assert _titles(html) == ["Carnet de santé de Louis"]
    assert "Les documents de Louis" in html and "ses documents" in html


def test_secret_care_of_louis_is_hidden_from_his_mother(as_camille, camille, louis, dr_martin):
    secret = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=louis.pk,
        content=make_pdf("Consultation confidentielle"),
        title="Consultation confidentielle",
        type_code="11488-4",
        hidden_from_representatives=True,
    )
    _show(as_camille, louis)
    assert (
        "Consultation confidentielle"
        not in as_camille.get(reverse("portal:documents")).content.decode()
    )
    assert as_camille.get(reverse("portal:document", args=[secret.pk])).status_code == 404
    row = _last_trace(secret, TraceAction.CONSULT_DOC)
    assert row.outcome == TraceOutcome.REFUSED and row.actor_id == camille.ins
    assert row.hidden_from_representatives
    assert as_camille.get(reverse("portal:document_download", args=[secret.pk])).status_code == 404


# --- add ------------------------------------------------------------------------------------


def test_add_form_is_labelled_and_hints_the_formats(as_camille, camille):
    html = as_camille.get(reverse("portal:document_add")).content.decode()
    for label in ("Nom du document", "Date du document", "Catégorie du document", "Dossier"):
        assert label in html
    assert "Qui a accès à mes documents ?" in html
    assert 'accept=".pdf,.txt,.rtf,.jpg,.jpeg,.png,.tif,.tiff"' in html
    assert "Formats acceptés : PDF, JPEG, PNG, TIFF, RTF, texte. Taille maximale : 5 Mo" in html
    assert 'enctype="multipart/form-data"' in html
    assert "Synthèse médicale" not in html  # generated category, not choosable
    assert re.search(r'value="visible"[^>]*checked', html)


def test_add_defaults_to_masked_when_the_profile_says_so(as_camille, camille):
    PrivacySettings.objects.filter(patient=camille).update(mask_new_documents=True)
    html = as_camille.get(reverse("portal:document_add")).content.decode()
    assert re.search(r'value="masked"[^>]*checked', html)


def test_add_stores_the_document_and_shows_it(as_camille, camille):
    response = as_camille.post(reverse("portal:document_add"), _add_data(confidentiality="masked"))
    doc = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/documents/{doc.pk}/"
    assert doc.patient == camille and doc.title == "Radio du genou"
    assert doc.category == "RADIO_SC" and doc.type_code == "DOCPAT04"
    assert doc.service_date == date(2024, 2, 3) and doc.masked_from_professionals
    assert doc.deposited_by_citizen and doc.author_citizen == camille
    assert store.get(camille.pk, doc.pk).startswith(b"%PDF-")
    row = _last_trace(doc, TraceAction.DEPOSIT_DOC)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    html = as_camille.get(response["Location"]).content.decode()
    assert "Document ajouté" in html and 'role="status"' in html


def test_add_without_date_uses_today_and_puts_in_a_folder(as_camille, camille):
    folder = actions.folder_create(
        actor=citizen_actor(camille), patient_id=camille.pk, name="Genou"
    )
    as_camille.post(reverse("portal:document_add"), _add_data(service_date="", folder=folder.pk))
    doc = Document.objects.get()
    assert doc.service_date == timezone.localdate() and doc.folder == folder


def _assert_refused_upload(response, message, field="file"):
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'id="id_{field}_error"' in html
    assert re.search(f'aria-describedby="[^"]*id_{field}_error"', html)
    assert re.search(r'class="form-(control|select) is-invalid"', html)
    assert f'href="#id_{field}"' in html  # the error summary links to the field
    assert not Document.objects.exists()


def test_add_refuses_an_executable_renamed_pdf(as_camille, camille):
    response = as_camille.post(
        reverse("portal:document_add"), _add_data(file=_upload(EXE, "ordonnance.pdf"))
    )
    _assert_refused_upload(response, "Format de fichier non accepté")
    assert not Trace.objects.filter(action=TraceAction.DEPOSIT_DOC).exists()


def test_add_refuses_a_file_over_the_limit(as_camille, camille, settings):
    settings.MES_UPLOAD_MAX_BYTES = 1000
    big = make_pdf("x" * 50) + b"0" * 2000
    response = as_camille.post(reverse("portal:document_add"), _add_data(file=_upload(big)))
    _assert_refused_upload(response, "Le fichier dépasse la taille maximale")


def test_add_refuses_forbidden_characters_in_the_name(as_camille, camille):
    response = as_camille.post(
        reverse("portal:document_add"), _add_data(title="Ordonnance #4 / kiné")
    )
    _assert_refused_upload(response, "Caractères refusés", field="title")
    assert "# /" in response.content.decode()


def test_add_refuses_a_generated_category_and_a_future_date(as_camille, camille):
    response = as_camille.post(reverse("portal:document_add"), _add_data(category="SYNTH_PML"))
    _assert_refused_upload(response, "Sélectionnez un choix valide", field="category")
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = as_camille.post(reverse("portal:document_add"), _add_data(service_date=tomorrow))
    _assert_refused_upload(response, "ne peut pas être dans le futur", field="service_date")


def test_add_requires_a_file_and_a_name(as_camille, camille):
    data = _add_data(title="")
    del data["file"]
    html = as_camille.post(reverse("portal:document_add"), data).content.decode()
    assert "Choisissez le fichier à ajouter." in html
    assert "Le champ « Nom du document » est obligatoire." in html
    assert "Le formulaire contient des erreurs" in html
    assert not Document.objects.exists()


def test_mother_adds_to_louis_after_switching(as_camille, camille, louis):
    _show(as_camille, louis)
    html = as_camille.get(reverse("portal:document_add")).content.decode()
    assert "Qui a accès à ses documents ?" in html
    as_camille.post(reverse("portal:document_add"), _add_data())
    doc = Document.objects.get()
    assert doc.patient == louis and doc.author_citizen == camille


def test_bob_cannot_point_his_session_at_camilles_dossier(as_bob, bob, camille):
    session = as_bob.session
    session["mes_profile_id"] = str(camille.pk)
    session.save()
    as_bob.post(reverse("portal:document_add"), _add_data())
    assert Document.objects.get().patient == bob


# --- detail ---------------------------------------------------------------------------------


def test_detail_shows_the_document_and_traces_the_read(as_camille, camille, ordonnance):
    html = as_camille.get(reverse("portal:document", args=[ordonnance.pk])).content.decode()
    for text in (
        "Ordonnance kiné",
        "Type de document",
        "Traitement ou document de soins déposé par le patient",
        "Date du document",
        "01/03/2024",
        "Ajouté par",
        "Date de dépôt",
        "Visible par les professionnels de santé autorisés",
        "Vos documents de santé sont sensibles",
        "Épingler",
        "Modifier",
        "Supprimer ce document ?",
        "Ce document sera supprimé définitivement.",
        "Signaler un problème",
        "Déplacer",
        "Ce document est masqué aux professionnels de santé. Il reste visible par la personne",
    ):
        assert text in html, text
    assert "Il ne peut pas être modifié ou supprimé" not in html
    row = _last_trace(ordonnance, TraceAction.CONSULT_DOC)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    assert row.patient_id == camille.pk


def test_detail_of_a_professional_document_is_read_only(as_camille, compte_rendu):
    html = as_camille.get(reverse("portal:document", args=[compte_rendu.pk])).content.decode()
    assert (
        "Ce document a été ajouté par un professionnel de santé. "
        "Il ne peut pas être modifié ou supprimé." in html
    )
    assert reverse("portal:document_edit", args=[compte_rendu.pk]) not in html
    assert reverse("portal:document_delete", args=[compte_rendu.pk]) not in html
    assert reverse("portal:document_confidentiality", args=[compte_rendu.pk]) in html


def test_a_link_to_louis_document_opens_his_profile(as_camille, louis, louis_doc):
    html = as_camille.get(reverse("portal:document", args=[louis_doc.pk])).content.decode()
    assert "Vous consultez le profil de" in html and "Carnet de santé de Louis" in html
    assert as_camille.session["mes_profile_id"] == str(louis.pk)


# --- download -------------------------------------------------------------------------------


def test_download_is_an_attachment_with_a_safe_name(as_camille, camille):
    doc = deposit(camille, title="Résultat d'analyses été 2024")
    response = as_camille.get(reverse("portal:document_download", args=[doc.pk]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == 'attachment; filename="resultat-danalyses-ete-2024.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    row = _last_trace(doc, TraceAction.DOWNLOAD_DOC)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins


def test_download_of_text_keeps_its_type_and_never_goes_inline(as_camille, camille):
    doc = deposit(camille, title="Notes", content=b"Tension 12/8\n")
    response = as_camille.get(reverse("portal:document_download", args=[doc.pk]))
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'


def test_unreadable_blob_is_a_french_error_without_details(as_camille, ordonnance, monkeypatch):
    def broken(patient_id, blob_id):
        raise store.VaultError("clé détruite pour le patient 1234")

    monkeypatch.setattr(store, "get", broken)
    response = as_camille.get(reverse("portal:document_download", args=[ordonnance.pk]))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Document indisponible" in html and "clé détruite" not in html


# --- edit -----------------------------------------------------------------------------------


def test_edit_form_is_prefilled(as_camille, ordonnance):
    response = as_camille.get(reverse("portal:document_edit", args=[ordonnance.pk]))
    html = response.content.decode()
    assert 'value="Ordonnance kiné"' in html and 'value="2024-03-01"' in html
    assert re.search(r'<option value="ORD_SOIN" selected>', html)
    assert _last_trace(ordonnance, TraceAction.CONSULT_DOC).outcome == TraceOutcome.ALLOWED


def test_edit_changes_name_date_category_and_folder(as_camille, camille, ordonnance):
    folder = actions.folder_create(actor=citizen_actor(camille), patient_id=camille.pk, name="Kiné")
    response = as_camille.post(
        reverse("portal:document_edit", args=[ordonnance.pk]),
        {
            "title": "Ordonnance de kinésithérapie",
            "service_date": "2024-03-02",
            "category": "CERT_MED",
            "folder": folder.pk,
        },
    )
    assert response.status_code == 302
    ordonnance.refresh_from_db()
    assert ordonnance.title == "Ordonnance de kinésithérapie"
    assert ordonnance.service_date == date(2024, 3, 2) and ordonnance.category == "CERT_MED"
    assert ordonnance.type_code == "DOCPAT07" and ordonnance.folder == folder
    row = _last_trace(ordonnance, TraceAction.UPDATE_DOC)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    assert "Document modifié" in as_camille.get(response["Location"]).content.decode()


def test_edit_refuses_forbidden_characters(as_camille, ordonnance):
    response = as_camille.post(
        reverse("portal:document_edit", args=[ordonnance.pk]),
        {"title": "Ordonnance <b>", "service_date": "2024-03-01", "category": "ORD_SOIN"},
    )
    assert "Caractères refusés" in response.content.decode()
    ordonnance.refresh_from_db()
    assert ordonnance.title == "Ordonnance kiné"


def test_professional_document_cannot_be_edited_or_deleted(as_camille, camille, compte_rendu):
    edit = reverse("portal:document_edit", args=[compte_rendu.pk])
    assert as_camille.get(edit).status_code == 404
    posted = {"title": "Falsifié", "service_date": "2024-01-10", "category": "ORD_SOIN"}
    assert as_camille.post(edit, posted).status_code == 404
    delete = reverse("portal:document_delete", args=[compte_rendu.pk])
    assert as_camille.post(delete).status_code == 404
    compte_rendu.refresh_from_db()
    assert compte_rendu.title == "Compte rendu de consultation" and compte_rendu.status == "current"
    refused = Trace.objects.filter(document_id=compte_rendu.pk, outcome=TraceOutcome.REFUSED)
    assert refused.count() == 3
    assert {r.actor_id for r in refused} == {camille.ins}
    assert refused.filter(action=TraceAction.DELETE_DOC).exists()


# --- delete ---------------------------------------------------------------------------------


def test_delete_removes_the_document_from_every_page(as_camille, camille, ordonnance):
    url = reverse("portal:document_delete", args=[ordonnance.pk])
    assert as_camille.get(url).status_code == 405
    response = as_camille.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("portal:documents")
    ordonnance.refresh_from_db()
    assert ordonnance.status == "deleted"
    html = as_camille.get(response["Location"]).content.decode()
    assert "Document supprimé" in html and "Ordonnance kiné" not in html
    assert as_camille.get(reverse("portal:document", args=[ordonnance.pk])).status_code == 404
    row = _last_trace(ordonnance, TraceAction.DELETE_DOC)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins


# --- confidentiality and pin ----------------------------------------------------------------


def test_confidentiality_masks_and_unmasks(as_camille, camille, compte_rendu):
    url = reverse("portal:document_confidentiality", args=[compte_rendu.pk])
    assert as_camille.get(url).status_code == 405
    response = as_camille.post(url, {"confidentiality": "masked"})
    assert response["Location"] == reverse("portal:document", args=[compte_rendu.pk])
    compte_rendu.refresh_from_db()
    assert compte_rendu.masked_from_professionals
    assert _last_trace(compte_rendu, TraceAction.MASK_DOC).actor_id == camille.ins
    html = as_camille.get(response["Location"]).content.decode()
    assert "maintenant masqué aux professionnels" in html
    assert re.search(r'value="masked"[^>]*checked', html)
    as_camille.post(url, {"confidentiality": "visible"})
    compte_rendu.refresh_from_db()
    assert not compte_rendu.masked_from_professionals
    assert _last_trace(compte_rendu, TraceAction.UNMASK_DOC).outcome == TraceOutcome.ALLOWED


def test_confidentiality_without_a_choice_changes_nothing(as_camille, ordonnance):
    url = reverse("portal:document_confidentiality", args=[ordonnance.pk])
    response = as_camille.post(url, {"confidentiality": "partout"}, follow=True)
    assert "Choisissez qui peut consulter ce document." in response.content.decode()
    ordonnance.refresh_from_db()
    assert not ordonnance.masked_from_professionals


def test_pin_and_unpin(as_camille, camille, compte_rendu):
    url = reverse("portal:document_pin", args=[compte_rendu.pk])
    assert as_camille.get(url).status_code == 405
    html = as_camille.post(url, {"pinned": "1"}, follow=True).content.decode()
    compte_rendu.refresh_from_db()
    assert compte_rendu.pinned_at is not None and "Retirer l'épingle" in html
    assert _last_trace(compte_rendu, TraceAction.PIN_DOC).actor_id == camille.ins
    as_camille.post(url, {"pinned": "0"})
    compte_rendu.refresh_from_db()
    assert compte_rendu.pinned_at is None
    assert _last_trace(compte_rendu, TraceAction.UNPIN_DOC).outcome == TraceOutcome.ALLOWED


# --- report ---------------------------------------------------------------------------------


def test_report_page_is_prefilled(as_camille, compte_rendu):
    html = as_camille.get(
        reverse("portal:document_report", args=[compte_rendu.pk])
    ).content.decode()
    deposited = timezone.localtime(compte_rendu.deposited_at).strftime("%d/%m/%Y")
    assert "Signaler un problème sur ce document" in html
    assert (
        "Bonjour,\n\nJ&#x27;ai identifié un problème sur le document Compte rendu de "
        f"consultation déposé le {deposited} par Dr Anne Martin." in html
    )
    assert "contacter directement" in html and "Mes documents" in html


def test_report_flags_the_document(as_camille, camille, compte_rendu):
    url = reverse("portal:document_report", args=[compte_rendu.pk])
    html = as_camille.post(url, {"description": ""}).content.decode()
    assert "Décrivez le problème constaté." in html
    compte_rendu.refresh_from_db()
    assert compte_rendu.reported_at is None
    response = as_camille.post(url, {"description": "Ce n'est pas mon compte rendu."})
    assert response.status_code == 302
    compte_rendu.refresh_from_db()
    assert compte_rendu.reported_at is not None
    row = _last_trace(compte_rendu, TraceAction.REPORT_DOC)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    assert (
        "Votre signalement a été transmis" in as_camille.get(response["Location"]).content.decode()
    )


# --- folders --------------------------------------------------------------------------------


def test_folders_create_rename_delete(as_camille, camille, ordonnance):
    url = reverse("portal:folders")
    html = as_camille.get(url).content.decode()
    assert "Nom du dossier" in html and "Aucun dossier pour le moment." in html
    response = as_camille.post(url, {"op": "create", "name": "Kinésithérapie"})
    assert response.status_code == 302
    folder = Folder.objects.get(patient=camille)
    assert folder.name == "Kinésithérapie"
    assert Trace.objects.filter(patient_id=camille.pk, action=TraceAction.FOLDER).exists()
    as_camille.post(url, {"op": "move", "document": ordonnance.pk, "folder": folder.pk})
    html = as_camille.get(url).content.decode()
    assert "Kinésithérapie" in html and "1 document<" in html
    assert "Les documents de ce dossier seront toujours disponibles dans mes documents" in html
    as_camille.post(url, {"op": "rename", "folder": folder.pk, "name": "Kiné"})
    folder.refresh_from_db()
    assert folder.name == "Kiné"
    html = as_camille.post(url, {"op": "delete", "folder": folder.pk}, follow=True).content
    assert "Dossier supprimé" in html.decode()
    assert not Folder.objects.exists()
    ordonnance.refresh_from_db()
    assert ordonnance.status == "current" and ordonnance.folder is None


def test_folder_name_errors_are_shown_on_the_form(as_camille, camille):
    url = reverse("portal:folders")
    as_camille.post(url, {"op": "create", "name": "Analyses"})
    html = as_camille.post(url, {"op": "create", "name": "analyses"}).content.decode()
    assert "Un dossier porte déjà ce nom." in html and 'id="id_new_name_error"' in html
    html = as_camille.post(url, {"op": "create", "name": "x" * 51}).content.decode()
    assert "50 caractères" in html
    folder = Folder.objects.get()
    html = as_camille.post(
        url, {"op": "rename", "folder": folder.pk, "name": "Analyses $"}
    ).content.decode()
    assert "Caractères refusés" in html and f'id="id_f{folder.pk}_name_error"' in html
    assert list(Folder.objects.values_list("name", flat=True)) == ["Analyses"]


def test_move_in_and_out_of_a_folder(as_camille, camille, compte_rendu):
    folder = actions.folder_create(
        actor=citizen_actor(camille), patient_id=camille.pk, name="Suivi"
    )
    detail = as_camille.get(reverse("portal:document", args=[compte_rendu.pk])).content.decode()
    assert f'<option value="{folder.pk}">Suivi</option>' in detail
    url = reverse("portal:folders")
    response = as_camille.post(
        url, {"op": "move", "document": compte_rendu.pk, "folder": folder.pk}
    )
    assert response["Location"] == reverse("portal:document", args=[compte_rendu.pk])
    compte_rendu.refresh_from_db()
    assert compte_rendu.folder == folder
    row = _last_trace(compte_rendu, TraceAction.FOLDER)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    html = as_camille.post(
        url, {"op": "move", "document": compte_rendu.pk, "folder": ""}, follow=True
    ).content.decode()
    assert "Document retiré du dossier" in html
    compte_rendu.refresh_from_db()
    assert compte_rendu.folder is None


def test_folders_of_another_patient_are_out_of_reach(as_bob, bob, camille, ordonnance):
    me = citizen_actor(camille)
    folder = actions.folder_create(actor=me, patient_id=camille.pk, name="Privé")
    url = reverse("portal:folders")
    assert "Privé" not in as_bob.get(url).content.decode()
    assert (
        as_bob.post(url, {"op": "rename", "folder": folder.pk, "name": "Pirate"}).status_code == 404
    )
    assert as_bob.post(url, {"op": "rename", "folder": folder.pk, "name": "$"}).status_code == 404
    assert as_bob.post(url, {"op": "delete", "folder": folder.pk}).status_code == 404
    response = as_bob.post(url, {"op": "move", "document": ordonnance.pk, "folder": ""})
    assert response.status_code == 404
    assert as_bob.post(url, {"op": "nimporte"}).status_code == 404
    folder.refresh_from_db()
    assert folder.name == "Privé"
    row = Trace.objects.get(document_id=ordonnance.pk, outcome=TraceOutcome.REFUSED)
    assert row.actor_id == bob.ins


def test_folder_counts_ignore_what_a_representative_may_not_see(
    as_camille, camille, louis, dr_martin
):
    me = citizen_actor(camille)
    folder = actions.folder_create(actor=me, patient_id=louis.pk, name="Pédiatre")
    actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=louis.pk,
        content=make_pdf(),
        title="Secret",
        type_code="11488-4",
        hidden_from_representatives=True,
        folder_id=folder.pk,
    )
    _show(as_camille, louis)
    html = as_camille.get(reverse("portal:folders")).content.decode()
    assert "Pédiatre" in html and "0 document<" in html
    assert "Les dossiers de Louis" in html and "dans ses documents" in html


def test_a_generated_document_keeps_its_category_when_edited(client, camille, camille_actor):
    """Directives anticipées and the synthèse are made by the profil médical with categories the
    upload form does not offer; « Modifier » changes their name and date, never their type."""
    from mes.records import actions as records

    doc = records.document_deposit(
        actor=camille_actor,
        patient_id=camille.pk,
        content=make_pdf("Synthèse"),
        title="Synthèse du profil médical",
        category="SYNTH_PML",
        generated=True,
    )
    client.force_login(camille.user)
    page = client.get(reverse("portal:document_edit", args=[doc.pk]))
    assert 'name="category"' not in page.content.decode()

    client.post(
        reverse("portal:document_edit", args=[doc.pk]),
        {"title": "Ma synthèse", "service_date": doc.service_date.isoformat(), "folder": ""},
    )

    doc.refresh_from_db()
    assert (doc.title, doc.category, doc.type_code) == ("Ma synthèse", "SYNTH_PML", "DOCPAT08")
