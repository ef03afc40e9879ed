"""Camille's « Rappel » (portal.md §8): added, listed, edited, deleted, for herself or her son;
at most 10 on a date; notified RAPPEL_AGENDA at its time by the worker, once; another patient's
reminder is not found, and the refusal traced."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.agenda import actions, reminders
from mes.agenda.models import AgendaSettings, UserReminder
from mes.agenda.tasks import send_user_reminder
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.notifications.channels.dispatch import dispatch_pending
from mes.notifications.models import Notification
from mes.portal.access import PROFILE_SESSION_KEY

from .conftest import PARIS, text


def add(patient, actor, at=datetime(2026, 12, 15, 18, 30, tzinfo=PARIS), title="Envoyer"):
    return actions.user_reminder_add(
        actor=actor,
        patient_id=patient.pk,
        data=actions.clean_user_reminder(title=title, at=at, note=""),
    )


def test_adding_a_reminder_lists_it_in_the_agenda(as_camille, camille):
    page = text(as_camille.get(reverse("portal:user_reminder_add")))
    assert "Titre du rappel" in page and "Ex : Envoyer les analyses" in page
    r = as_camille.post(
        reverse("portal:user_reminder_add"),
        {"title": "Envoyer les analyses", "date": "2026-12-15", "time": "18:30", "note": "Labo"},
    )
    assert r.status_code == 302
    reminder = UserReminder.objects.get(patient=camille)
    assert reminder.at == datetime(2026, 12, 15, 18, 30, tzinfo=PARIS)
    trace = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
    assert trace.action == TraceAction.ADD_APPOINTMENT
    assert trace.document_title == "Rappel : Envoyer les analyses"
    page = text(as_camille.get(reverse("portal:agenda")))
    assert "Rappels" in page and "Envoyer les analyses" in page and "à 18:30" in page


def test_bad_input_says_why_in_french_and_stores_nothing(as_camille, camille):
    url = reverse("portal:user_reminder_add")
    cases = [
        (
            {"title": "", "date": "2026-12-15", "time": "09:00"},
            "Le titre du rappel est obligatoire",
        ),
        ({"title": "x" * 101, "date": "2026-12-15", "time": "09:00"}, "ne doit pas dépasser 100"),
        ({"title": "A", "date": "2026-12-15", "time": "09:00", "note": "n" * 1001}, "1000"),
        ({"title": "A", "date": "", "time": "09:00"}, "La date du rappel est obligatoire"),
        ({"title": "A", "date": "2026-12-01", "time": "09:00"}, "doivent être à venir"),
    ]
    for data, error in cases:
        r = as_camille.post(url, data)
        assert r.status_code == 200 and error in text(r), data
    assert not UserReminder.objects.exists()


def test_at_most_ten_reminders_on_the_same_date(as_camille, camille):
    me = citizen_actor(camille)
    for hour in range(8, 18):
        add(camille, me, at=datetime(2026, 12, 15, hour, 0, tzinfo=PARIS))
    r = as_camille.post(
        reverse("portal:user_reminder_add"),
        {"title": "Onzième", "date": "2026-12-15", "time": "23:30"},
    )
    assert r.status_code == 200
    assert "Vous avez déjà 10 rappels le 15/12/2026" in text(r)
    assert UserReminder.objects.filter(patient=camille).count() == 10
    # Another date is fine; moving one of the ten within the day too.
    add(camille, me, at=datetime(2026, 12, 16, 0, 30, tzinfo=PARIS), title="Lendemain")
    first = UserReminder.objects.filter(patient=camille).order_by("at").first()
    actions.user_reminder_edit(
        actor=me,
        reminder_id=first.pk,
        data=actions.clean_user_reminder(
            title="Déplacé", at=datetime(2026, 12, 15, 7, 0, tzinfo=PARIS)
        ),
    )


def test_edit_and_delete(as_camille, camille):
    reminder = add(camille, citizen_actor(camille))
    url = reverse("portal:user_reminder_edit", args=[reminder.pk])
    page = text(as_camille.get(url))
    assert "Modifier le rappel" in page and "Supprimer ce rappel" in page
    r = as_camille.post(url, {"title": "Appeler le labo", "date": "2026-12-16", "time": "08:15"})
    assert r.status_code == 302
    reminder.refresh_from_db()
    assert (reminder.title, reminder.at) == (
        "Appeler le labo",
        datetime(2026, 12, 16, 8, 15, tzinfo=PARIS),
    )
    r = as_camille.post(reverse("portal:user_reminder_delete", args=[reminder.pk]))
    assert r.status_code == 302 and not UserReminder.objects.exists()
    last = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
    assert last.action == TraceAction.CANCEL_APPOINTMENT


def test_a_reminder_for_her_son(as_camille, camille, louis):
    session = as_camille.session
    session[PROFILE_SESSION_KEY] = str(louis.pk)
    session.save()
    as_camille.post(
        reverse("portal:user_reminder_add"),
        {"title": "Carnet de santé", "date": "2026-12-20", "time": "10:00"},
    )
    assert UserReminder.objects.get().patient == louis
    assert "Carnet de santé" in text(as_camille.get(reverse("portal:agenda")))


def test_notified_at_its_time_once_by_the_task_and_the_sweep(
    camille, django_capture_on_commit_callbacks
):
    camille.email = "camille@example.org"
    camille.save()
    with django_capture_on_commit_callbacks(execute=True):
        reminder = add(camille, citizen_actor(camille), title="Envoyer les analyses")
    # Too early: nothing (the task runs at its time).
    assert send_user_reminder.call(str(reminder.pk)) is False
    with time_machine.travel(datetime(2026, 12, 15, 18, 30, 5, tzinfo=PARIS), tick=False):
        assert send_user_reminder.call(str(reminder.pk)) is True
        assert send_user_reminder.call(str(reminder.pk)) is False  # a second worker
        assert reminders.reminders_sweep().user == 0  # the safety net: already sent
        dispatch_pending()
    n = Notification.objects.get(profile=camille, code=Notification.Code.AGENDA_REMINDER)
    assert n.label == "Rappel : Envoyer les analyses (15/12/2026 à 18:30)"
    assert n.key == reminders.user_reminder_key(reminder)  # its one record
    # The e-mail says there is something to see, never what.
    assert len(mail.outbox) == 1 and "analyses" not in mail.outbox[0].body


def test_the_sweep_notifies_a_reminder_whose_task_was_lost(camille):
    reminder = add(camille, citizen_actor(camille))
    with time_machine.travel(reminder.at + timedelta(minutes=40), tick=False):
        assert reminders.reminders_sweep().user == 1
        assert reminders.reminders_sweep().user == 0
    assert Notification.objects.filter(code=Notification.Code.AGENDA_REMINDER).count() == 1


def test_a_deleted_or_moved_reminder_is_not_notified_at_its_old_time(camille):
    me = citizen_actor(camille)
    deleted, moved = add(camille, me), add(camille, me, title="Déplacé")
    actions.user_reminder_delete(actor=me, reminder_id=deleted.pk)
    actions.user_reminder_edit(
        actor=me,
        reminder_id=moved.pk,
        data=actions.clean_user_reminder(
            title="Déplacé", at=datetime(2026, 12, 17, 9, 0, tzinfo=PARIS)
        ),
    )
    with time_machine.travel(datetime(2026, 12, 15, 18, 31, tzinfo=PARIS), tick=False):
        assert send_user_reminder.call(str(deleted.pk)) is False
        assert send_user_reminder.call(str(moved.pk)) is False
        assert reminders.reminders_sweep().user == 0
    with time_machine.travel(datetime(2026, 12, 17, 9, 0, tzinfo=PARIS), tick=False):
        assert send_user_reminder.call(str(moved.pk)) is True


@pytest.mark.parametrize("who", ["anonymous", "professional", "other_patient"])
def test_denials(client, camille, bob, dr_durand, who):
    reminder = add(camille, citizen_actor(camille))
    if who == "professional":
        client.force_login(dr_durand.user)
    elif who == "other_patient":
        client.force_login(bob.user)
    url = reverse("portal:user_reminder_edit", args=[reminder.pk])
    r = client.get(url)
    if who == "anonymous":
        assert r.status_code == 302 and "/connexion/" in r["Location"]
        return
    assert r.status_code == 404
    r = client.post(url, {"title": "Piraté", "date": "2026-12-20", "time": "10:00"})
    assert r.status_code == 404
    r = client.post(reverse("portal:user_reminder_delete", args=[reminder.pk]))
    assert r.status_code == 404
    reminder.refresh_from_db()
    assert reminder.title == "Envoyer"
    if who == "other_patient":
        refused = Trace.objects.filter(patient_id=camille.pk).order_by("-seq").first()
        assert refused.outcome == TraceOutcome.REFUSED and refused.actor_name == "Bob Moreau"
        assert refused.action == TraceAction.CANCEL_APPOINTMENT


def test_declaring_a_pregnancy_in_the_agenda(as_camille, camille):
    url = reverse("portal:agenda_situations")
    page = text(as_camille.get(url))
    assert "Ma situation pour la prévention" in page and "date prévue d'accouchement" in page
    assert "Maladie chronique" in page
    r = as_camille.post(
        url, {"pregnancy_due_on": "2027-05-20", "situations": ["maladie_chronique"]}
    )
    assert r.status_code == 302
    settings_row = AgendaSettings.objects.get(patient=camille)
    assert settings_row.situations == ["maladie_chronique"]
    assert str(settings_row.pregnancy_due_on) == "2027-05-20"
    page = text(as_camille.get(reverse("portal:agenda")))
    assert "coqueluche" in page.lower()
    r = as_camille.post(url, {"pregnancy_due_on": "2030-01-01"})
    assert r.status_code == 200 and "dans les 40 semaines à venir" in text(r)


@pytest.mark.parametrize("who", ["professional", "other_patient"])
def test_situations_denials(client, camille, bob, dr_durand, who):
    client.force_login(dr_durand.user if who == "professional" else bob.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str(camille.pk)
    session.save()
    client.post(reverse("portal:agenda_situations"), {"pregnancy_due_on": "2027-05-20"})
    assert not AgendaSettings.objects.filter(patient=camille).exists()
