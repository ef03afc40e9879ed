"""Camille's carnet de vaccination pages: her carnet, adding, one vaccination and its actions,
the synthesis, and her son's carnet — each page with its denials (anonymous, a professional's
login, another patient) and its traces."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_citizen, pro
from mes.enrolment.models import LegalRepresentation
from mes.vaccinations import actions
from mes.vaccinations.models import Vaccination

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def grippe(camille):
    return actions.vaccination_add(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        vaccine_code="VAXIGRIPTETRA",
        vaccination_date=date(2025, 10, 20),
        kind=Vaccination.Kind.BOOSTER,
        lot="X1234",
    )


@pytest.fixture
def rappel(camille, dr_martin):
    return actions.vaccination_record_by_professional(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        vaccine_code="REVAXIS",
        vaccination_date=date(2026, 11, 2),
        kind=Vaccination.Kind.BOOSTER,
    )


@pytest.fixture
def lina(camille):
    """Camille's daughter, almost 4 months old: the infant obligations apply to her."""
    child = make_citizen(
        None,
        first13="2250575056045",
        first_name="Lina",
        birth_name="Lefèvre",
        birth_date=date(2026, 8, 1),
        sex="F",
    )
    LegalRepresentation.objects.create(
        representative=camille, represented=child, role=LegalRepresentation.Role.MOTHER
    )
    return child


def page(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode())


def show(client, profile):
    assert (
        client.post(reverse("portal:switch_profile"), {"profile": str(profile.pk)}).status_code
        == 302
    )


def traces(patient, action, outcome=TraceOutcome.ALLOWED):
    return list(Trace.objects.filter(patient_id=patient.pk, action=action, outcome=outcome))


def form_data(**kwargs):
    data = {
        "vaccine": "BOOSTRIXTETRA",
        "date": "2026-03-02",
        "kind": "BOOSTER",
        "lot": "LOT-42",
        "vaccinator_name": "Dr Paul Simon",
        "comment": "Bras douloureux deux jours.",
    }
    data.update(kwargs)
    return data


PROFILE_URLS = ["vaccinations", "vaccination_add", "vaccination_synthesis"]
ENTRY_URLS = ["vaccination", "vaccination_edit"]


# --- denials shared by every page -----------------------------------------------------------


@pytest.mark.parametrize("name", PROFILE_URLS)
def test_anonymous_is_sent_to_login(client, db, name):
    url = reverse(f"portal:{name}")
    assert client.get(url)["Location"] == f"/connexion/?next={url}"


@pytest.mark.parametrize("name", [*ENTRY_URLS, "vaccination_delete"])
def test_anonymous_is_sent_to_login_from_an_entry(client, grippe, name):
    url = reverse(f"portal:{name}", args=[grippe.pk])
    response = client.post(url) if name == "vaccination_delete" else client.get(url)
    assert response["Location"] == f"/connexion/?next={url}"
    assert Vaccination.objects.count() == 1


@pytest.mark.parametrize("name", PROFILE_URLS)
def test_a_professional_login_gets_not_found(as_durand, name):
    assert as_durand.get(reverse(f"portal:{name}")).status_code == 404
    assert as_durand.post(reverse("portal:vaccination_add"), form_data()).status_code == 404
    assert not Vaccination.objects.exists()


@pytest.mark.parametrize("name", [*ENTRY_URLS, "vaccination_delete"])
def test_a_professional_login_gets_not_found_on_an_entry(as_durand, grippe, name):
    url = reverse(f"portal:{name}", args=[grippe.pk])
    assert as_durand.post(url, form_data()).status_code == 404
    assert as_durand.get(url).status_code in (404, 405)
    grippe.refresh_from_db()
    assert grippe.vaccine_label == "VAXIGRIPTETRA"


@pytest.mark.parametrize("name", ENTRY_URLS)
def test_another_patient_gets_not_found_and_a_refused_trace(as_bob, bob, camille, grippe, name):
    response = as_bob.get(reverse(f"portal:{name}", args=[grippe.pk]))
    assert response.status_code == 404
    (row,) = traces(camille, TraceAction.CONSULT_VACCINATIONS, TraceOutcome.REFUSED)
    assert row.actor_id == bob.ins and row.reason


def test_another_patient_can_neither_change_nor_delete(as_bob, camille, grippe):
    url = reverse("portal:vaccination_edit", args=[grippe.pk])
    assert as_bob.post(url, form_data()).status_code == 404
    delete = reverse("portal:vaccination_delete", args=[grippe.pk])
    assert as_bob.post(delete).status_code == 404
    grippe.refresh_from_db()
    assert grippe.vaccine_label == "VAXIGRIPTETRA"
    assert traces(camille, TraceAction.UPDATE_VACCINATION, TraceOutcome.REFUSED)
    assert traces(camille, TraceAction.DELETE_VACCINATION, TraceOutcome.REFUSED)


