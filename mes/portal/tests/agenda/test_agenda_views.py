"""Camille's agenda pages: her agenda and her son's, adding, editing and cancelling an
appointment, a professional's appointment read-only, a prevention item, the opposition, and the
private iCalendar feed parsed with `icalendar` — each with its denials and traces."""

from __future__ import annotations

import re
from datetime import date, datetime

import icalendar
import pytest
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.agenda import actions
from mes.agenda.models import Appointment, CalendarFeed, PreventionRecord
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.portal.access import PROFILE_SESSION_KEY

from .conftest import PARIS, text


def last_trace(patient):
    return Trace.objects.filter(patient_id=patient.pk).order_by("-seq").first()


def add(patient, actor, **kw):
    kw.setdefault("starts_at", datetime(2026, 12, 15, 9, 30, tzinfo=PARIS))
    kw.setdefault("professional_name", "Dr Claire Roux")
    return actions.appointment_add(
        actor=actor, patient_id=patient.pk, data=actions.clean_appointment(**kw)
    )


def test_camille_sees_her_agenda_with_items_and_appointments(as_camille, camille):
    add(camille, citizen_actor(camille), title="Ophtalmologiste")
    page = text(as_camille.get(reverse("portal:agenda")))
    assert "Mon agenda de santé" in page
    assert "Examens médicaux et vaccinations à réaliser" in page
    assert "Dépistage du cancer du col de l'utérus (test HPV)" in page
    assert "Ophtalmologiste" in page and "n'est pas un outil de prise de rendez-vous" in page
    assert last_trace(camille).action == TraceAction.CONSULT_AGENDA


def test_adding_an_appointment_in_paris_time(as_camille, camille):
    r = as_camille.post(
        reverse("portal:appointment_add"),
        {
            "kind": "PRACTITIONER",
            "professional_name": "Cabinet de kinésithérapie",
            "date": "2026-12-18",
            "time": "17:45",
            "title": "Kiné",
            "reminder": "2d",
        },
    )
    a = Appointment.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("portal:appointment", args=[a.pk])
    assert a.starts_at == datetime(2026, 12, 18, 17, 45, tzinfo=PARIS)
    assert a.reminder == "2d" and a.patient == camille


def test_bad_input_says_why_in_french_and_stores_nothing(as_camille):
    r = as_camille.post(
        reverse("portal:appointment_add"),
        {"kind": "PRACTITIONER", "date": "", "time": "10:00", "reminder": "1d"},
    )
    page = text(r)
    assert r.status_code == 200 and "La date du rendez-vous est obligatoire." in page
    assert not Appointment.objects.exists()


def test_edit_and_cancel(as_camille, camille):
    a = add(camille, citizen_actor(camille))
    r = as_camille.post(
        reverse("portal:appointment_edit", args=[a.pk]),
        {
            "kind": "PRACTITIONER",
            "professional_name": "Dr Claire Roux",
            "date": "2026-12-16",
            "time": "08:00",
            "reminder": "1h",
        },
    )
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.starts_at == datetime(2026, 12, 16, 8, 0, tzinfo=PARIS)
    as_camille.post(reverse("portal:appointment_cancel", args=[a.pk]))
    a.refresh_from_db()
    assert a.status == Appointment.Status.CANCELLED
    assert "Annulé" in text(as_camille.get(reverse("portal:agenda")))


def test_a_professional_s_appointment_is_read_only_and_says_where_to_change_it(
    as_camille, camille, dr_martin
):
    a = actions.appointment_write(
        actor=pro(dr_martin, software="LogicielCabinet"),
        patient_id=camille.pk,
        data=actions.clean_appointment(
            starts_at=datetime(2026, 12, 20, 11, 0, tzinfo=PARIS), professional_name="Dr Martin"
        ),
        status="booked",
    )
    page = text(as_camille.get(reverse("portal:appointment", args=[a.pk])))
    assert "Confirmé" in page and "LogicielCabinet" in page and "contactez ce professionnel" in page
    assert "Annuler ce rendez-vous" not in page
    r = as_camille.post(reverse("portal:appointment_cancel", args=[a.pk]))
    a.refresh_from_db()
    assert a.status == Appointment.Status.BOOKED and r.status_code == 302


