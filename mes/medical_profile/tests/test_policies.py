"""Who reaches the profil médical: the citizen side for all of it; professionals only the
Entourage et volontés (DESIGN.md §4). Every outcome is traced."""

from __future__ import annotations

import uuid

import pytest

from mes.access.actions import emergency_access_open
from mes.access.actors import AccessMode, citizen_actor
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import NotFound
from mes.medical_profile import actions, policies
from mes.medical_profile.inputs import AllergyInput, ContactInput
from mes.medical_profile.rubrics import Rubric


@pytest.fixture
def isabelle_contact(camille, camille_actor):
    return actions.entry_add(
        actor=camille_actor,
        patient_id=camille.pk,
        data=ContactInput(
            last_name="Lefèvre",
            first_name="Isabelle",
            link="MOTHER",
            phone1="0639980103",
            address="3 place des Glycines",
            postal_code="75015",
            city="Paris",
            is_trusted=True,
        ),
    )


def refused(patient):
    return list(
        Trace.objects.filter(patient_id=patient.pk, outcome=TraceOutcome.REFUSED).order_by("seq")
    )


def test_the_holder_reads_a_rubric_and_it_is_traced(camille, camille_actor):
    actions.entry_add(actor=camille_actor, patient_id=camille.pk, data=AllergyInput(name="Latex"))
    page = policies.rubric_entries(camille_actor, camille.pk, Rubric.ALLERGIES)
    assert [a.name for a in page.entries] == ["Latex"] and page.not_concerned is None
    row = Trace.objects.filter(action=TraceAction.CONSULT_PROFILE).get()
    assert row.document_title == "Allergies" and row.actor_id == camille.ins


def test_a_legal_representative_reads_the_childs_profile(camille, louis, camille_actor):
    assert policies.access_profile(camille_actor, louis.pk, write=False) == louis
    row = Trace.objects.get(patient_id=louis.pk)
    assert row.action == TraceAction.CONSULT_PROFILE and row.acting_citizen_id == camille.pk


def test_a_representation_that_ended_gives_nothing(camille, louis, camille_actor):
    from django.utils import timezone

    louis.representative_links.update(ended_at=timezone.now())
    with pytest.raises(NotFound):
        policies.access_profile(camille_actor, louis.pk, write=False)
    assert refused(louis)[0].actor_id == camille.ins


@pytest.mark.parametrize("write", [False, True])
def test_no_professional_reaches_the_rest_of_the_profile(camille, dr_martin, write):
    # Not even the médecin traitant: the synthèse saved as a document is their way in.
    with pytest.raises(NotFound):
        policies.access_profile(pro(dr_martin), camille.pk, write=write)
    row = refused(camille)[0]
    expected = TraceAction.UPDATE_PROFILE_ENTRY if write else TraceAction.CONSULT_PROFILE
    assert row.action == expected and row.actor_id == dr_martin.national_id


def test_another_patient_and_an_unknown_dossier_are_the_same_not_found(camille, bob):
    with pytest.raises(NotFound):
        policies.access_profile(citizen_actor(bob), camille.pk, write=False)
    with pytest.raises(NotFound):
        policies.access_profile(citizen_actor(bob), uuid.uuid4(), write=False)
    assert refused(camille)[0].actor_id == bob.ins
    assert Trace.objects.filter(patient_id__isnull=True, outcome=TraceOutcome.REFUSED).exists()


# --- Entourage et volontés for professionals ----------------------------------------------------


def test_an_authorised_professional_sees_the_entourage(camille, ide_bernard, isabelle_contact):
    contacts = list(policies.entourage_visible_to(pro(ide_bernard), camille.pk))
    assert contacts == [isabelle_contact]
    row = Trace.objects.get(action=TraceAction.CONSULT_ENTOURAGE)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == ide_bernard.national_id
    assert row.profession == "60" and row.matrix_version and row.document_title == "Entourage"


def test_the_treating_physician_sees_the_entourage(camille, dr_martin, isabelle_contact):
    assert list(policies.entourage_visible_to(pro(dr_martin), camille.pk)) == [isabelle_contact]


def test_a_professional_without_consent_gets_not_found_and_a_refused_trace(
    camille, dr_durand, isabelle_contact
):
    with pytest.raises(NotFound):
        policies.entourage_visible_to(pro(dr_durand), camille.pk)
    row = refused(camille)[0]
    assert row.action == TraceAction.CONSULT_ENTOURAGE and row.actor_id == dr_durand.national_id
    assert row.reason == "aucune autorisation d'accès"


def test_a_blocked_professional_gets_not_found(camille, ide_bernard, isabelle_contact):
    ProfessionalAccess.objects.filter(professional=ide_bernard).update(status="blocked")
    with pytest.raises(NotFound):
        policies.entourage_visible_to(pro(ide_bernard), camille.pk)
    assert "bloqué" in refused(camille)[0].reason


def test_break_glass_opens_the_entourage_unless_the_patient_opposed(
    camille, dr_durand, isabelle_contact
):
    emergency = pro(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Patiente inconsciente")
    emergency_access_open(actor=emergency, patient_id=camille.pk)
    assert list(policies.entourage_visible_to(emergency, camille.pk)) == [isabelle_contact]
    row = Trace.objects.filter(action=TraceAction.CONSULT_ENTOURAGE).get()
    assert row.access_mode == "bris_de_glace" and row.justification == "Patiente inconsciente"
    PrivacySettings.objects.filter(patient=camille).update(oppose_break_glass=True)
    with pytest.raises(NotFound):
        policies.entourage_visible_to(emergency, camille.pk)


def test_the_holder_also_sees_her_entourage_this_way(camille, camille_actor, isabelle_contact):
    assert list(policies.entourage_visible_to(camille_actor, camille.pk)) == [isabelle_contact]


def test_an_unknown_patient_is_not_found(dr_martin):
    with pytest.raises(NotFound):
        policies.entourage_visible_to(pro(dr_martin), uuid.uuid4())


def test_the_organ_donation_declaration_follows_the_same_rule(
    camille, camille_actor, ide_bernard, dr_durand
):
    assert policies.organ_donation_visible_to(pro(ide_bernard), camille.pk) is None
    actions.organ_donation_set(actor=camille_actor, patient_id=camille.pk, acknowledged=True)
    ack = policies.organ_donation_visible_to(pro(ide_bernard), camille.pk)
    assert ack is not None and ack.acknowledged_on
    with pytest.raises(NotFound):
        policies.organ_donation_visible_to(pro(dr_durand), camille.pk)
    rows = Trace.objects.filter(
        action=TraceAction.CONSULT_ENTOURAGE, document_title="Don d'organes"
    )
    assert {r.outcome for r in rows} == {TraceOutcome.ALLOWED, TraceOutcome.REFUSED}
