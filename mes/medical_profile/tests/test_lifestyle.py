"""Habitudes de vie: the catalogue is data; answers are dated and kept with their history;
conditional questions follow the answer they depend on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.lib.errors import InvalidInput, NotFound
from mes.medical_profile import actions
from mes.medical_profile.actions import current_answers
from mes.medical_profile.lifestyle import catalogue
from mes.medical_profile.models import LifestyleAnswer


def save(actor, patient, section, **answers):
    return actions.lifestyle_save_section(
        actor=actor, patient_id=patient.pk, section=section, answers=answers
    )


def test_the_catalogue_has_the_six_sections_and_a_version():
    cat = catalogue()
    assert [s.name for s in cat.sections] == [
        "FOOD",
        "PHYSICAL_ACTIVITY",
        "TOBACCO",
        "SLEEP",
        "SCREEN",
        "ALCOHOL",
    ]
    assert cat.version
    count = cat.question("TOBACCO_MANUAL_COUNT")
    assert count.display_on_question == "TOBACCO_MANUAL" and count.display_on_values == (
        "EVERYDAY",
    )
    assert cat.question("FOOD_FRUIT").label_for("Léo") == (
        "Léo a l'habitude de manger des fruits et légumes"
    )


def test_answers_are_stored_with_the_catalogue_version(camille, camille_actor):
    changed = save(
        camille_actor, camille, "TOBACCO", TOBACCO_MANUAL="EVERYDAY", TOBACCO_MANUAL_COUNT="08"
    )
    assert changed == 2
    current = current_answers(camille)
    assert current["TOBACCO_MANUAL_COUNT"].value == "8"
    assert current["TOBACCO_MANUAL"].catalogue_version == catalogue().version
    row = Trace.objects.get(action=TraceAction.UPDATE_PROFILE_ENTRY)
    assert row.document_title == "Habitudes de vie"


def test_a_conditional_answer_is_dropped_with_its_condition(camille, camille_actor):
    save(camille_actor, camille, "TOBACCO", TOBACCO_MANUAL="EVERYDAY", TOBACCO_MANUAL_COUNT="10")
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        save(
            camille_actor,
            camille,
            "TOBACCO",
            TOBACCO_MANUAL="FORMER",
            TOBACCO_MANUAL_COUNT="10",
            TOBACCO_MANUAL_STOPPED="LESS_THAN_ONE_YEAR",
        )
    current = current_answers(camille)
    assert current["TOBACCO_MANUAL"].value == "FORMER"
    assert "TOBACCO_MANUAL_COUNT" not in current
    assert current["TOBACCO_MANUAL_STOPPED"].value == "LESS_THAN_ONE_YEAR"
    # The history keeps the previous answer to the question that is still asked.
    history = LifestyleAnswer.objects.filter(question="TOBACCO_MANUAL").order_by("answered_at")
    assert [a.value for a in history] == ["EVERYDAY", "FORMER"]


def test_an_unchanged_answer_adds_no_row(camille, camille_actor):
    save(camille_actor, camille, "SLEEP", SLEEP_QUALITY="WELL")
    assert save(camille_actor, camille, "SLEEP", SLEEP_QUALITY="WELL") == 0
    assert LifestyleAnswer.objects.count() == 1


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        (
            {"TOBACCO_MANUAL": "EVERYDAY", "TOBACCO_MANUAL_COUNT": "abc"},
            "TOBACCO_MANUAL_COUNT",
            "entières",
        ),
        (
            {"TOBACCO_MANUAL": "EVERYDAY", "TOBACCO_MANUAL_COUNT": "0"},
            "TOBACCO_MANUAL_COUNT",
            "entre 1 et 99",
        ),
        (
            {"TOBACCO_MANUAL": "EVERYDAY", "TOBACCO_MANUAL_COUNT": "100"},
            "TOBACCO_MANUAL_COUNT",
            "entre 1 et 99",
        ),
        ({"TOBACCO_MANUAL": "SOMETIMES"}, "TOBACCO_MANUAL", "réponses proposées"),
    ],
)
def test_bad_answers_are_refused_with_the_catalogue_message(
    camille, camille_actor, answers, field, message
):
    with pytest.raises(InvalidInput) as err:
        save(camille_actor, camille, "TOBACCO", **answers)
    assert err.value.field == field and message in str(err.value)
    assert not LifestyleAnswer.objects.exists()


def test_alcohol_days_are_between_0_and_7(camille, camille_actor):
    save(camille_actor, camille, "ALCOHOL", ALCOHOL_DAYS="0", ALCOHOL_UNITS="0")
    with pytest.raises(InvalidInput):
        save(camille_actor, camille, "ALCOHOL", ALCOHOL_DAYS="8")


def test_an_empty_answer_removes_the_previous_one(camille, camille_actor):
    save(camille_actor, camille, "SLEEP", SLEEP_QUALITY="WELL")
    assert save(camille_actor, camille, "SLEEP", SLEEP_QUALITY="") == 1
    assert not LifestyleAnswer.objects.exists()


def test_deleting_an_answer_deletes_the_answers_that_depend_on_it(camille, camille_actor):
    save(
        camille_actor,
        camille,
        "PHYSICAL_ACTIVITY",
        PHYSICAL_ACTIVITY_REGULARLY="YES",
        PHYSICAL_ACTIVITY_DYNAMIC="THREE_TO_FOUR_A_WEEK",
        PHYSICAL_ACTIVITY_SAT="NO",
    )
    actions.lifestyle_delete_answer(
        actor=camille_actor, patient_id=camille.pk, question="PHYSICAL_ACTIVITY_REGULARLY"
    )
    assert list(current_answers(camille)) == ["PHYSICAL_ACTIVITY_SAT"]
    assert Trace.objects.filter(action=TraceAction.DELETE_PROFILE_ENTRY).exists()
    with pytest.raises(InvalidInput):
        actions.lifestyle_delete_answer(
            actor=camille_actor, patient_id=camille.pk, question="PHYSICAL_ACTIVITY_REGULARLY"
        )


def test_unknown_sections_and_other_patients_are_refused(camille, camille_actor, bob):
    with pytest.raises(InvalidInput):
        save(camille_actor, camille, "HOBBIES")
    with pytest.raises(NotFound):
        save(citizen_actor(bob), camille, "SLEEP", SLEEP_QUALITY="WELL")
    assert Trace.objects.get(outcome=TraceOutcome.REFUSED).actor_id == bob.ins
