"""Camille fills in her profil médical, and Louis's as his mother; professionals add what they
may; every change and every refusal leaves its trace."""

from __future__ import annotations

import uuid

import pytest

from mes.access.actors import citizen_actor
from mes.access.models import ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import InvalidInput, NotFound
from mes.medical_profile import actions
from mes.medical_profile.dates import DateParts
from mes.medical_profile.inputs import (
    AllergyInput,
    ContactInput,
    DisabilityInput,
    DiseaseInput,
    FamilyHistoryInput,
    HospitalisationInput,
    TreatmentInput,
)
from mes.medical_profile.models import (
    Allergy,
    BloodGroup,
    Contact,
    Disease,
    NotConcerned,
    Source,
    Treatment,
)
from mes.medical_profile.rubrics import Rubric

METFORMINE = TreatmentInput(
    name="Metformine 1000 mg",
    start=DateParts(2024, 2),
    ongoing=True,
    dosage="1 comprimé matin et soir",
)


def contact(**kw):
    data = {
        "last_name": "Lefèvre",
        "first_name": "Paul",
        "link": "PARTNER",
        "phone1": "06 39 98 01 01",
        "address": "12 rue des Lilas",
        "postal_code": "75015",
        "city": "Paris",
        "is_emergency": True,
    }
    data.update(kw)
    return ContactInput(**data)


def traces(patient, action=None, outcome=TraceOutcome.ALLOWED):
    qs = Trace.objects.filter(patient_id=patient.pk, outcome=outcome)
    if action:
        qs = qs.filter(action=action)
    return list(qs.order_by("seq"))


# --- adding, editing, deleting -----------------------------------------------------------------


def test_camille_adds_her_diabetes_with_its_treatment(camille, camille_actor, today):
    treatment = actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=METFORMINE)
    disease = actions.entry_add(
        actor=camille_actor,
        patient_id=camille.pk,
        data=DiseaseInput(
            name="Diabète de type 2",
            start=DateParts(2024, 1, 15),
            ongoing=True,
            comment="Découvert lors d'un bilan.",
            treatment_ids=(treatment.pk,),
        ),
    )
    assert isinstance(disease, Disease) and disease.source == Source.PATIENT
    assert disease.added_by == "Camille Lefèvre" and not disease.read_only
    assert disease.start.display() == "15/01/2024" and disease.end is None
    assert list(disease.treatments.all()) == [treatment]
    rows = traces(camille, TraceAction.ADD_PROFILE_ENTRY)
    assert [r.document_title for r in rows] == ["Traitements", "Maladies et sujets de santé"]
    assert rows[0].actor_id == camille.ins and rows[0].acting_citizen_id is None


def test_an_update_changes_the_entry_and_is_traced(camille, camille_actor, today):
    t = actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=METFORMINE)
    changed = TreatmentInput(
        name="Metformine 850 mg", start=DateParts(2024, 2), end=DateParts(2025, 1)
    )
    actions.entry_update(actor=camille_actor, entry_id=t.pk, data=changed)
    t.refresh_from_db()
    assert t.name == "Metformine 850 mg" and not t.ongoing and t.end.display() == "janvier 2025"
    assert traces(camille, TraceAction.UPDATE_PROFILE_ENTRY)[-1].document_title == "Traitements"


def test_deleting_a_disease_keeps_its_treatments(camille, camille_actor, today):
    t = actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=METFORMINE)
    d = actions.entry_add(
        actor=camille_actor,
        patient_id=camille.pk,
        data=DiseaseInput(name="Diabète", start=DateParts(2024), treatment_ids=(t.pk,)),
    )
    actions.entry_delete(actor=camille_actor, rubric=Rubric.DISEASES, entry_id=d.pk)
    assert not Disease.objects.exists() and Treatment.objects.filter(pk=t.pk).exists()
    row = traces(camille, TraceAction.DELETE_PROFILE_ENTRY)[-1]
    # The trace names the rubric, never the deleted content.
    assert row.document_title == "Maladies et sujets de santé"


