"""The demo's care history: Louise has two years of reimbursed care, loaded once."""

from __future__ import annotations

from datetime import date, timedelta

from mes.demo import dataset
from mes.demo.story_care_history import load_care_history_stories
from mes.identity.models import Citizen
from mes.notifications.models import Notification
from mes.reimbursements.models import Category, Episode
from mes.reimbursements.selectors import visited_pharmacies

TODAY = date(2026, 11, 24)


def test_louise_has_two_years_of_care_history(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    dataset.load(TODAY)
    created = load_care_history_stories(TODAY).created["lignes de Mon histoire de santé"]
    assert created > 50
    assert load_care_history_stories(TODAY).nothing_new
    louise = Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == "louise").ins)
    lines = Episode.objects.filter(patient=louise)
    assert lines.count() == created
    oldest = lines.order_by("date").first().date
    assert TODAY - oldest > timedelta(days=700)
    assert set(lines.values_list("category", flat=True)) == set(Category.values)
    assert Notification.objects.filter(profile=louise, code="PRIMO_ALIM_MHS").count() == 1
    assert [p.name for p in visited_pharmacies(louise, today=TODAY)] == ["Pharmacie des Tilleuls"]


def test_louise_downloaded_her_data(db, settings, tmp_path):
    from mes.demo.story_takeout import load_takeout_stories
    from mes.takeout.models import DataExport

    settings.VAR_DIR = tmp_path
    dataset.load(TODAY)
    load_care_history_stories(TODAY)
    assert load_takeout_stories(TODAY).created["téléchargements de données"] == 1
    assert load_takeout_stories(TODAY).nothing_new
    louise = Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == "louise").ins)
    export = DataExport.objects.get(requested_by=louise)
    assert export.status == DataExport.Status.READY and export.medical_size > 100_000
