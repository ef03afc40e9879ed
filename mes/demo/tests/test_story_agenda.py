"""The demo's agendas, loaded after the dataset and the carnets, twice."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from mes.access.actors import citizen_actor
from mes.agenda.models import Appointment
from mes.agenda.selectors import agenda_of
from mes.audit.trace import verify_all
from mes.demo import dataset
from mes.demo.models import OutboxMessage
from mes.demo.story_agenda import load_agenda_stories
from mes.demo.story_vaccinations import load_vaccination_stories
from mes.identity.models import Citizen
from mes.notifications.models import Notification
from mes.prevention.schedule import ItemStatus

TODAY = date(2026, 12, 7)


def _citizen(key):
    return Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == key).ins)


def test_the_agenda_stories(db, settings):
    settings.EMAIL_BACKEND = "mes.demo.mail.OutboxBackend"
    with time_machine.travel(
        datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=False
    ):
        dataset.load(TODAY)
        load_vaccination_stories(TODAY)
        created = load_agenda_stories(TODAY)
        assert created["rendez-vous"] == 7 and created["rappels"] >= 4
        assert load_agenda_stories(TODAY) == {"rendez-vous": 0, "rappels": 0}

        j = _citizen("jacqueline")
        ag = agenda_of(actor=citizen_actor(j), patient_id=j.pk)
        assert [a.title for a in ag.upcoming][:1] == ["Consultation de suivi"]
        assert [a.title for a in ag.past] == ["Prise de sang"]
        codes = set(Notification.objects.filter(profile=j).values_list("code", flat=True))
        assert "RAPPEL_RDV_PREV_VACC" in codes
        labels = " ".join(Notification.objects.filter(profile=j).values_list("label", flat=True))
        assert "Grippe" in labels and "diphtérie" in labels

        claire, leo = _citizen("claire"), _citizen("leo")
        ag = agenda_of(actor=citizen_actor(claire), patient_id=leo.pk)
        open_rules = {i.rule_id for i in ag.open_items()}
        assert {"EXAM_ENF_17", "MTDENTS_ANNUEL"} <= open_rules
        assert any(i.is_vaccination for i in ag.open_items())
        assert any(i.status is ItemStatus.TO_DO and i.mandatory for i in ag.open_items())

        lo = _citizen("louise")
        ag = agenda_of(actor=citizen_actor(lo), patient_id=lo.pk)
        titles = [a.title for a in ag.upcoming]
        assert "Bilan sanguin (HbA1c)" in titles and "Fond d'œil annuel (diabète)" in titles
        pro_written = Appointment.objects.get(patient=lo, author="PROFESSIONAL")
        assert pro_written.read_only
        assert [r.title for r in ag.reminders] == ["Envoyer les résultats au diabétologue"]
        assert any(i.rule_id.startswith("VAC_GRIPPE_RISQUE") for i in ag.items)
        mails = OutboxMessage.objects.filter(to=lo.email, channel="email")
        assert mails.exists() and "HbA1c" not in " ".join(m.body for m in mails)
        assert list(verify_all()) == []