def test_an_unknown_vaccination_is_the_same_not_found(as_camille, grippe):
    assert as_camille.get(reverse("portal:vaccination", args=[uuid.uuid4()])).status_code == 404


def test_bobs_carnet_never_shows_camilles(as_bob, bob, grippe):
    html = page(as_bob.get(reverse("portal:vaccinations")))
    assert "VAXIGRIPTETRA" not in html and "J'ajoute mes vaccinations" in html
    assert traces(bob, TraceAction.CONSULT_VACCINATIONS)


# --- the carnet -----------------------------------------------------------------------------


def test_the_carnet_shows_what_is_done_and_what_is_due(as_camille, camille, grippe, rappel):
    html = page(as_camille.get(reverse("portal:vaccinations")))
    assert '<h1 class="h2 mb-0">Mes vaccinations</h1>' in html
    assert "Je garde ici la trace de mes vaccinations" in html
    for label in (
        "Toutes les vaccinations",
        "Vaccinations obligatoires",
        "Vaccinations recommandées",
    ):
        assert label in html
    done = html.split('id="realisees-titre"')[1]
    assert "VAXIGRIPTETRA" in done and "ajoutée par Camille Lefèvre" in done
    assert "REVAXIS" in done and "ajoutée par Dr Anne Martin" in done
    assert done.count("Ajoutée par un professionnel") == 1
    due = html.split('id="a-realiser-titre"')[1].split('id="realisees-titre"')[0]
    assert "Rougeole, oreillons, rubéole : rattrapage – 1re dose" in due
    assert "À faire dès maintenant" in due and "Recommandée" in due
    assert "S:16" in html and "Santé publique France" in html
    assert "Télécharger la synthèse de mes vaccinations" in html
    (row,) = traces(camille, TraceAction.CONSULT_VACCINATIONS)
    assert row.actor_id == camille.ins


def test_the_filter_keeps_mandatory_or_recommended_vaccinations(as_camille, camille, lina):
    show(as_camille, lina)
    actions.vaccination_add(
        actor=citizen_actor(camille),
        patient_id=lina.pk,
        vaccine_code="HEXYON",
        vaccination_date=date(2026, 10, 1),
    )
    url = reverse("portal:vaccinations")
    everything = page(as_camille.get(url))
    assert "Les vaccinations de Lina" in everything
    assert "Rotavirus" in everything and "Méningocoque B" in everything
    mandatory = page(as_camille.get(url, {"niveau": "obligatoires"}))
    due = mandatory.split('id="a-realiser-titre"')[1].split('id="realisees-titre"')[0]
    assert "Méningocoque B – 1re dose" in due and "Rotavirus" not in due
    assert ">Obligatoire</span>" in due and ">Recommandée</span>" not in due
    assert "HEXYON" in mandatory.split('id="realisees-titre"')[1]
    recommended = page(as_camille.get(url, {"niveau": "recommandees"}))
    due = recommended.split('id="a-realiser-titre"')[1].split('id="realisees-titre"')[0]
    assert "Méningocoque B – 1re dose" not in due and "Rotavirus (vaccin oral) – 1re dose" in due
    assert "HEXYON" not in recommended.split('id="realisees-titre"')[1]
    assert 'aria-current="page">Vaccinations recommandées' in recommended
    # An unknown filter shows everything.
    assert "Rotavirus" in page(as_camille.get(url, {"niveau": "autre"}))


def test_a_parent_sees_her_sons_carnet_and_what_he_is_due(as_camille, camille, louis):
    show(as_camille, louis)
    html = page(as_camille.get(reverse("portal:vaccinations")))
    assert "Les vaccinations de Louis" in html and "Mes vaccinations" not in html
    assert "Vous gardez ici la trace des vaccinations de Louis" in html
    assert "Télécharger la synthèse de ses vaccinations" in html
    due = html.split('id="a-realiser-titre"')[1].split('id="realisees-titre"')[0]
    # 11 years old: HPV, the 11-13 booster, ACWY for adolescents; flu during the campaign.
    assert "Papillomavirus (HPV) – 1re dose" in due
    assert "Rappel diphtérie, tétanos, coqueluche, poliomyélite – Rappel" in due
    assert "Méningocoques A, C, W et Y : adolescents" in due
    assert "Grippe saisonnière – Saison 2026-2027" in due
    assert "Ajoutez les vaccinations de Louis" in html
    (row,) = traces(louis, TraceAction.CONSULT_VACCINATIONS)
    assert row.acting_citizen_id == camille.pk


