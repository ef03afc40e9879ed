"""The demo's carnets de vaccination, loaded after the dataset, twice."""

from __future__ import annotations

from datetime import date

from mes.access.actors import citizen_actor
from mes.audit.trace import verify_all
from mes.demo import dataset
from mes.demo.story_vaccinations import load_vaccination_stories
from mes.identity.models import Citizen
from mes.notifications.models import Notification
from mes.prevention.calendar import Status
from mes.vaccinations.carnet import carnet_of
from mes.vaccinations.models import Vaccination

TODAY = date(2026, 11, 24)


def _citizen(key):
    return Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == key).ins)


def test_leo_and_louise_have_their_carnets(db):
    dataset.load(TODAY)
    created = load_vaccination_stories(TODAY)
    assert created["vaccinations"] > 10 and created["confirmations"] == 1
    assert load_vaccination_stories(TODAY) == {"vaccinations": 0, "confirmations": 0}

    leo, claire, louise = _citizen("leo"), _citizen("claire"), _citizen("louise")
    carnet = carnet_of(actor=citizen_actor(claire), patient_id=leo.pk, today=TODAY)
    by_pro = [v for v in carnet.vaccinations if v.read_only]
    assert [v.vaccine_label for v in by_pro] == ["TETRAVAC-ACELLULAIRE"]
    assert by_pro[0].author_label == "Dr Emma Rousseau"
    assert all(v.author_label == "Claire Lambert" for v in carnet.vaccinations if not v.read_only)
    items = {i.key: i for i in carnet.items}
    for key in ("VAC_HEXA#3", "VAC_PNEUMO_NOURRISSON#3", "VAC_MENC_2018#2", "VAC_ROR#2"):
        assert items[key].status is Status.DONE, key
    assert items["VAC_DTCAP_6ANS#1"].done_ref == by_pro[0].pk
    due = {i.rule_id: i.status for i in carnet.due()}
    assert due == {"VAC_GRIPPE_ENFANT": Status.TO_DO}
    assert "VAC_HPV_11_14" in {i.rule_id for i in carnet.later()}
    assert Notification.objects.filter(profile=leo, code="AJOUT_VACCINATION").count() == 1

    carnet = carnet_of(actor=citizen_actor(louise), patient_id=louise.pk, today=TODAY)
    assert Vaccination.objects.filter(patient=louise, vaccine_code="VAXIGRIPTETRA").count() == 2
    repevax = Vaccination.objects.get(patient=louise, vaccine_code="REPEVAX")
    assert repevax.read_only and repevax.confirmed_by_label == "Dr Bernard Léon"
    due = {i.key: i.status for i in carnet.due()}
    assert due["VAC_DTP_45ANS#1"] is Status.TO_DO
    assert due["VAC_ROR_RATTRAPAGE#1"] is Status.TO_DO
    # Her flu vaccine of this autumn is done.
    assert not any(k.startswith("VAC_GRIPPE") for k in due)
    flu = next(i for i in carnet.items if i.rule_id == "VAC_GRIPPE_RISQUE")
    assert flu.status is Status.DONE and flu.done_on == date(2026, 10, 22)
    assert list(verify_all()) == []
