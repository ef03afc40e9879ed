"""Camille's Profil médical pages, and Louis's as his mother: every rubric added, changed and
deleted through the pages, the validation messages, and the denials (anonymous, a professional's
login, another patient's entry) with their traces."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_professional, pro
from mes.medical_profile import actions
from mes.medical_profile.dates import DateParts
from mes.medical_profile.inputs import AllergyInput, TreatmentInput
from mes.medical_profile.models import (
    Allergy,
    BloodGroup,
    Contact,
    LifestyleAnswer,
    NotConcerned,
    OrganDonationAcknowledgement,
    ProfileProfessional,
)
from mes.medical_profile.rubrics import MODELS, Rubric
from mes.portal.profile.urls import RUBRICS

TODAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

VALID = {
    Rubric.DISEASES: {"name": "Diabète de type 2", "ongoing": "on", "start_year": "2024"},
    Rubric.TREATMENTS: {"name": "Metformine", "start_year": "2024", "dosage": "1 le matin"},
    Rubric.HOSPITALIZATIONS: {
        "reason": "Appendicite",
        "admission_year": "2010",
        "admission_month": "7",
        "stay_length": "3",
        "stay_unit": "DAY",
    },
    Rubric.DISABILITIES: {"name": "Surdité partielle", "kinds": ["SENSORY"], "human_aid": "NO"},
    Rubric.ALLERGIES: {"name": "Pénicilline", "severity": "SEVERE", "reaction": "Urticaire"},
    Rubric.FAMILY_HISTORIES: {"name": "Diabète de type 1", "relative": "FATHER"},
    Rubric.CONTACTS: {
        "is_emergency": "on",
        "last_name": "Lefèvre",
        "first_name": "Paul",
        "link": "PARTNER",
        "phone1": "06 39 98 01 01",
        "address": "12 rue des Lilas",
        "postal_code": "75015",
        "city": "Paris",
    },
}
# The field whose value names the entry, and the toasts.
NAME_FIELD = {Rubric.HOSPITALIZATIONS: "reason", Rubric.CONTACTS: "first_name"}
ROUTES = {rubric: (list_name, item) for _, rubric, list_name, item in RUBRICS}


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY.date()


@pytest.fixture
def metformine(camille):
    return actions.entry_add(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        data=TreatmentInput(name="Metformine", start=DateParts(2024)),
    )


def url(name, *args):
    return reverse(f"portal:{name}", args=args)


def show(client, profile):
    assert client.post(url("switch_profile"), {"profile": str(profile.pk)}).status_code == 302


def traces(patient, action, outcome=TraceOutcome.ALLOWED):
    return list(
        Trace.objects.filter(patient_id=patient.pk, action=action, outcome=outcome).order_by("seq")
    )


PAGES = [
    "profile_identity",
    "profile_blood_group",
    "profile_professionals",
    "profile_organ_donation",
    "profile_lifestyle",
]
for _, _, list_name, item in RUBRICS:
    PAGES += [list_name, f"{item}_add"]
ENTRY_PAGES = [f"{item}_{op}" for _, _, _, item in RUBRICS for op in ("edit", "delete")]


# --- denials shared by every page ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["profile", *PAGES])
def test_anonymous_is_sent_to_login(client, db, name):
    target = url(name)
    assert client.get(target)["Location"] == f"/connexion/?next={target}"
    assert client.post(target, {"name": "x"})["Location"] == f"/connexion/?next={target}"


@pytest.mark.parametrize("name", ENTRY_PAGES)
def test_anonymous_is_sent_to_login_from_entry_pages(client, metformine, name):
    target = url(name, metformine.pk)
    assert client.post(target)["Location"] == f"/connexion/?next={target}"


@pytest.mark.parametrize("name", ["profile", *PAGES])
def test_a_professional_login_gets_not_found(as_durand, camille, name):
    assert as_durand.get(url(name)).status_code == 404
    assert as_durand.post(url(name), {"name": "Intrus", "value": "APOS"}).status_code == 404
    assert not Allergy.objects.exists() and not BloodGroup.objects.exists()


@pytest.mark.parametrize("name", ENTRY_PAGES)
def test_a_professional_login_cannot_reach_an_entry(as_durand, metformine, name):
    assert as_durand.get(url(name, metformine.pk)).status_code == 404
    assert as_durand.post(url(name, metformine.pk)).status_code == 404
    metformine.refresh_from_db()
    # The view refused before any policy ran: nothing to trace.
    assert not Trace.objects.filter(outcome=TraceOutcome.REFUSED).exists()


@pytest.mark.parametrize("op", ["edit", "delete"])
def test_another_patients_entry_is_not_found_and_traced(as_bob, bob, camille, metformine, op):
    target = url(f"profile_treatment_{op}", metformine.pk)
    assert as_bob.get(target).status_code == 404
    assert as_bob.post(target, VALID[Rubric.TREATMENTS]).status_code == 404
    metformine.refresh_from_db()
    assert metformine.name == "Metformine" and metformine.dosage == ""
    refused = Trace.objects.filter(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert refused.count() == 2 and {r.actor_id for r in refused} == {bob.ins}


def test_an_entry_id_of_another_rubric_is_not_found(as_camille, metformine):
    assert as_camille.get(url("profile_allergy_edit", metformine.pk)).status_code == 404
    assert as_camille.get(url("profile_disease_delete", uuid.uuid4())).status_code == 404


# --- every rubric, end to end -------------------------------------------------------------------


@pytest.mark.parametrize("rubric", list(Rubric))
def test_camille_adds_edits_and_deletes_an_entry(as_camille, camille, rubric):
    list_name, item = ROUTES[rubric]
    model = MODELS[rubric]
    data = VALID[rubric]
    assert as_camille.get(url(f"{item}_add")).status_code == 200

    response = as_camille.post(url(f"{item}_add"), data, follow=True)
    assert response.redirect_chain[-1][0] == url(list_name)
    entry = model._default_manager.get(patient=camille)
    name_field = NAME_FIELD.get(rubric, "name")
    page = unescape(response.content.decode())
    assert data[name_field] in page and "ajouté" in page
    add_action = (
        TraceAction.ADD_CONTACT if rubric is Rubric.CONTACTS else TraceAction.ADD_PROFILE_ENTRY
    )
    assert traces(camille, add_action)

    edit = as_camille.get(url(f"{item}_edit", entry.pk))
    assert edit.status_code == 200 and f'value="{data[name_field]}"' in unescape(
        edit.content.decode()
    )
    changed = {**data, name_field: "Nouveau nom"}
    response = as_camille.post(url(f"{item}_edit", entry.pk), changed, follow=True)
    assert "modifié" in unescape(response.content.decode())
    entry.refresh_from_db()
    assert getattr(entry, name_field) == "Nouveau nom"

    confirm = unescape(as_camille.get(url(f"{item}_delete", entry.pk)).content.decode())
    assert "Supprimer ce" in confirm and "définitivement" in confirm
    response = as_camille.post(url(f"{item}_delete", entry.pk), follow=True)
    assert "supprimé" in unescape(response.content.decode())
    assert not model._default_manager.exists()
    delete_action = (
        TraceAction.DELETE_CONTACT
        if rubric is Rubric.CONTACTS
        else TraceAction.DELETE_PROFILE_ENTRY
    )
    assert traces(camille, delete_action)


@pytest.mark.parametrize("rubric", [r for r in Rubric if r is not Rubric.CONTACTS])
def test_the_empty_state_and_i_have_nothing_to_add(as_camille, camille, rubric):
    list_name, item = ROUTES[rubric]
    page = unescape(as_camille.get(url(list_name)).content.decode())
    assert "J'ajoute mes" in page and "Je n'ai pas" in page
    response = as_camille.post(url(f"{item}_none"), follow=True)
    page = unescape(response.content.decode())
    assert "J'ai déclaré ne pas avoir" in page and "le 10/03/2026" in page
    assert NotConcerned.objects.get(patient=camille).section == rubric.value
    # Adding an entry ends the declaration.
    as_camille.post(url(f"{item}_add"), VALID[rubric])
    assert not NotConcerned.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "start_year": "2024"}, "Le champ « Nom du traitement » est obligatoire."),
        ({"name": "x" * 51, "start_year": "2024"}, "ne doit pas dépasser 50 caractères"),
        ({"name": "Dafalgan !", "start_year": "2024"}, "Caractères refusés"),
        ({"name": "Dafalgan"}, "Saisissez au moins l'année de « Date de début »."),
        ({"name": "Dafalgan", "start_year": "1970"}, "postérieure à la date de naissance"),
        ({"name": "Dafalgan", "start_year": "2027"}, "ne peut pas être dans le futur"),
        ({"name": "Dafalgan", "start_year": "deux"}, "doit être un nombre"),
        ({"name": "Dafalgan", "start_year": "2024", "dosage": "x" * 1001}, "1000 caractères"),
        ({"name": "Dafalgan", "start_year": "2024", "comment": "x" * 3001}, "3000 caractères"),
    ],
)
def test_validation_messages(as_camille, camille, data, message):
    response = as_camille.post(url("profile_treatment_add"), data)
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Le formulaire contient une erreur" in page and message in page
    assert "<title>Erreur –" in page
    assert not MODELS[Rubric.TREATMENTS]._default_manager.exists()
    assert not traces(camille, TraceAction.ADD_PROFILE_ENTRY)


def test_a_disease_links_a_treatment_already_entered(as_camille, camille, metformine):
    page = unescape(as_camille.get(url("profile_disease_add")).content.decode())
    assert "Metformine" in page
    data = {**VALID[Rubric.DISEASES], "treatments": [str(metformine.pk)]}
    as_camille.post(url("profile_disease_add"), data)
    disease = MODELS[Rubric.DISEASES]._default_manager.get()
    assert list(disease.treatments.all()) == [metformine]
    page = unescape(as_camille.get(url("profile_treatments")).content.decode())
    assert "Maladie associée" in page and "Diabète de type 2" in page


def test_what_a_professional_added_is_shown_read_only(as_camille, camille, dr_martin):
    allergy = actions.entry_add(
        actor=pro(dr_martin), patient_id=camille.pk, data=AllergyInput(name="Iode")
    )
    page = unescape(as_camille.get(url("profile_allergies")).content.decode())
    assert "Ajouté par Dr Anne Martin" in page
    assert url("profile_allergy_edit", allergy.pk) not in page
    assert as_camille.get(url("profile_allergy_edit", allergy.pk)).status_code == 404
    assert as_camille.post(url("profile_allergy_delete", allergy.pk)).status_code == 404
    assert Allergy.objects.filter(pk=allergy.pk).exists()
    rows = traces(camille, TraceAction.CONSULT_PROFILE, TraceOutcome.REFUSED)
    assert rows and rows[0].reason == "ajouté par un tiers : non modifiable"


# --- a parent for her child ---------------------------------------------------------------------


def test_a_parent_fills_in_her_childs_profile_in_the_third_person(as_camille, camille, louis):
    show(as_camille, louis)
    page = unescape(as_camille.get(url("profile_allergies")).content.decode())
    assert "J'ajoute les allergies de Louis" in page
    assert "Louis n'a pas d'allergie à ajouter" in page
    as_camille.post(url("profile_allergy_add"), {"name": "Arachide"})
    allergy = Allergy.objects.get()
    assert allergy.patient == louis
    row = traces(louis, TraceAction.ADD_PROFILE_ENTRY)[-1]
    assert row.acting_citizen_id == camille.pk
    home = unescape(as_camille.get(url("profile_entourage")).content.decode())
    assert "M'ajouter comme contact d'urgence" in home
    form = unescape(as_camille.get(url("profile_contact_add") + "?moi=1").content.decode())
    assert 'value="Camille"' in form and 'value="MOTHER" selected' in form


def test_a_parent_declares_her_child_has_nothing_to_add(as_camille, louis):
    show(as_camille, louis)
    page = unescape(as_camille.post(url("profile_disease_none"), follow=True).content.decode())
    assert "J'ai déclaré que Louis n'a pas de maladie" in page


def test_an_entry_of_the_child_opened_from_the_own_profile_switches_profile(
    as_camille, camille, louis
):
    allergy = actions.entry_add(
        actor=citizen_actor(camille), patient_id=louis.pk, data=AllergyInput(name="Arachide")
    )
    page = unescape(as_camille.get(url("profile_allergy_edit", allergy.pk)).content.decode())
    assert "Vous consultez le profil de" in page and "Louis" in page


# --- one-value rubrics and the other screens ----------------------------------------------------


def test_blood_group(as_camille, camille):
    response = as_camille.post(url("profile_blood_group"), {"value": "ONEG"}, follow=True)
    assert "Groupe sanguin enregistré" in unescape(response.content.decode())
    assert str(BloodGroup.objects.get(patient=camille)) == "O−"
    page = unescape(as_camille.post(url("profile_blood_group"), {"value": "X"}).content.decode())
    assert "Le formulaire contient une erreur" in page
    as_camille.post(url("profile_blood_group_delete"))
    assert not BloodGroup.objects.exists()
    assert traces(camille, TraceAction.DELETE_PROFILE_ENTRY)[0].document_title == "Groupe sanguin"


def test_a_blood_group_set_by_a_professional_is_not_offered_for_change(
    as_camille, camille, dr_martin
):
    actions.blood_group_set(actor=pro(dr_martin), patient_id=camille.pk, value="APOS")
    page = unescape(as_camille.get(url("profile_blood_group")).content.decode())
    assert "Ajouté par Dr Anne Martin" in page and 'name="value"' not in page
    page = unescape(as_camille.post(url("profile_blood_group"), {"value": "BPOS"}).content.decode())
    assert "ne peut pas être modifié" in page
    assert BloodGroup.objects.get().value == "APOS"


def test_organ_donation(as_camille, camille):
    page = unescape(as_camille.get(url("profile_organ_donation")).content.decode())
    assert "consentement présumé" in page
    as_camille.post(url("profile_organ_donation"), {"acknowledged": "on"})
    ack = OrganDonationAcknowledgement.objects.get(patient=camille)
    assert ack.acknowledged_on == TODAY.date()
    assert "Déclaration enregistrée le 10/03/2026" in unescape(
        as_camille.get(url("profile_organ_donation")).content.decode()
    )
    as_camille.post(url("profile_organ_donation"), {})
    assert not OrganDonationAcknowledgement.objects.exists()
    assert len(traces(camille, TraceAction.ORGAN_DONATION)) == 2


def test_one_personne_de_confiance_only(as_camille, camille):
    as_camille.post(url("profile_contact_add"), {**VALID[Rubric.CONTACTS], "is_trusted": "on"})
    page = unescape(as_camille.get(url("profile_entourage")).content.decode())
    assert "Une seule personne de confiance" in page
    data = {**VALID[Rubric.CONTACTS], "first_name": "Marie", "is_trusted": "on"}
    page = unescape(as_camille.post(url("profile_contact_add"), data).content.decode())
    assert "retirez d'abord ce rôle à Paul Lefèvre" in page
    assert Contact.objects.count() == 1
    page = unescape(
        as_camille.post(
            url("profile_contact_add"), {**VALID[Rubric.CONTACTS], "is_emergency": ""}
        ).content.decode()
    )
    assert "Choisissez au moins un rôle pour ce contact." in page


def test_professionals_search_add_role_and_remove(as_camille, camille, dr_martin):
    sf = make_professional("10000000050", "Inès", "Leroy", "50")
    page = unescape(as_camille.get(url("profile_professionals")).content.decode())
    assert "Dr Anne Martin" in page and "Déclaré à l'Assurance Maladie" in page
    page = as_camille.get(url("profile_professionals") + "?nom=leroy&commune=&profession=")
    assert "Inès Leroy" in unescape(page.content.decode())
    page = as_camille.get(url("profile_professionals") + "?nom=&commune=&profession=").content
    assert "Saisissez au moins un champ." in page.decode()
    as_camille.post(url("profile_professionals"), {"op": "add", "professional": str(sf.pk)})
    entry = ProfileProfessional.objects.get(patient=camille)
    page = unescape(as_camille.get(url("profile_professionals")).content.decode())
    assert "Attribuer le rôle de sage-femme référente" in page
    response = as_camille.post(
        url("profile_professionals"),
        {"op": "role", "entry": str(entry.pk), "role": "MIDWIFE"},
        follow=True,
    )
    assert "Rôle de sage-femme référente attribué" in unescape(response.content.decode())
    assert as_camille.get(url("profile_professional_delete", entry.pk)).status_code == 200
    as_camille.post(url("profile_professional_delete", entry.pk))
    assert not ProfileProfessional.objects.exists()


def test_another_patient_cannot_change_the_professionals_list(as_bob, camille, dr_durand):
    entry = actions.profile_professional_add(
        actor=citizen_actor(camille), patient_id=camille.pk, professional_id=dr_durand.pk
    )
    assert as_bob.get(url("profile_professional_delete", entry.pk)).status_code == 404
    assert as_bob.post(url("profile_professional_delete", entry.pk)).status_code == 404
    response = as_bob.post(
        url("profile_professionals"), {"op": "role", "entry": str(entry.pk), "role": ""}
    )
    # Bob acts on his own profile: the entry is not in it.
    assert response.status_code == 404
    assert ProfileProfessional.objects.filter(pk=entry.pk).exists()


def test_lifestyle(as_camille, camille):
    page = unescape(as_camille.get(url("profile_lifestyle")).content.decode())
    assert "Non renseignée" in page and "Tabac" in page
    section = url("profile_lifestyle_section", "TOBACCO")
    page = unescape(
        as_camille.post(
            section, {"TOBACCO_MANUAL": "EVERYDAY", "TOBACCO_MANUAL_COUNT": "120"}
        ).content.decode()
    )
    assert "Seules les valeurs entre 1 et 99 sont acceptées." in page
    response = as_camille.post(
        section, {"TOBACCO_MANUAL": "EVERYDAY", "TOBACCO_MANUAL_COUNT": "12"}, follow=True
    )
    page = unescape(response.content.decode())
    assert "Habitudes de vie enregistrées" in page and "Mis à jour le 10/03/2026" in page
    assert LifestyleAnswer.objects.filter(patient=camille).count() == 2
    page = unescape(as_camille.get(section).content.decode())
    assert "Historique des réponses" in page
    delete = url("profile_lifestyle_delete", "TOBACCO", "TOBACCO_MANUAL")
    assert "Supprimer cette réponse ?" in unescape(as_camille.get(delete).content.decode())
    as_camille.post(delete)
    assert not LifestyleAnswer.objects.exists()
    assert as_camille.get(url("profile_lifestyle_section", "HOBBIES")).status_code == 404
    assert (
        as_camille.get(url("profile_lifestyle_delete", "FOOD", "TOBACCO_MANUAL")).status_code == 404
    )


def test_lifestyle_for_a_child_speaks_of_the_child(as_camille, louis):
    show(as_camille, louis)
    page = unescape(as_camille.get(url("profile_lifestyle_section", "FOOD")).content.decode())
    assert "Louis a l'habitude de manger des fruits et légumes" in page


def test_identity_card(as_camille, camille):
    page = unescape(as_camille.get(url("profile_identity")).content.decode())
    assert camille.ins in page and "Lefèvre" in page and "14/05/1985" in page
    assert traces(camille, TraceAction.CONSULT_PROFILE)[0].document_title == (
        "Identité nationale de santé"
    )


def test_the_home_page_shows_what_each_rubric_holds(as_camille, camille, metformine, dr_martin):
    actions.declare_not_concerned(
        actor=citizen_actor(camille), patient_id=camille.pk, rubric=Rubric.ALLERGIES
    )
    response = as_camille.get(url("profile"))
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "1 traitement" in page and "Rien à ajouter (déclaré le 10/03/2026)" in page
    assert "Médecin traitant : Dr Anne Martin" in page
    assert reverse("portal:synthesis") in page and reverse("portal:measures") in page
    assert 'aria-current="page">Profil médical' in page
    assert traces(camille, TraceAction.CONSULT_PROFILE)[-1].document_title == "Profil médical"


def test_the_home_page_of_a_child_has_no_directives(as_camille, louis):
    show(as_camille, louis)
    page = unescape(as_camille.get(url("profile")).content.decode())
    assert "Profil médical de Louis" in page and "ne s'appliquent pas aux mineurs" in page