def test_a_notification_link_opens_the_childs_carnet(as_camille, camille, louis, dr_martin):
    actions.vaccination_record_by_professional(
        actor=pro(dr_martin),
        patient_id=louis.pk,
        vaccine_code="GARDASIL_9",
        vaccination_date=date(2026, 10, 1),
    )
    link = louis.notifications.get().url
    html = page(as_camille.get(link))
    assert "Les vaccinations de Louis" in html and "GARDASIL 9" in html
    # Bob cannot use such a link to reach Louis: his own carnet is shown.
    assert str(louis.pk) in link


def test_a_profile_link_to_someone_else_is_ignored(client, bob, louis):
    client.force_login(bob.user)
    html = page(client.get(f"{reverse('portal:vaccinations')}?profil={louis.pk}"))
    assert "Mes vaccinations" in html
    assert not traces(louis, TraceAction.CONSULT_VACCINATIONS)


# --- adding ---------------------------------------------------------------------------------


def test_the_add_form_offers_the_vaccine_list_and_labels_every_field(as_camille, dr_martin):
    html = page(as_camille.get(reverse("portal:vaccination_add")))
    assert (
        '<label class="form-label fw-semibold" for="id_vaccine">Nom de la maladie ou du vaccin'
        in html
    )
    assert '<optgroup label="Nourrissons et enfants">' in html
    assert '<optgroup label="Je ne connais pas le nom du vaccin">' in html
    assert '<option value="VAXIGRIPTETRA">VAXIGRIPTETRA (Grippe)</option>' in html
    assert "Première vaccination" in html and "Rappel de vaccination" in html
    assert "Je ne sais pas" in html
    assert "Lot du vaccin (facultatif)" in html and 'maxlength="100"' in html
    assert "Dr Anne Martin – " in html  # her authorised professionals, as vaccinators
    assert 'maxlength="3000"' in html


def test_camille_adds_a_vaccination(as_camille, camille):
    response = as_camille.post(reverse("portal:vaccination_add"), form_data())
    v = Vaccination.objects.get()
    assert response["Location"] == reverse("portal:vaccination", args=[v.pk])
    assert v.vaccine_label == "BOOSTRIXTETRA" and v.lot == "LOT-42"
    assert v.vaccinator_name == "Dr Paul Simon" and v.source == "patient"
    html = page(as_camille.get(response["Location"]))
    assert "Vaccination ajoutée" in html and "Bras douloureux deux jours." in html
    assert "Diphtérie, Tétanos, Coqueluche, Poliomyélite" in html
    assert traces(camille, TraceAction.ADD_VACCINATION)


def test_camille_names_her_doctor_as_vaccinator(as_camille, camille, dr_martin):
    as_camille.post(
        reverse("portal:vaccination_add"),
        form_data(vaccinator=str(dr_martin.pk), vaccinator_name="ignoré"),
    )
    v = Vaccination.objects.get()
    assert v.vaccinator_id == dr_martin.pk and v.vaccinator_name == ""
    assert v.source == "patient"  # she recorded it: still hers to change


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"date": "2026-12-01"}, "La date de vaccination ne peut pas être dans le futur."),
        (
            {"date": "1980-01-01"},
            "La date de vaccination doit être postérieure à la date de naissance.",
        ),
        ({"date": ""}, "La date de vaccination est obligatoire."),
        ({"vaccine": "INCONNU"}, "Choisissez un vaccin ou une maladie dans la liste proposée."),
        ({"lot": "L" * 101}, "101"),
        ({"vaccinator_name": "Dr <b>"}, "Caractères refusés"),
    ],
)
def test_a_bad_vaccination_is_explained_and_not_stored(as_camille, change, error):
    html = page(as_camille.post(reverse("portal:vaccination_add"), form_data(**change)))
    assert "Le formulaire contient une erreur" in html and error in html
    assert "<title>Erreur – Ajouter une vaccination" in html
    assert not Vaccination.objects.exists()


def test_the_mother_adds_to_louis_after_switching(as_camille, camille, louis):
    show(as_camille, louis)
    html = page(as_camille.get(reverse("portal:vaccination_add")))
    assert "Ajouter une vaccination de Louis" in html
    as_camille.post(reverse("portal:vaccination_add"), form_data(date="2026-03-02"))
    assert Vaccination.objects.get().patient_id == louis.pk


