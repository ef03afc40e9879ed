"""Reminders, exactly once: an appointment reminded the day before, a child's examination
reminded the day before its window opens, each once even when the sweep runs twice (a second
worker) or crashes half-way and restarts; the opposition stops prevention reminders only."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.core import mail

from mes.access.actors import citizen_actor
from mes.agenda import actions, reminders
from mes.conftest import make_citizen
from mes.notifications.channels.dispatch import dispatch_pending
from mes.notifications.models import Delivery, Notification

from .conftest import NOW

PREVENTION = reminders.PREVENTION_CODES


def said(patient) -> set[str]:
    """The item keys of the prevention reminders told to `patient` (their notifications)."""
    keys = Notification.objects.filter(profile=patient, code__in=PREVENTION).values_list(
        "key", flat=True
    )
    return {k.split(":")[2] for k in keys}


def add(patient, actor, starts_at, reminder="1d"):
    return actions.appointment_add(
        actor=actor,
        patient_id=patient.pk,
        data=actions.clean_appointment(
            starts_at=starts_at, professional_name="Dr Claire Roux", reminder=reminder
        ),
    )


def test_an_appointment_is_reminded_once_the_day_before(camille):
    me = citizen_actor(camille)
    tomorrow = add(camille, me, NOW + timedelta(hours=20))
    add(camille, me, NOW + timedelta(days=3))  # « la veille »: not yet
    add(camille, me, NOW + timedelta(hours=5), reminder="none")
    assert reminders.appointment_reminders(now=NOW) == 1
    assert reminders.appointment_reminders(now=NOW) == 0  # a second worker: nothing
    n = Notification.objects.get(code=Notification.Code.APPOINTMENT_REMINDER)
    assert n.profile == camille and "08/12/2026 à 06:00" in n.label
    assert n.key == reminders.appointment_key(tomorrow)  # the reminder's record
    # The e-mail went to the outbox; sent after commit, generic (no health detail).
    dispatch_pending()
    email = mail.outbox[-1]
    assert email.to == ["camille@example.org"] and "Dr Claire Roux" not in email.body
    assert "aucune information de santé" in email.body
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_a_moved_appointment_is_reminded_again(camille):
    me = citizen_actor(camille)
    a = add(camille, me, NOW + timedelta(hours=20))
    reminders.appointment_reminders(now=NOW)
    actions.appointment_edit(
        actor=me,
        appointment_id=a.pk,
        data=actions.clean_appointment(
            starts_at=NOW + timedelta(hours=22), professional_name="Dr Claire Roux"
        ),
    )
    assert reminders.appointment_reminders(now=NOW) == 1


def test_a_child_examination_is_reminded_to_the_parent_the_day_before(camille, baby):
    people, sent = reminders.prevention_reminders(today=NOW.date())
    keys = said(baby)
    assert "EXAM_ENF_02" in keys and "EXAM_ENF_01" in keys  # opened 6 days ago: caught up
    assert people >= 1 and sent == Notification.objects.filter(code__in=PREVENTION).count()
    n = Notification.objects.filter(profile=baby, code=Notification.Code.PREVENTION_DUE)
    assert n.exists() and all(
        k.startswith(f"prev:{baby.pk.hex}:") for k in n.values_list("key", flat=True)
    )
    assert Delivery.objects.filter(recipient=camille, channel="email").exists()  # the parent
    assert reminders.prevention_reminders(today=NOW.date())[1] == 0  # never twice


def test_a_crash_half_way_then_a_restart_reminds_each_once(camille, baby, settings):
    """The worker dies after its first write of notifications committed, in the middle of its
    second (PostgreSQL: the second day's set-based statement; SQLite: phase 2's second batch
    of one): the restart tells what the crash rolled back, and nothing twice."""
    settings.MES_REMINDER_BATCH = 1
    writes = {"n": 0}

    def flaky(real):
        def write(*args, **kwargs):
            out = real(*args, **kwargs)  # the notifications and outbox rows are written…
            if getattr(out, "notified", out) > 0:
                writes["n"] += 1
                if writes["n"] == 2:
                    raise RuntimeError("worker killed")  # …then it dies before the commit
            return out

        return write

    with (
        mock.patch.object(reminders, "notify_select", flaky(reminders.notify_select)),
        mock.patch.object(reminders, "notify_events", flaky(reminders.notify_events)),
        pytest.raises(RuntimeError),
    ):
        reminders.prevention_reminders(today=NOW.date())
    # The first write committed; the one that crashed rolled back with its notifications and
    # deliveries, so its keys are free again.
    assert Notification.objects.filter(profile=baby).count() == 1
    assert Delivery.objects.filter(recipient=camille).count() == 1
    candidates, sent = reminders.prevention_reminders(today=NOW.date())  # the restart
    total = Notification.objects.filter(profile=baby).count()
    assert total >= 2 and candidates == sent == total - 1  # each notified once
    assert said(baby) >= {"EXAM_ENF_01", "EXAM_ENF_02"}
    assert Delivery.objects.filter(recipient=camille).count() == total
    assert reminders.prevention_reminders(today=NOW.date()) == (0, 0)


def test_opposition_stops_prevention_reminders_not_appointment_ones(camille, baby):
    me = citizen_actor(camille)
    actions.personalised_prevention_set(actor=me, patient_id=baby.pk, enabled=False)
    add(baby, me, NOW + timedelta(hours=20))
    result = reminders.reminders_sweep(now=NOW)
    assert result.appointments == 1
    assert not Notification.objects.filter(profile=baby, code__in=PREVENTION).exists()


def test_the_worker_task_runs_the_sweep(camille, baby):
    from mes.agenda.tasks import sweep_reminders

    result = sweep_reminders.enqueue()
    assert result.return_value["prevention"] >= 2


def _two_sweeps_at_once() -> list[tuple[int, int]]:
    """Two sweeps in two threads, two database connections, started together."""
    import threading

    from django.db import connections

    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(reminders.prevention_reminders(today=NOW.date()))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_each_once(camille, baby):
    """Two sweeps at the same time (PostgreSQL: the unique key and SKIP LOCKED), for a child
    whose parent is told: the pending rows of phase 2."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (DATABASE_URL)")
    results = _two_sweeps_at_once()
    rows = Notification.objects.filter(profile=baby).count()
    assert rows >= 2 and said(baby) >= {"EXAM_ENF_01", "EXAM_ENF_02"}
    assert sum(n for _, n in results) == rows  # each notified by one worker only, once
    keys = Notification.objects.filter(profile=baby).values_list("key", flat=True)
    assert len(set(keys)) == rows
    # The parent's e-mails: one per reminder, whichever worker wrote it.
    assert Delivery.objects.filter(recipient=camille, channel="email").count() == rows