@pytest.mark.parametrize(
    "data",
    [
        HospitalisationInput(
            reason="Appendicite", admission=DateParts(2010, 7), stay_length=5, stay_unit="DAY"
        ),
        DisabilityInput(name="Surdité partielle", kinds=("SENSORY",), human_aid="NO"),
        AllergyInput(name="Pénicilline", reaction="Urticaire", severity="SEVERE"),
        FamilyHistoryInput(name="Diabète de type 1", relative="FATHER"),
    ],
)
def test_every_rubric_takes_its_entry(camille, camille_actor, today, data):
    entry = actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=data)
    assert entry.patient == camille
    assert traces(camille, TraceAction.ADD_PROFILE_ENTRY)


# --- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (TreatmentInput(name="", start=DateParts(2024)), "name", "obligatoire"),
        (TreatmentInput(name="x" * 51, start=DateParts(2024)), "name", "50 caractères"),
        (TreatmentInput(name="Doliprane 1000 / jour", start=DateParts(2024)), "name", "refusés"),
        (
            TreatmentInput(name="Doliprane", start=DateParts(2024), dosage="x" * 1001),
            "dosage",
            "1000 caractères",
        ),
        (
            TreatmentInput(name="Doliprane", start=DateParts(2024), comment="x" * 3001),
            "comment",
            "3000 caractères",
        ),
        (TreatmentInput(name="Doliprane", start=DateParts()), "start_year", "l'année"),
        (TreatmentInput(name="Doliprane", start=DateParts(1980)), "start_year", "naissance"),
        (
            TreatmentInput(
                name="Doliprane", start=DateParts(2024), ongoing=True, end=DateParts(2025)
            ),
            "end_year",
            "en cours",
        ),
        (
            TreatmentInput(name="Doliprane", start=DateParts(2024, 5), end=DateParts(2024, 4)),
            "end_year",
            "postérieure à la date de début",
        ),
        (
            HospitalisationInput(
                reason="Appendicite", admission=DateParts(2010), stay_length=1000, stay_unit="DAY"
            ),
            "stay_length",
            "durée de séjour valide",
        ),
        (
            HospitalisationInput(reason="Appendicite", admission=DateParts(2010), stay_length=3),
            "stay_length",
            "durée de séjour valide",
        ),
        (FamilyHistoryInput(name="Asthme", relative=""), "relative", "lien familial"),
        (DisabilityInput(name="Cécité", kinds=("FLYING",)), "kinds", "type de handicap"),
        (AllergyInput(name="Arachide", severity="TERRIBLE"), "severity", "sévérité"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    camille, camille_actor, today, data, field, message
):
    with pytest.raises(InvalidInput) as err:
        actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=data)
    assert err.value.field == field and message in str(err.value)
    assert not Treatment.objects.exists()
    # The access trace rolled back with the rest: nothing happened.
    assert not Trace.objects.filter(patient_id=camille.pk).exists()


def test_only_the_patients_own_treatments_can_be_linked(camille, camille_actor, bob, today):
    bobs = actions.entry_add(actor=citizen_actor(bob), patient_id=bob.pk, data=METFORMINE)
    with pytest.raises(InvalidInput) as err:
        actions.entry_add(
            actor=camille_actor,
            patient_id=camille.pk,
            data=AllergyInput(name="Pénicilline", treatment_ids=(bobs.pk,)),
        )
    assert err.value.field == "treatments" and not Allergy.objects.exists()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"phone1": ""}, "phone1"),
        ({"phone1": "12345"}, "phone1"),
        ({"phone2": "06 12"}, "phone2"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"postal_code": "7501"}, "postal_code"),
        ({"address": ""}, "address"),
        ({"address": "x" * 101}, "address"),
        ({"city": "x" * 51}, "city"),
        ({"link": "COUSIN"}, "link"),
        ({"first_name": "Paul <b>"}, "first_name"),
        ({"is_emergency": False}, "roles"),
    ],
)
def test_contact_rules(camille, camille_actor, today, kw, field):
    with pytest.raises(InvalidInput) as err:
        actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=contact(**kw))
    assert err.value.field == field and not Contact.objects.exists()