# --- one vaccination ------------------------------------------------------------------------


def test_her_own_entry_can_be_edited_and_deleted(as_camille, camille, grippe):
    url = reverse("portal:vaccination", args=[grippe.pk])
    html = page(as_camille.get(url))
    assert "Modifier" in html and "Supprimer cette vaccination ?" in html
    assert "X1234" in html and "Rappel de vaccination" in html
    assert traces(camille, TraceAction.CONSULT_VACCINATIONS)[0].document_title == "VAXIGRIPTETRA"
    edit = page(as_camille.get(reverse("portal:vaccination_edit", args=[grippe.pk])))
    assert '<option value="VAXIGRIPTETRA" selected>' in edit and 'value="X1234"' in edit
    response = as_camille.post(
        reverse("portal:vaccination_edit", args=[grippe.pk]),
        form_data(vaccine="EFLUELDA", date="2025-10-21", lot=""),
    )
    assert response["Location"] == url
    grippe.refresh_from_db()
    assert grippe.vaccine_label == "EFLUELDA" and grippe.lot == ""
    response = as_camille.post(reverse("portal:vaccination_delete", args=[grippe.pk]))
    assert response["Location"] == reverse("portal:vaccinations")
    assert not Vaccination.objects.exists()
    assert traces(camille, TraceAction.DELETE_VACCINATION)


def test_an_edit_error_is_shown_on_the_form(as_camille, grippe):
    html = page(
        as_camille.post(
            reverse("portal:vaccination_edit", args=[grippe.pk]), form_data(date="2027-01-01")
        )
    )
    assert "ne peut pas être dans le futur" in html
    grippe.refresh_from_db()
    assert grippe.date == date(2025, 10, 20)


def test_a_professional_entry_is_read_only(as_camille, camille, rappel):
    url = reverse("portal:vaccination", args=[rappel.pk])
    html = page(as_camille.get(url))
    assert (
        "Vaccination ajoutée ou confirmée par Dr Anne Martin. Elle ne peut pas être modifiée ou "
        "supprimée." in html
    )
    assert "Supprimer cette vaccination ?" not in html
    assert reverse("portal:vaccination_edit", args=[rappel.pk]) not in html
    # Going to the edit page anyway explains why not.
    response = as_camille.get(reverse("portal:vaccination_edit", args=[rappel.pk]), follow=True)
    assert "Vous ne pouvez pas modifier cette vaccination" in page(response)
    response = as_camille.post(reverse("portal:vaccination_delete", args=[rappel.pk]), follow=True)
    assert (
        "Vous ne pouvez pas supprimer cette vaccination car elle a été ajoutée ou confirmée par "
        "un professionnel de santé." in page(response)
    )
    response = as_camille.post(
        reverse("portal:vaccination_edit", args=[rappel.pk]), form_data(), follow=True
    )
    assert "Vous ne pouvez pas modifier cette vaccination" in page(response)
    rappel.refresh_from_db()
    assert rappel.vaccine_label == "REVAXIS"
    assert traces(camille, TraceAction.DELETE_VACCINATION, TraceOutcome.REFUSED)
    assert traces(camille, TraceAction.UPDATE_VACCINATION, TraceOutcome.REFUSED)


def test_a_link_to_louis_entry_opens_his_profile(as_camille, camille, louis):
    v = actions.vaccination_add(
        actor=citizen_actor(camille),
        patient_id=louis.pk,
        vaccine_code="MAL_ROR",
        vaccination_date=date(2016, 3, 10),
    )
    html = page(as_camille.get(reverse("portal:vaccination", args=[v.pk])))
    assert "Vous consultez le profil de <strong>Louis Lefèvre</strong>" in html
    assert "Retour aux vaccinations de Louis" in html


# --- the synthesis --------------------------------------------------------------------------


def test_the_synthesis_is_an_attachment_and_traced(as_camille, camille, grippe):
    response = as_camille.get(reverse("portal:vaccination_synthesis"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="synthese-vaccinations-camille-lefevre.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    (row,) = traces(camille, TraceAction.DOWNLOAD_VACCINATIONS)
    assert row.actor_id == camille.ins


def test_the_synthesis_of_louis_for_his_mother(as_camille, camille, louis):
    show(as_camille, louis)
    response = as_camille.get(reverse("portal:vaccination_synthesis"))
    assert re.search(
        r'filename="synthese-vaccinations-louis-lefevre\.pdf"', response["Content-Disposition"]
    )
    (row,) = traces(louis, TraceAction.DOWNLOAD_VACCINATIONS)
    assert row.acting_citizen_id == camille.pk
