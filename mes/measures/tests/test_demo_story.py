"""The demo's measures: Louise's year of weight and glucose, Léo's growth; twice, no duplicate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction
from mes.audit.trace import verify_all
from mes.demo import dataset
from mes.demo.story_measures import load_measure_stories
from mes.identity.models import Citizen
from mes.measures import bmi, growth
from mes.measures.models import Measurement
from mes.measures.policies import access_measurement
from mes.records.models import Document

TODAY = date(2026, 3, 2)  # the day conftest.frozen_now sets


def person(key):
    return Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == key).ins)


@pytest.mark.django_db
def test_the_measure_stories():
    # One load for every check: the dataset's documents are slow to make (PDF + encryption).
    dataset.load(TODAY)
    report = load_measure_stories(TODAY)
    assert report.created["mesures"] > 250
    before = Measurement.objects.count()
    again = load_measure_stories(TODAY)
    assert again.nothing_new and Measurement.objects.count() == before
    assert list(verify_all()) == []
    louise_glucose_several_times_a_week_with_moments()
    louise_weight_goes_down_and_her_bmi_follows()
    leo_grows_along_the_reference_entered_by_his_mother()


def louise_glucose_several_times_a_week_with_moments():
    louise = person("louise")
    glucose = Measurement.objects.filter(patient=louise, type_code="GLUCOSE")
    own = glucose.filter(source=Measurement.Source.PATIENT)
    assert own.count() >= 150  # a year, three or four a week
    assert set(own.values_list("moment", flat=True)) >= {"53049-3", "16915-1"}
    fasting = [v for v in own.filter(moment="53049-3").values_list("value", flat=True)]
    assert min(fasting) >= 95 and max(fasting) <= 160  # a treated type 2 diabetes
    assert all(m.author_label == "Louise Dupont" for m in own[:5])
    lab = glucose.get(source=Measurement.Source.DOCUMENT, value=Decimal(142))
    assert lab.author_label == "Dr Martine Vidal" and lab.source_document_id is not None
    assert Document.objects.filter(pk=lab.source_document_id, patient=louise).exists()
    hba1c = Measurement.objects.filter(patient=louise, type_code="HBA1C").chronological()
    assert [m.value for m in hba1c] == [Decimal("7.6"), Decimal("6.9")]
    assert all(m.source_document_id for m in hba1c)


def louise_weight_goes_down_and_her_bmi_follows():
    louise = person("louise")
    weights = Measurement.objects.filter(patient=louise, type_code="WEIGHT").chronological()
    values = [w.value for w in weights]
    assert values[0] == Decimal(84) and values[-1] < Decimal(78)
    assert Measurement.objects.get(patient=louise, type_code="HEIGHT").value == Decimal(165)
    points = bmi.series(
        [bmi.Sample(w.effective_at, w.value) for w in weights],
        [
            bmi.Sample(h.effective_at, h.value)
            for h in Measurement.objects.filter(patient=louise, type_code="HEIGHT")
        ],
        louise.birth_date,
    )
    assert points[0].value == Decimal("30.9") and points[-1].value < Decimal("28.5")
    assert Measurement.objects.filter(patient=louise, type_code="BLOOD_PRESSURE").count() >= 8
    assert Trace.objects.filter(patient_id=louise.pk, action=TraceAction.ADD_MEASURE).count() > 150


def leo_grows_along_the_reference_entered_by_his_mother():
    leo, claire = person("leo"), person("claire")
    heights = Measurement.objects.filter(patient=leo, type_code="HEIGHT").chronological()
    assert heights.count() == len(set(h.effective_at for h in heights)) >= 13
    table = growth.table(growth.MeasureCode.HEIGHT, "M")
    for h in heights:
        months = growth.months_between(leo.birth_date, h.effective_at.date())
        assert -1 < table.z_score(months, float(h.value)) < 1
    heads = Measurement.objects.filter(patient=leo, type_code="HEAD_CIRCUMFERENCE")
    assert heads.count() == 13 and all(h.author_label == "Claire Lambert" for h in heads)
    check_up = Measurement.objects.get(patient=leo, type_code="WEIGHT", value=Decimal(21))
    assert check_up.author_label == "Dr Emma Rousseau" and not check_up.editable_by_citizen
    # Claire, his legal representative, reads them.
    assert access_measurement(citizen_actor(claire), check_up.pk, trace_action=None) == check_up
    row = Trace.objects.filter(patient_id=leo.pk, action=TraceAction.ADD_MEASURE).first()
    assert row.acting_citizen_id == claire.pk