def test_phone_numbers_are_kept_without_separators_and_abroad_needs_no_french_code(
    camille, camille_actor, today
):
    c = actions.entry_add(
        actor=camille_actor,
        patient_id=camille.pk,
        data=contact(
            phone1="+32 470 12 34 56", postal_code="B-1000", city="Bruxelles", country="Belgique"
        ),
    )
    assert c.phone1 == "+32470123456" and c.postal_code == "B-1000"
    assert traces(camille, TraceAction.ADD_CONTACT)[-1].document_title == "Entourage"


def test_one_contact_many_roles_but_one_personne_de_confiance(camille, camille_actor, today):
    paul = actions.entry_add(
        actor=camille_actor, patient_id=camille.pk, data=contact(is_trusted=True, is_caregiver=True)
    )
    assert paul.role_labels == ["Contact d'urgence", "Personne de confiance", "Proche aidant"]
    with pytest.raises(InvalidInput) as err:
        actions.entry_add(
            actor=camille_actor,
            patient_id=camille.pk,
            data=contact(first_name="Marie", is_trusted=True),
        )
    assert err.value.field == "is_trusted" and "Paul Lefèvre" in str(err.value)
    # Paul himself may keep the role when his card is edited.
    actions.entry_update(actor=camille_actor, entry_id=paul.pk, data=contact(is_trusted=True))
    assert traces(camille, TraceAction.UPDATE_CONTACT)


# --- « Je n'ai pas de … à ajouter » ------------------------------------------------------------


def test_not_concerned_is_dated_and_ends_with_the_first_entry(camille, camille_actor, today):
    declaration = actions.declare_not_concerned(
        actor=camille_actor, patient_id=camille.pk, rubric=Rubric.ALLERGIES
    )
    assert declaration.declared_on == today and declaration.section == "ALLERGIES"
    assert traces(camille, TraceAction.UPDATE_PROFILE_ENTRY)[-1].document_title == "Allergies"
    actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=AllergyInput(name="Latex"))
    assert not NotConcerned.objects.exists()
    with pytest.raises(InvalidInput):
        actions.declare_not_concerned(
            actor=camille_actor, patient_id=camille.pk, rubric=Rubric.ALLERGIES
        )


def test_the_entourage_has_no_not_concerned_declaration(camille, camille_actor):
    with pytest.raises(InvalidInput):
        actions.declare_not_concerned(
            actor=camille_actor, patient_id=camille.pk, rubric=Rubric.CONTACTS
        )


# --- who may ------------------------------------------------------------------------------------


def test_a_parent_fills_in_her_childs_profile(camille, louis, camille_actor, today):
    allergy = actions.entry_add(
        actor=camille_actor, patient_id=louis.pk, data=AllergyInput(name="Arachide")
    )
    assert allergy.patient == louis and allergy.source == Source.PATIENT
    row = traces(louis, TraceAction.ADD_PROFILE_ENTRY)[-1]
    assert row.actor_id == camille.ins and row.acting_citizen_id == camille.pk


def test_another_patient_gets_not_found_and_a_refused_trace(camille, camille_actor, bob, today):
    t = actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=METFORMINE)
    bob_actor = citizen_actor(bob)
    with pytest.raises(NotFound):
        actions.entry_update(actor=bob_actor, entry_id=t.pk, data=METFORMINE)
    with pytest.raises(NotFound):
        actions.entry_delete(actor=bob_actor, rubric=Rubric.TREATMENTS, entry_id=t.pk)
    with pytest.raises(NotFound):
        actions.entry_add(actor=bob_actor, patient_id=camille.pk, data=METFORMINE)
    refused = traces(camille, outcome=TraceOutcome.REFUSED)
    assert [r.action for r in refused] == [
        TraceAction.UPDATE_PROFILE_ENTRY,
        TraceAction.DELETE_PROFILE_ENTRY,
        TraceAction.ADD_PROFILE_ENTRY,
    ]
    assert all(r.actor_id == bob.ins and r.reason for r in refused)
    assert Treatment.objects.get().name == "Metformine 1000 mg"


