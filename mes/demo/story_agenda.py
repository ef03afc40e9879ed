"""The agenda stories (portal.md §8), on the calendar of dataset.py.

- Jacqueline Moreau, 80: her appointments (her médecin traitant next week, the
  ophthalmologist, last month's visit in her history), and the reminders of her flu vaccination
  (the campaign is open) and of her overdue dTP booster (75 years), in her notification centre.
- Léo Lambert, 6: nothing to add — his agenda computes the child examinations and vaccines due
  from his birth date and his carnet; Claire gets the reminder of his 7th-year examination.
- Louise Dupont, 45, type 2 diabetes: her diabetes follow-up (the diabetologist's visits every
  three months, one written by the diabetologist's software and so read-only for her, the
  yearly fundus examination, tomorrow's HbA1c blood test with a reminder the day before), and
  that reminder's e-mail in the demo outbox; her own « Rappel » to send the results to the
  diabetologist, and her diabetes declared for the prevention rules (flu vaccination at risk).

Everything goes through mes.agenda's actions and reminders (traces, notifications, outbox).
Idempotent: an appointment is keyed on (patient, title), a reminder on its notification's key.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from mes.access.actors import citizen_actor, professional_actor
from mes.agenda import actions, reminders
from mes.agenda.models import Appointment, UserReminder
from mes.agenda.selectors import calendar_for
from mes.identity.models import Citizen, Professional
from mes.notifications.channels.dispatch import dispatch_pending
from mes.prevention.schedule import ItemStatus

from .dataset import PARIS, PEOPLE, PROS


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def _pro(key: str) -> Professional:
    spec = next(p for p in PROS if p.key == key)
    return Professional.objects.get(rpps=spec.rpps)


def _add(patient: Citizen, by: Citizen, title: str, **kw: object) -> bool:
    if Appointment.objects.filter(patient=patient, title=title).exists():
        return False
    data = actions.clean_appointment(title=title, **kw)  # type: ignore[arg-type]
    actions.appointment_add(actor=citizen_actor(by), patient_id=patient.pk, data=data)
    return True


def _remind(patient: Citizen, today: date, *rule_prefixes: str) -> int:
    n = 0
    for item in calendar_for(patient, today):
        if item.status is ItemStatus.TO_DO and item.rule_id.startswith(rule_prefixes):
            n += reminders.prevention_reminder(patient, item)
    return n


def load_agenda_stories(today: date | None = None) -> dict[str, int]:
    """Create whatever appointment or reminder of the stories is missing (one transaction), then
    send the pending e-mails to the demo outbox. Precondition: dataset.load(today) ran."""
    today = today or timezone.localdate()
    citizens = {
        p.key: c for p in PEOPLE if (c := Citizen.objects.filter(ins=p.ins).first()) is not None
    }
    created = {"rendez-vous": 0, "rappels": 0}
    with transaction.atomic():
        if "jacqueline" in citizens:
            j = citizens["jacqueline"]
            mt = _pro("mt")
            created["rendez-vous"] += _add(
                j,
                j,
                "Consultation de suivi",
                professional_id=mt.pk,
                starts_at=_at(today + timedelta(days=6), 10, 30),
                address="Cabinet médical du Parc, 75015 Paris",
                reminder="1d",
            )
            created["rendez-vous"] += _add(
                j,
                j,
                "Ophtalmologiste : contrôle de la cataracte",
                professional_name="Centre ophtalmologique Vision Plus",
                starts_at=_at(today + timedelta(days=23), 14, 15),
                reminder="2d",
            )
            created["rendez-vous"] += _add(
                j,
                j,
                "Prise de sang",
                professional_name="Laboratoire Biolab",
                starts_at=_at(today - timedelta(days=30), 8, 0),
                reminder="none",
            )
            created["rappels"] += _remind(j, today, "VAC_GRIPPE", "VAC_DTP")
        if "leo" in citizens:
            created["rappels"] += _remind(citizens["leo"], today, "EXAM_ENF_17", "VAC_DTCAP_6")
        if "louise" in citizens:
            lo = citizens["louise"]
            diabeto = _pro("diabeto")
            created["rendez-vous"] += _add(
                lo,
                lo,
                "Bilan sanguin (HbA1c)",
                professional_name="Laboratoire Biolab",
                starts_at=_at(today + timedelta(days=1), 7, 45),
                reminder="1d",
                note="À jeun depuis la veille au soir.",
            )
            created["rendez-vous"] += _add(
                lo,
                lo,
                "Fond d'œil annuel (diabète)",
                professional_name="Centre ophtalmologique Vision Plus",
                starts_at=_at(today + timedelta(days=35), 9, 0),
                reminder="1w",
            )
            created["rendez-vous"] += _add(
                lo,
                lo,
                "Consultation diabétologie",
                professional_id=diabeto.pk,
                starts_at=_at(today - timedelta(days=80), 11, 0),
                reminder="1d",
            )
            # Her own « Rappel » after the blood test, and her diabetes declared for the
            # prevention rules (the flu vaccination recommended to people with diabetes).
            title = "Envoyer les résultats au diabétologue"
            if not UserReminder.objects.filter(patient=lo, title=title).exists():
                actions.user_reminder_add(
                    actor=citizen_actor(lo),
                    patient_id=lo.pk,
                    data=actions.clean_user_reminder(
                        title=title,
                        at=_at(today + timedelta(days=3), 18, 0),
                        note="Par la messagerie de santé, avec le compte rendu du laboratoire.",
                    ),
                )
                created["rappels"] += 1
            if "maladie_chronique" not in actions.situations_of(lo).codes:
                actions.situations_set(
                    actor=citizen_actor(lo),
                    patient_id=lo.pk,
                    codes=["maladie_chronique"],
                    pregnancy_due_on=None,
                )
            title = "Consultation diabétologie : suivi trimestriel"
            if not Appointment.objects.filter(patient=lo, title=title).exists():
                actions.appointment_write(
                    actor=professional_actor(diabeto, software="DPI du CH de Villeneuve"),
                    patient_id=lo.pk,
                    data=actions.clean_appointment(
                        title=title,
                        professional_id=diabeto.pk,
                        starts_at=_at(today + timedelta(days=12), 11, 30),
                        address="Centre hospitalier de Villeneuve, service d'endocrinologie",
                    ),
                    status=Appointment.Status.BOOKED,
                )
                created["rendez-vous"] += 1
        created["rappels"] += reminders.appointment_reminders(now=timezone.now())
    dispatch_pending()
    return created
