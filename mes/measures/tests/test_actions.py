"""Camille keeps her measures, and Louis's as his mother: adding, modifying, deleting, the tiles;
the checks and their French messages; who else is refused (and traced)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError

from mes.access.actors import citizen_actor, system_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.lib.errors import InvalidInput, NotFound
from mes.measures import actions, profiles
from mes.measures.models import Measurement
from mes.measures.policies import access_measurement, access_measures

PARIS = ZoneInfo("Europe/Paris")
D = Decimal


def at(y, m, d, h=8, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=PARIS)


def add(citizen, patient=None, **kwargs):
    args = {"type_code": "WEIGHT", "value": "72.5", "effective_at": at(2026, 2, 1)}
    args.update(kwargs)
    return actions.measurement_add(
        actor=citizen_actor(citizen), patient_id=(patient or citizen).pk, **args
    )


def traces(patient, action=None):
    qs = Trace.objects.filter(patient_id=patient.pk)
    return list(qs.filter(action=action) if action else qs)


# --- adding --------------------------------------------------------------------------------


def test_camille_adds_her_weight_traced_with_the_measure(camille):
    m = add(camille)
    assert (m.value, m.unit, m.source, m.author_label) == (
        D("72.5"),
        "kg",
        "patient",
        "Camille Lefèvre",
    )
    assert m.author_citizen_id == camille.pk and m.editable_by_citizen
    row = traces(camille, TraceAction.ADD_MEASURE)[0]
    assert row.outcome == TraceOutcome.ALLOWED and row.document_title == "Poids"
    assert row.acting_citizen_id is None


def test_a_mother_adds_for_her_son_and_the_trace_says_she_acted(camille, louis):
    m = add(camille, louis, type_code="HEAD_CIRCUMFERENCE", value="53.5")
    assert m.patient == louis and m.author_label == "Camille Lefèvre"
    row = traces(louis, TraceAction.ADD_MEASURE)[0]
    assert row.acting_citizen_id == camille.pk and row.document_title == "Périmètre crânien"


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("WEIGHT", "351", "La valeur doit être comprise entre 0,5 et 350 kg."),
        ("WEIGHT", "0.4", "La valeur doit être comprise entre 0,5 et 350 kg."),
        ("WEIGHT", "72.55", "Saisissez au plus 1 décimale."),
        ("HEIGHT", "251", "La valeur doit être comprise entre 20 et 250 cm."),
        ("HEART_RATE", "72.5", "Saisissez un nombre entier."),
        ("BODY_TEMPERATURE", "46", "La valeur doit être comprise entre 30 et 45 °C."),
        ("PAIN_SEVERITY", "11", "La valeur doit être comprise entre 0 et 10 /10."),
        ("STEPS_BY_DAY", "100001", "La valeur doit être comprise entre 0 et 100\u202f000 pas."),
        ("WAIST_CIRCUMFERENCE", "abc", "Saisissez un nombre, par exemple 72,5."),
        ("WEIGHT", "", "Indiquez la valeur."),
    ],
)
def test_values_out_of_range_are_refused_in_french(camille, code, value, message):
    with pytest.raises(InvalidInput) as exc:
        add(camille, type_code=code, value=value)
    assert str(exc.value) == message and exc.value.field == "value"
    assert not Measurement.objects.exists() and not traces(camille)


def test_blood_pressure_has_two_values_the_systolic_above(camille):
    m = add(camille, type_code="BLOOD_PRESSURE", value="132", diastolic="82")
    assert (m.value, m.diastolic, m.unit) == (D(132), D(82), "mm[Hg]")
    with pytest.raises(InvalidInput, match="supérieure à la tension diastolique") as exc:
        add(camille, type_code="BLOOD_PRESSURE", value="80", diastolic="90")
    assert exc.value.field == "diastolic"
    with pytest.raises(InvalidInput, match=r"^Indiquez la tension diastolique\.$"):
        add(camille, type_code="BLOOD_PRESSURE", value="120")
    with pytest.raises(
        InvalidInput, match=r"^La tension systolique doit être comprise entre 50 et 300 mmHg\.$"
    ):
        add(camille, type_code="BLOOD_PRESSURE", value="320", diastolic="80")
    with pytest.raises(InvalidInput, match=r"^Cette mesure n'a qu'une valeur\.$"):
        add(camille, value="70", diastolic="80")


def test_dates_in_the_future_or_before_birth_are_refused(camille, frozen_now):
    with pytest.raises(InvalidInput) as exc:
        add(camille, effective_at=frozen_now + timedelta(minutes=1))
    assert str(exc.value) == "La date de la mesure ne peut pas être dans le futur."
    assert exc.value.field == "effective_at"
    with pytest.raises(InvalidInput) as exc:
        add(camille, effective_at=at(1985, 5, 13))
    assert (
        str(exc.value) == "La date de la mesure ne peut pas être antérieure à la date de naissance."
    )
    add(camille, effective_at=frozen_now)  # now is fine
    add(camille, effective_at=at(1985, 5, 14), value="3.2")  # so is the day of birth


def test_glucose_needs_its_moment_from_jdv_j157(camille):
    with pytest.raises(InvalidInput) as exc:
        add(camille, type_code="GLUCOSE", value="110")
    assert (str(exc.value), exc.value.field) == ("Indiquez le moment de la mesure.", "moment")
    with pytest.raises(InvalidInput, match=r"Choisissez un moment de la liste\."):
        add(camille, type_code="GLUCOSE", value="110", moment="AU_COUCHER")
    with pytest.raises(InvalidInput, match="ne s'indique que pour la glycémie"):
        add(camille, value="70", moment="53049-3")
    m = add(camille, type_code="GLUCOSE", value="110", moment="53049-3")
    assert (m.value, m.unit, m.moment_label) == (D(110), "mg/dL", "À jeun")


@pytest.mark.parametrize(
    ("value", "unit", "stored"),
    [("142", "mg/dL", 142), ("1.42", "g/L", 142), ("7.88", "mmol/L", 142), ("0.7", "g/L", 70)],
)
def test_glucose_units_are_converted_to_mg_per_dl(camille, value, unit, stored):
    m = add(camille, type_code="GLUCOSE", value=value, unit=unit, moment="16915-1")
    assert m.value == D(stored) and m.unit == "mg/dL"


def test_a_height_in_metres_is_stored_in_centimetres(camille):
    assert add(camille, type_code="HEIGHT", value="1.65", unit="m").value == D(165)
    with pytest.raises(InvalidInput, match=r"Choisissez une unité de la liste\."):
        add(camille, type_code="HEIGHT", value="165", unit="in")


def test_the_bmi_is_never_entered(camille):
    with pytest.raises(InvalidInput, match="L'IMC est calculé à partir du poids et de la taille"):
        add(camille, type_code="BODY_MASS_INDEX", value="25")
    with pytest.raises(IntegrityError):
        Measurement.objects.create(
            patient=camille,
            type_code="BODY_MASS_INDEX",
            value=25,
            unit="kg/m2",
            effective_at=at(2026, 1, 1),
            author_label="x",
            created_at=at(2026, 1, 1),
            updated_at=at(2026, 1, 1),
        )


def test_head_circumference_is_for_children(camille, louis):
    with pytest.raises(InvalidInput, match="ne se suit que pendant l'enfance"):
        add(camille, type_code="HEAD_CIRCUMFERENCE", value="55")
    assert profiles.get("HEAD_CIRCUMFERENCE") not in actions.available_types(camille)
    assert profiles.get("HEAD_CIRCUMFERENCE") in actions.available_types(louis)


def test_comment_is_at_most_150_characters(camille):
    with pytest.raises(InvalidInput, match="ne doit pas dépasser 150 caractères") as exc:
        add(camille, comment="x" * 151)
    assert exc.value.field == "comment"
    assert add(camille, comment="  après le sport  ").comment == "après le sport"


# --- who may -------------------------------------------------------------------------------


def test_others_are_refused_as_not_found_and_traced(camille, bob, dr_martin):
    for actor in (citizen_actor(bob), pro(dr_martin)):
        with pytest.raises(NotFound):
            actions.measurement_add(
                actor=actor,
                patient_id=camille.pk,
                type_code="WEIGHT",
                value="70",
                effective_at=at(2026, 1, 1),
            )
    rows = traces(camille, TraceAction.ADD_MEASURE)
    assert [r.outcome for r in rows] == [TraceOutcome.REFUSED] * 2
    assert {r.actor_id for r in rows} == {bob.ins, dr_martin.national_id}
    assert not Measurement.objects.exists()


def test_even_the_treating_physician_does_not_read_the_measures(camille, dr_martin):
    # The profil médical's measures reach professionals only through the saved synthèse.
    with pytest.raises(NotFound):
        access_measures(pro(dr_martin), camille.pk, trace_action=TraceAction.CONSULT_MEASURES)
    row = Trace.objects.get(patient_id=camille.pk)
    assert (row.action, row.outcome) == (TraceAction.CONSULT_MEASURES, TraceOutcome.REFUSED)


def test_unknown_dossier_is_the_same_not_found(camille):
    with pytest.raises(NotFound):
        access_measures(citizen_actor(camille), uuid.uuid4(), trace_action=None)
    assert Trace.objects.get().reason == "dossier inconnu"


# --- modifying, deleting -------------------------------------------------------------------


def test_camille_modifies_then_deletes_her_value(camille):
    m = add(camille)
    actions.measurement_update(
        actor=citizen_actor(camille),
        measurement_id=m.pk,
        value="71.9",
        effective_at=at(2026, 2, 2, 7, 30),
        comment="le matin",
    )
    m.refresh_from_db()
    assert (m.value, m.comment, m.effective_at) == (D("71.9"), "le matin", at(2026, 2, 2, 7, 30))
    assert traces(camille, TraceAction.UPDATE_MEASURE)[0].document_title == "Poids"
    with pytest.raises(InvalidInput):
        actions.measurement_update(
            actor=citizen_actor(camille),
            measurement_id=m.pk,
            value="999",
            effective_at=at(2026, 2, 2),
        )
    m.refresh_from_db()
    assert m.value == D("71.9")
    assert actions.measurement_delete(actor=citizen_actor(camille), measurement_id=m.pk) == "WEIGHT"
    assert not Measurement.objects.exists()
    assert traces(camille, TraceAction.DELETE_MEASURE)[0].outcome == TraceOutcome.ALLOWED


def test_bob_cannot_modify_or_delete_camilles_value(camille, bob):
    m = add(camille)
    with pytest.raises(NotFound):
        actions.measurement_update(
            actor=citizen_actor(bob), measurement_id=m.pk, value="60", effective_at=at(2026, 2, 1)
        )
    with pytest.raises(NotFound):
        actions.measurement_delete(actor=citizen_actor(bob), measurement_id=m.pk)
    m.refresh_from_db()
    assert m.value == D("72.5")
    refused = Trace.objects.filter(outcome=TraceOutcome.REFUSED).order_by("seq")
    assert [r.action for r in refused] == [TraceAction.UPDATE_MEASURE, TraceAction.DELETE_MEASURE]


def imported(camille, dr_martin):
    return actions.measurement_import(
        actor=system_actor("import-documents"),
        patient_id=camille.pk,
        type_code="WEIGHT",
        value="84",
        effective_at=at(2025, 1, 10),
        source=Measurement.Source.PROFESSIONAL,
        author_label=dr_martin.display_name,
        author_professional_id=dr_martin.pk,
        source_document_id=uuid.uuid4(),
    )


def test_an_import_for_an_unknown_dossier_is_refused_and_traced(dr_martin):
    with pytest.raises(NotFound):
        actions.measurement_import(
            actor=system_actor("import-documents"),
            patient_id=uuid.uuid4(),
            type_code="WEIGHT",
            value="84",
            effective_at=at(2025, 1, 10),
            source=Measurement.Source.PROFESSIONAL,
            author_label=dr_martin.display_name,
        )
    assert not Measurement.objects.exists()
    row = Trace.objects.get(action=TraceAction.ADD_MEASURE)
    assert row.outcome == TraceOutcome.REFUSED and row.reason == "dossier inconnu"
    assert row.patient_id is None and row.document_title == "Poids"


def test_a_professionals_value_is_read_only_for_the_citizen(camille, dr_martin):
    m = imported(camille, dr_martin)
    assert not m.editable_by_citizen and m.author_label == "Dr Anne Martin"
    assert access_measurement(citizen_actor(camille), m.pk, trace_action=None) == m
    with pytest.raises(NotFound):
        actions.measurement_delete(actor=citizen_actor(camille), measurement_id=m.pk)
    assert Measurement.objects.filter(pk=m.pk).exists()
    row = Trace.objects.get(action=TraceAction.DELETE_MEASURE)
    assert row.outcome == TraceOutcome.REFUSED and "non modifiable" in row.reason


def test_import_is_for_system_actors_only(camille, dr_martin):
    with pytest.raises(NotFound):
        actions.measurement_import(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            type_code="WEIGHT",
            value="84",
            effective_at=at(2025, 1, 10),
            source=Measurement.Source.PROFESSIONAL,
            author_label="Dr Anne Martin",
        )
    assert not Measurement.objects.exists()
    assert Trace.objects.get().outcome == TraceOutcome.REFUSED


# --- tiles ---------------------------------------------------------------------------------


def test_default_tiles_then_camilles_choice(camille, louis):
    codes = [t.code.value for t in actions.tiles_of(camille)]
    assert codes == ["WEIGHT", "HEIGHT", "BODY_MASS_INDEX", "BLOOD_PRESSURE", "GLUCOSE"]
    child = [t.code.value for t in actions.tiles_of(louis)]
    assert child == ["WEIGHT", "HEIGHT", "BODY_MASS_INDEX", "HEAD_CIRCUMFERENCE"]
    shown = actions.tiles_set(
        actor=citizen_actor(camille), patient_id=camille.pk, visible={"STEPS_BY_DAY", "WEIGHT"}
    )
    assert shown == ["WEIGHT", "STEPS_BY_DAY"]
    assert [t.code.value for t in actions.tiles_of(camille)] == shown
    assert traces(camille, TraceAction.MEASURE_TILES)[0].outcome == TraceOutcome.ALLOWED
    with pytest.raises(InvalidInput):
        actions.tiles_set(actor=citizen_actor(camille), patient_id=camille.pk, visible={"X"})


def test_bob_cannot_choose_camilles_tiles(camille, bob):
    with pytest.raises(NotFound):
        actions.tiles_set(actor=citizen_actor(bob), patient_id=camille.pk, visible={"WEIGHT"})
    assert Trace.objects.get().action == TraceAction.MEASURE_TILES