def test_an_unknown_entry_is_the_same_not_found(camille_actor, today):
    with pytest.raises(NotFound):
        actions.entry_delete(actor=camille_actor, rubric=Rubric.TREATMENTS, entry_id=uuid.uuid4())
    row = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert row.patient_id is None and row.reason == "entrée inconnue"


def test_what_a_professional_adds_is_read_only_for_the_citizen(
    camille, camille_actor, dr_martin, today
):
    group = actions.blood_group_set(actor=pro(dr_martin), patient_id=camille.pk, value="OPOS")
    allergy = actions.entry_add(
        actor=pro(dr_martin), patient_id=camille.pk, data=AllergyInput(name="Iode")
    )
    assert group.read_only and allergy.read_only and allergy.added_by == "Dr Anne Martin"
    with pytest.raises(NotFound):
        actions.entry_update(
            actor=camille_actor, entry_id=allergy.pk, data=AllergyInput(name="Rien")
        )
    with pytest.raises(NotFound):
        actions.entry_delete(actor=camille_actor, rubric=Rubric.ALLERGIES, entry_id=allergy.pk)
    with pytest.raises(InvalidInput):
        actions.blood_group_set(actor=camille_actor, patient_id=camille.pk, value="APOS")
    with pytest.raises(InvalidInput):
        actions.blood_group_delete(actor=camille_actor, patient_id=camille.pk)
    refused = traces(camille, outcome=TraceOutcome.REFUSED)
    assert {r.reason for r in refused} == {"ajouté par un tiers : non modifiable"}
    assert BloodGroup.objects.get().value == "OPOS" and Allergy.objects.get().name == "Iode"
    added = traces(camille, TraceAction.ADD_PROFILE_ENTRY)[-1]
    assert added.actor_id == dr_martin.national_id and added.profession == "10"


def test_a_blocked_professional_adds_nothing(camille, dr_martin, today):
    ProfessionalAccess.objects.filter(professional=dr_martin).update(
        status=ProfessionalAccess.Status.BLOCKED
    )
    with pytest.raises(NotFound):
        actions.entry_add(
            actor=pro(dr_martin), patient_id=camille.pk, data=AllergyInput(name="Iode")
        )
    row = traces(camille, outcome=TraceOutcome.REFUSED)[-1]
    assert row.action == TraceAction.ADD_PROFILE_ENTRY and "bloqué" in row.reason
    assert not Allergy.objects.exists()


def test_a_professional_cannot_change_the_citizens_entries(
    camille, camille_actor, dr_martin, today
):
    t = actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=METFORMINE)
    with pytest.raises(NotFound):
        actions.entry_update(actor=pro(dr_martin), entry_id=t.pk, data=METFORMINE)
    with pytest.raises(NotFound):
        actions.organ_donation_set(actor=pro(dr_martin), patient_id=camille.pk, acknowledged=True)
    assert len(traces(camille, outcome=TraceOutcome.REFUSED)) == 2


# --- one-value rubrics ----------------------------------------------------------------------------


def test_blood_group_is_one_value(camille, camille_actor, today):
    actions.blood_group_set(actor=camille_actor, patient_id=camille.pk, value="APOS")
    actions.blood_group_set(actor=camille_actor, patient_id=camille.pk, value="ANEG")
    assert [str(g) for g in BloodGroup.objects.all()] == ["A−"]
    with pytest.raises(InvalidInput):
        actions.blood_group_set(actor=camille_actor, patient_id=camille.pk, value="Z")
    actions.blood_group_delete(actor=camille_actor, patient_id=camille.pk)
    assert not BloodGroup.objects.exists()
    assert traces(camille, TraceAction.DELETE_PROFILE_ENTRY)[-1].document_title == "Groupe sanguin"


def test_organ_donation_acknowledgement_is_dated_and_traced(camille, camille_actor, today):
    ack = actions.organ_donation_set(actor=camille_actor, patient_id=camille.pk, acknowledged=True)
    assert ack.acknowledged_on == today
    assert (
        actions.organ_donation_set(actor=camille_actor, patient_id=camille.pk, acknowledged=False)
        is None
    )
    rows = traces(camille, TraceAction.ORGAN_DONATION)
    assert len(rows) == 2 and rows[0].document_title == "Don d'organes"
