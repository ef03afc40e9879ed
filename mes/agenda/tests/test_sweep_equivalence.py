"""The fast sweep (people selected in SQL by birth date and sex from the engine's opening
slots, the engine's answer reused per birth date) reminds exactly what the per-person engine
says, for a varied population over several sweep days with a frozen clock: ages 0 to 100,
both sexes, month ends (born on 29–31 December, 28 February, a leap day), children with a
parent, doses in the carnet, things said about items, an appointment planned, an opposition.

The reference is the engine itself, person by person: on day T, every item of the person's
own calendar (`calendar_for`) whose window opens on one of the sweep's days (tomorrow, or the
days just before in case a sweep was missed) and is still à venir / à faire; each once over
the days (the key)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from mes.agenda import reminders
from mes.agenda.models import (
    PREGNANCY_TERM,
    AgendaSettings,
    Appointment,
    PreventionRecord,
)
from mes.agenda.reminders import _opening_ages
from mes.agenda.selectors import calendar_for
from mes.conftest import make_citizen
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen
from mes.notifications.models import Notification
from mes.prevention.schedule import ItemStatus
from mes.vaccinations.models import Vaccination

from .conftest import PARIS

# A Monday, the eve of a non-leap 28 February, the eve of a leap day, a month's last day.
SWEEP_DAYS = (date(2026, 12, 7), date(2027, 2, 27), date(2028, 2, 28), date(2027, 6, 30))
_n = count(1)


def person(birth: date, sex: str, username: str | None = None) -> Citizen:
    n = next(_n)
    return make_citizen(
        username,
        first13=f"{1 if sex == 'M' else 2}{birth:%y%m}75{n:06d}"[:13].ljust(13, "0"),
        first_name=f"Personne{n}",
        birth_name="Banc",
        birth_date=birth,
        sex=sex,
        email=f"p{n}@example.org" if username else "",
    )


def dose(patient: Citizen, on: date, *valences: str) -> None:
    now = timezone.now()
    Vaccination.objects.create(
        patient=patient,
        vaccine_code="TEST",
        vaccine_label="Vaccin",
        valences=list(valences),
        date=on,
        source=Vaccination.Source.PATIENT,
        author_label="test",
        created_at=now,
        updated_at=now,
    )


def population() -> list[Citizen]:
    """People whose windows open around the sweep days, then a spread of ages 0 to 100."""
    people: list[Citizen] = []
    ages = _opening_ages()
    for t, today in enumerate(SWEEP_DAYS):
        tomorrow = today + timedelta(days=1)
        for i, age in enumerate(ages):
            if (i + t) % 2:  # half the ages each day: all of them over the days
                continue
            birth = age.before(tomorrow)
            for k in (-1, 0, 2):
                b = birth + timedelta(days=k)
                if b <= today:
                    people.append(person(b, "F" if (i + k) % 2 else "M"))
    for birth in (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31), date(2027, 12, 31)):
        people += [person(birth, "F"), person(birth, "M")]
    for birth in (date(1960, 2, 29), date(1985, 2, 28), date(2000, 1, 31)):
        people.append(person(birth, "F"))
    for years in range(0, 101, 3):
        people.append(person(date(2026 - years, 12, 8), "F" if years % 2 else "M"))
    return people


def history(people: list[Citizen]) -> None:
    """A few with doses in the carnet, things said, an appointment, a parent, an opposition."""
    for i, p in enumerate(people):
        if i % 7 == 0 and p.birth_date.year >= 2024:
            dose(
                p,
                p.birth_date + timedelta(days=60),
                "DIPHTERIE",
                "TETANOS",
                "COQUELUCHE",
                "POLIO",
                "HIB",
                "HEPB",
            )
        if i % 11 == 0 and p.birth_date.year < 1970:
            dose(p, date(2026, 11, 2), "GRIPPE")
        if i % 13 == 0:
            PreventionRecord.objects.create(
                patient=p, key="PREV_DENT_ANNUEL@40", status=PreventionRecord.Status.IGNORED
            )
        if i % 17 == 0:
            AgendaSettings.objects.create(patient=p, personalised_prevention=False)
        elif i % 23 == 0 and 1940 < p.birth_date.year < 2000:
            AgendaSettings.objects.create(patient=p, situations=["maladie_chronique"])
        elif i % 29 == 0 and p.sex == "F" and 1980 < p.birth_date.year < 2005:
            # Pregnancies whose dental check-up opens around the sweep days.
            due = SWEEP_DAYS[i % len(SWEEP_DAYS)] + timedelta(days=1) - timedelta(days=91)
            AgendaSettings.objects.create(patient=p, pregnancy_due_on=due + PREGNANCY_TERM)
        if i % 19 == 0 and p.birth_date.year >= 2008:
            parent = person(date(1990, 5, 4), "F", username=f"parent{i}")
            LegalRepresentation.objects.create(
                representative=parent, represented=p, role=LegalRepresentation.Role.MOTHER
            )
    # An appointment planned for the next examination of someone whose window opens on the
    # first sweep's morrow.
    first = reminders.opening_slots(SWEEP_DAYS[0] + timedelta(days=1), SWEEP_DAYS[0])
    slot = next(s for s in first if not s.item_key.startswith(("VAC", "GRIPPE")))
    planned = Citizen.objects.filter(birth_date=slot.birth_date).first()
    assert planned is not None
    Appointment.objects.create(
        patient=planned,
        starts_at=datetime(2027, 1, 15, 9, 0, tzinfo=PARIS),
        professional_name="Dr Claire Roux",
        prevention_key=slot.item_key,
        status=Appointment.Status.BOOKED,
    )


def expected(people: list[Citizen], today: date) -> set[str]:
    """The per-person engine's reminders for a sweep on `today`."""
    tomorrow = today + settings.MES_PREVENTION_REMIND_BEFORE
    days = {tomorrow - timedelta(days=n) for n in range(8)}
    opposed = set(
        AgendaSettings.objects.filter(personalised_prevention=False).values_list(
            "patient_id", flat=True
        )
    )
    out = set()
    for p in people:
        if p.pk in opposed:
            continue
        for item in calendar_for(p, today, personalised=True):
            if item.window_start in days and item.status in (
                ItemStatus.TO_DO,
                ItemStatus.UPCOMING,
            ):
                out.add(f"prev:{p.pk.hex}:{item.key}")
    return out


@pytest.mark.django_db
def test_the_fast_sweep_reminds_exactly_what_the_per_person_engine_says():
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        people = population()
        history(people)
    assert len(people) > 300
    want: set[str] = set()
    for today in SWEEP_DAYS:
        with time_machine.travel(datetime.combine(today, datetime.min.time(), PARIS), tick=False):
            want |= expected(people, today)
            reminders.prevention_reminders(today=today)
            reminders.prevention_reminders(today=today)  # a second run adds nothing
        got = set(
            Notification.objects.filter(code__in=reminders.PREVENTION_CODES).values_list(
                "key", flat=True
            )
        )
        missing = [Citizen.objects.get(pk=k.split(":")[1]) for k in sorted(want - got)[:3]]
        assert got == want, (
            today,
            sorted(got - want)[:10],
            sorted(want - got)[:10],
            [(m.birth_date, m.sex) for m in missing],
        )
    assert len(want) > 100
    # Every path was taken: the situations' own calendars as well as the shared ones.
    assert any("MATERNITE" in k or "RISQUE" in k for k in want)
    # Exactly once: one notification in the person's centre per reminder.
    assert Notification.objects.filter(code__in=reminders.PREVENTION_CODES).count() == len(want)