def test_the_commands(camille, baby):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sweep_reminders", "--now", stdout=out)
    assert "rappel(s) de prévention" in out.getvalue()
    out = StringIO()
    call_command("print_letters", stdout=out)
    assert "Aucun courrier" in out.getvalue()


@pytest.fixture
def lone_baby(db):
    """A child with no account and no representative on file: told in the centre only."""
    return make_citizen(
        None,
        first13="2261275056098",
        first_name="Nour",
        birth_name="Benali",
        birth_date=date(2026, 12, 1),
        sex="M",
    )


def test_someone_told_in_the_centre_only_is_reminded_by_the_set_based_statement(lone_baby):
    tomorrow = NOW.date() + timedelta(days=1)
    notified, left = reminders.prevention_day_notify(day=tomorrow, today=NOW.date())
    key = reminders.prevention_key(lone_baby.pk, "EXAM_ENF_02")
    if reminders.connection.vendor == "postgresql":
        # The one statement wrote its notification, keyed; nothing left to phase 2.
        assert (notified, left) == (1, 0)
        assert Notification.objects.get(profile=lone_baby).key == key
    else:
        # SQLite has no data-modifying CTE: phase 2 does it.
        assert notified == 0 and left > 0 and not Notification.objects.exists()
    reminders.prevention_reminders(today=NOW.date())
    notes = Notification.objects.filter(profile=lone_baby)
    assert notes.count() == 2 and said(lone_baby) == {"EXAM_ENF_01", "EXAM_ENF_02"}
    n = notes.get(url__endswith="/EXAM_ENF_02/")
    assert n.key == key
    assert n.code == Notification.Code.PREVENTION_DUE
    assert n.label.startswith("Examen médical à planifier prochainement : Examen ")
    assert n.link_label == "Voir l'examen médical" and n.read_at is None
    assert not Delivery.objects.exists()  # nobody to e-mail, no address: the centre only
    assert reminders.prevention_reminders(today=NOW.date()) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_waits_on_the_first_ones_keys_then_notifies_nothing(lone_baby):
    """The set-based statement under two workers, overlapping for sure: the first inserts and
    notifies but has not committed yet when the second sends the same statement; the second
    waits on the first's keys, finds them taken, inserts nothing and so notifies nothing."""
    import threading
    import time

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (DATABASE_URL)")
    tomorrow = NOW.date() + timedelta(days=1)
    inserted_first = threading.Event()
    results: dict[str, tuple[int, int]] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = reminders.prevention_day_notify(day=tomorrow, today=NOW.date())
                inserted_first.set()
                time.sleep(0.5)  # the second worker's statement arrives meanwhile
        except BaseException as exc:
            errors.append(exc)
        finally:
            inserted_first.set()
            connections.close_all()

    def second() -> None:
        try:
            inserted_first.wait()
            results["second"] = reminders.prevention_day_notify(day=tomorrow, today=NOW.date())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == {"first": (1, 0), "second": (0, 0)}
    assert Notification.objects.filter(profile=lone_baby).count() == 1


def test_the_item_links_are_the_resolvers_for_every_item_key():
    """`_item_url` builds the link around the key as reverse() does, for every key the rules
    open over a year of sweep days (series `@age`, doses `#n`, pregnancy items `@date`)."""
    from django.urls import reverse

    keys = {"DENT_MATERNITE@2026-09-08", "VAC_COQUELUCHE_GROSSESSE@2026-09-08#1"}
    for n in range(0, 366, 7):
        day = NOW.date() + timedelta(days=n)
        keys |= {slot.item_key for slot in reminders.opening_slots(day, day)}
    assert len(keys) > 100 and any("#" in k for k in keys) and any("@" in k for k in keys)
    for key in keys:
        assert reminders._item_url(key) == reverse("portal:agenda_item", kwargs={"key": key})