def test_a_parent_sees_her_son_s_child_examinations(as_camille, camille, louis):
    session = as_camille.session
    session[PROFILE_SESSION_KEY] = str(louis.pk)
    session.save()
    page = text(as_camille.get(reverse("portal:agenda")))
    assert "L'agenda de santé de Louis" in page and "Examen entre 11 et 13 ans" in page
    assert "la date de naissance de Louis" in page


def test_saying_an_exam_was_done(as_camille, camille):
    url = reverse("portal:agenda_item", kwargs={"key": "DEPISTAGE_COL_HPV@40"})
    page = text(as_camille.get(url))
    assert "L'examen a-t-il été réalisé ?" in page
    r = as_camille.post(url, {"status": "fait", "done_on": "2026-10-02"})
    assert r.status_code == 302
    rec = PreventionRecord.objects.get(patient=camille)
    assert (rec.key, rec.done_on) == ("DEPISTAGE_COL_HPV@40", date(2026, 10, 2))
    assert last_trace(camille).action == TraceAction.UPDATE_PREVENTION


def test_opposition_keeps_appointments(as_camille, camille):
    add(camille, citizen_actor(camille), title="Dentiste")
    as_camille.post(reverse("portal:agenda_personalised"), {"personalised": "0"})
    page = text(as_camille.get(reverse("portal:agenda")))
    assert "suggestions personnalisées sont désactivées" in page and "Dentiste" in page
    assert "test HPV" not in page


@pytest.mark.parametrize("who", ["anonymous", "professional", "other_patient"])
def test_denials(client, camille, bob, dr_durand, who):
    a = add(camille, citizen_actor(camille))
    if who == "professional":
        client.force_login(dr_durand.user)
    elif who == "other_patient":
        client.force_login(bob.user)
    r = client.get(reverse("portal:appointment", args=[a.pk]))
    if who == "anonymous":
        assert r.status_code == 302 and "/connexion/" in r["Location"]
        return
    assert r.status_code == 404
    r = client.post(reverse("portal:appointment_cancel", args=[a.pk]))
    assert r.status_code == 404
    a.refresh_from_db()
    assert a.status == Appointment.Status.BOOKED
    if who == "other_patient":
        refused = last_trace(camille)
        assert refused.outcome == TraceOutcome.REFUSED and refused.actor_name == "Bob Moreau"


def test_the_ical_feed_parses_with_events_and_the_paris_time_zone(as_camille, client, camille):
    add(camille, citizen_actor(camille), title="Ophtalmologiste", address="3 rue de la Paix")
    as_camille.post(reverse("portal:agenda_subscription"))
    page = as_camille.get(reverse("portal:agenda")).content.decode()
    url = re.search(r'value="(http[^"]+\.ics)"', page).group(1)
    client.logout()
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    tz = [c for c in cal.walk("VTIMEZONE")]
    assert tz and tz[0]["TZID"] == "Europe/Paris"
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    rdv = events["Ophtalmologiste"]
    assert rdv.decoded("DTSTART") == datetime(2026, 12, 15, 9, 30, tzinfo=PARIS)
    assert rdv["DTSTART"].params["TZID"] == "Europe/Paris"
    assert str(rdv["LOCATION"]) == "3 rue de la Paix"
    assert any(s.startswith("À planifier : Dépistage du cancer du col") for s in events)
    assert last_trace(camille).action == TraceAction.CALENDAR_FEED_READ


def test_a_revoked_ical_secret_is_refused_and_traced(as_camille, client, camille):
    as_camille.post(reverse("portal:agenda_subscription"))
    url = re.search(
        r'value="(http[^"]+\.ics)"', as_camille.get(reverse("portal:agenda")).content.decode()
    ).group(1)
    as_camille.post(reverse("portal:agenda_subscription"), {"revoke": "1"})
    assert CalendarFeed.objects.get().revoked_at is not None
    client.logout()
    assert client.get(url).status_code == 404
    refused = last_trace(camille)
    assert (refused.action, refused.outcome) == (
        TraceAction.CALENDAR_FEED_READ,
        TraceOutcome.REFUSED,
    )
    assert client.get(reverse("portal:agenda_ical", args=["inconnu"])).status_code == 404
