"""Camille's carnet de vaccination: what she records, what her professionals record or confirm,
who may read it — each step with its trace, each refusal traced and looking like « not found »."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from mes.access.actions import emergency_access_open
from mes.access.actors import AccessMode, citizen_actor
from mes.access.models import ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.models import Notification
from mes.vaccinations import actions
from mes.vaccinations.models import Vaccination
from mes.vaccinations.policies import vaccinations_visible_to


def traces(patient, action, outcome=TraceOutcome.ALLOWED):
    return list(
        Trace.objects.filter(patient_id=patient.pk, action=action, outcome=outcome).order_by("seq")
    )


def add(citizen, patient=None, **kwargs):
    args = {
        "vaccine_code": "VAXIGRIPTETRA",
        "vaccination_date": date(2025, 10, 20),
        "kind": Vaccination.Kind.BOOSTER,
        "lot": "X1234",
        "vaccinator_name": "Pharmacie du Centre",
        "comment": "Un peu de fièvre le soir.",
    }
    args.update(kwargs)
    return actions.vaccination_add(
        actor=citizen_actor(citizen), patient_id=(patient or citizen).pk, **args
    )


def record(professional, patient, **kwargs):
    args = {
        "vaccine_code": "BOOSTRIXTETRA",
        "vaccination_date": date(2026, 11, 2),
        "kind": Vaccination.Kind.BOOSTER,
        "lot": "AB12",
    }
    args.update(kwargs)
    return actions.vaccination_record_by_professional(
        actor=pro(professional), patient_id=patient.pk, **args
    )


# --- the citizen side -----------------------------------------------------------------------


def test_camille_records_her_flu_vaccine(camille):
    v = add(camille)
    assert v.vaccine_label == "VAXIGRIPTETRA" and v.valences == ["GRIPPE"]
    assert v.source == Vaccination.Source.PATIENT and not v.read_only
    assert v.author_label == "Camille Lefèvre" and v.author_citizen_id == camille.pk
    assert v.added_by == "ajoutée par Camille Lefèvre"
    (row,) = traces(camille, TraceAction.ADD_VACCINATION)
    assert row.document_title == "VAXIGRIPTETRA" and row.actor_id == camille.ins
    assert not Notification.objects.exists()  # her own action


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vaccine_code": "PAS_DANS_LA_LISTE"}, "vaccine"),
        ({"vaccination_date": None}, "date"),
        ({"vaccination_date": date(1980, 1, 1)}, "date"),
        ({"vaccination_date": date(2026, 11, 25)}, "date"),
        ({"kind": "AUTRE"}, "kind"),
        ({"lot": "L" * 101}, "lot"),
        ({"vaccinator_name": "V" * 101}, "vaccinator_name"),
        ({"vaccinator_name": "Dr <script>"}, "vaccinator_name"),
        ({"comment": "c" * 3001}, "comment"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_stored(camille, change, field):
    with pytest.raises(InvalidInput) as refused:
        add(camille, **change)
    assert refused.value.field == field
    assert str(refused.value)[0].isupper()
    assert not Vaccination.objects.exists()
    assert not traces(camille, TraceAction.ADD_VACCINATION)


def test_limits_are_inclusive_and_the_birth_day_is_allowed(camille):
    v = add(
        camille,
        vaccination_date=camille.birth_date,
        lot="L" * 100,
        vaccinator_name="V" * 100,
        comment="c" * 3000,
    )
    assert v.date == camille.birth_date


def test_camille_records_for_louis_as_his_mother(camille, louis):
    v = add(camille, louis, vaccine_code="MAL_ROR", vaccination_date=date(2016, 3, 10))
    assert v.patient_id == louis.pk and v.author_label == "Camille Lefèvre"
    (row,) = traces(louis, TraceAction.ADD_VACCINATION)
    assert row.acting_citizen_id == camille.pk


def test_bob_cannot_record_in_camilles_carnet(camille, bob):
    with pytest.raises(NotFound):
        add(bob, camille)
    assert not Vaccination.objects.exists()
    (row,) = traces(camille, TraceAction.ADD_VACCINATION, TraceOutcome.REFUSED)
    assert row.actor_id == bob.ins and row.reason


def test_camille_edits_then_deletes_what_she_recorded(camille):
    v = add(camille)
    changed = actions.vaccination_update(
        actor=citizen_actor(camille),
        vaccination_id=v.pk,
        vaccine_code="EFLUELDA",
        vaccination_date=date(2025, 10, 21),
        kind=Vaccination.Kind.UNKNOWN,
    )
    assert changed.vaccine_label == "EFLUELDA" and changed.lot == ""
    assert traces(camille, TraceAction.UPDATE_VACCINATION)[0].document_title == "EFLUELDA"
    actions.vaccination_delete(actor=citizen_actor(camille), vaccination_id=v.pk)
    assert not Vaccination.objects.exists()
    assert traces(camille, TraceAction.DELETE_VACCINATION)[0].document_title == "EFLUELDA"


def test_bob_can_neither_edit_nor_delete_camilles_entry(camille, bob):
    v = add(camille)
    with pytest.raises(NotFound):
        actions.vaccination_delete(actor=citizen_actor(bob), vaccination_id=v.pk)
    with pytest.raises(NotFound):
        actions.vaccination_update(
            actor=citizen_actor(bob),
            vaccination_id=v.pk,
            vaccine_code="EFLUELDA",
            vaccination_date=date(2025, 1, 1),
            kind="IMMUNIZ",
        )
    assert Vaccination.objects.get().vaccine_label == "VAXIGRIPTETRA"
    assert traces(camille, TraceAction.DELETE_VACCINATION, TraceOutcome.REFUSED)
    assert traces(camille, TraceAction.UPDATE_VACCINATION, TraceOutcome.REFUSED)


def test_an_unknown_vaccination_is_the_same_not_found(camille):
    with pytest.raises(NotFound):
        actions.vaccination_delete(actor=citizen_actor(camille), vaccination_id=uuid.uuid4())


# --- professionals --------------------------------------------------------------------------


def test_her_doctor_records_a_vaccination_read_only_for_her(camille, dr_martin):
    v = record(dr_martin, camille)
    assert v.source == Vaccination.Source.PROFESSIONAL and v.read_only
    assert v.vaccinator_id == dr_martin.pk and v.author_professional_id == dr_martin.pk
    assert v.added_by == "ajoutée par Dr Anne Martin"
    assert "ne peut pas être modifiée ou supprimée" in v.read_only_notice
    (row,) = traces(camille, TraceAction.ADD_VACCINATION)
    assert row.actor_id == dr_martin.national_id and row.document_title == "BOOSTRIXTETRA"
    note = Notification.objects.get(profile=camille)
    assert note.code == Notification.Code.NEW_VACCINATION
    assert note.label == "Dr Anne Martin a mis à jour la rubrique Vaccinations"
    assert note.url == f"/profil-medical/vaccinations/?profil={camille.pk}"
    assert note.link_label == "Voir la rubrique"


def test_camille_cannot_delete_or_edit_her_doctors_entry(camille, dr_martin):
    v = record(dr_martin, camille)
    with pytest.raises(InvalidInput) as refused:
        actions.vaccination_delete(actor=citizen_actor(camille), vaccination_id=v.pk)
    assert str(refused.value) == (
        "Vous ne pouvez pas supprimer cette vaccination car elle a été ajoutée ou confirmée "
        "par un professionnel de santé."
    )
    with pytest.raises(InvalidInput, match="Vous ne pouvez pas modifier cette vaccination"):
        actions.vaccination_update(
            actor=citizen_actor(camille),
            vaccination_id=v.pk,
            vaccine_code="REVAXIS",
            vaccination_date=date(2026, 1, 1),
            kind="IMMUNIZ",
        )
    assert Vaccination.objects.get().vaccine_label == "BOOSTRIXTETRA"
    (refused_row,) = traces(camille, TraceAction.DELETE_VACCINATION, TraceOutcome.REFUSED)
    assert refused_row.actor_id == camille.ins
    assert traces(camille, TraceAction.UPDATE_VACCINATION, TraceOutcome.REFUSED)


def test_a_professional_without_consent_may_record_but_not_read(camille, dr_durand):
    # A pharmacist or doctor who vaccinates writes the carnet, as they may send documents.
    v = record(dr_durand, camille)
    assert v.read_only
    with pytest.raises(NotFound):
        vaccinations_visible_to(pro(dr_durand), camille.pk)
    (row,) = traces(camille, TraceAction.CONSULT_VACCINATIONS, TraceOutcome.REFUSED)
    assert row.actor_id == dr_durand.national_id and row.reason == "aucune autorisation d'accès"


def test_a_blocked_professional_can_neither_record_nor_read(camille, dr_durand):
    ProfessionalAccess.objects.create(
        patient=camille, professional=dr_durand, status=ProfessionalAccess.Status.BLOCKED
    )
    with pytest.raises(NotFound):
        record(dr_durand, camille)
    assert not Vaccination.objects.exists()
    (row,) = traces(camille, TraceAction.ADD_VACCINATION, TraceOutcome.REFUSED)
    assert "bloqué" in row.reason
    assert not Notification.objects.exists()


def test_only_professionals_record_as_professionals(camille, bob):
    with pytest.raises(NotFound):
        actions.vaccination_record_by_professional(
            actor=citizen_actor(camille),
            patient_id=camille.pk,
            vaccine_code="REVAXIS",
            vaccination_date=date(2026, 1, 1),
        )
    assert not Vaccination.objects.exists()
    assert traces(camille, TraceAction.ADD_VACCINATION, TraceOutcome.REFUSED)


def test_bad_input_from_a_professional_stores_nothing_and_notifies_nobody(camille, dr_martin):
    with pytest.raises(InvalidInput):
        record(dr_martin, camille, vaccination_date=date(2027, 1, 1))
    assert not Vaccination.objects.exists() and not Notification.objects.exists()


def test_her_doctor_confirms_what_she_recorded(camille, dr_martin):
    v = add(camille)
    confirmed = actions.vaccination_confirm(actor=pro(dr_martin), vaccination_id=v.pk)
    assert confirmed.read_only and confirmed.confirmed_by_id == dr_martin.pk
    assert confirmed.added_by == "ajoutée par Camille Lefèvre, confirmée par Dr Anne Martin"
    (row,) = traces(camille, TraceAction.CONFIRM_VACCINATION)
    assert row.actor_id == dr_martin.national_id
    assert Notification.objects.get(profile=camille).code == Notification.Code.NEW_VACCINATION
    with pytest.raises(InvalidInput, match="supprimer"):
        actions.vaccination_delete(actor=citizen_actor(camille), vaccination_id=v.pk)
    with pytest.raises(InvalidInput, match="déjà"):
        actions.vaccination_confirm(actor=pro(dr_martin), vaccination_id=v.pk)


def test_a_professional_who_may_not_read_cannot_confirm(camille, dr_durand):
    v = add(camille)
    with pytest.raises(NotFound):
        actions.vaccination_confirm(actor=pro(dr_durand), vaccination_id=v.pk)
    v.refresh_from_db()
    assert not v.read_only
    assert traces(camille, TraceAction.CONFIRM_VACCINATION, TraceOutcome.REFUSED)
    with pytest.raises(NotFound):
        actions.vaccination_confirm(actor=citizen_actor(camille), vaccination_id=v.pk)


# --- who reads the carnet -------------------------------------------------------------------


def test_who_reads_camilles_carnet(camille, louis, dr_martin, ide_bernard, podo_petit, bob):
    add(camille)
    for actor in (citizen_actor(camille), pro(dr_martin), pro(ide_bernard), pro(podo_petit)):
        assert [v.vaccine_label for v in vaccinations_visible_to(actor, camille.pk)] == [
            "VAXIGRIPTETRA"
        ]
    assert len(traces(camille, TraceAction.CONSULT_VACCINATIONS)) == 4
    with pytest.raises(NotFound):
        vaccinations_visible_to(citizen_actor(bob), camille.pk)
    # Her son's carnet: his mother reads it; the carnet of Camille is not his.
    assert list(vaccinations_visible_to(citizen_actor(camille), louis.pk)) == []
    with pytest.raises(NotFound):
        vaccinations_visible_to(citizen_actor(bob), uuid.uuid4())


def test_break_glass_reads_the_carnet_with_a_justification(camille, dr_durand):
    add(camille)
    actor = pro(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Patiente inconsciente")
    with pytest.raises(NotFound):  # no emergency access opened yet
        vaccinations_visible_to(actor, camille.pk)
    emergency_access_open(actor=actor, patient_id=camille.pk)
    assert len(vaccinations_visible_to(actor, camille.pk)) == 1
    (row,) = traces(camille, TraceAction.CONSULT_VACCINATIONS)
    assert row.access_mode == "bris_de_glace"
