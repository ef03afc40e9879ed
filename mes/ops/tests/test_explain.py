"""Every hot query uses an index on PostgreSQL, checked with EXPLAIN on realistic tables.

Each table gets tens of thousands of rows spread over thousands of patients (copies of one real
row, with the columns that matter varied, and ANALYZE'd so that the planner's statistics are
those of a populated table): a plan that reads the whole table there would read it for 68
million people. The test fails on any Seq Scan of the big table. The queries are the ones the
code runs (same functions, same filters and order), not rewritten for the test.

Skipped on SQLite; run by .ci/run on PostgreSQL and against the Patroni cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model, QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from mes.access.actors import citizen_actor
from mes.agenda.models import Appointment
from mes.agenda.reminders import LONGEST_REMINDER, opening_slots, prevention_day_notify
from mes.audit.history import HistoryTab, history_traces
from mes.audit.models import Trace
from mes.conftest import make_pdf, pro
from mes.identity.models import Citizen
from mes.messaging.models import Conversation, Mailbox
from mes.messaging.policies import conversations_visible_to, professional_conversations
from mes.notifications.actions import notify
from mes.notifications.models import Notification
from mes.records import actions as records
from mes.records.models import Document
from mes.records.policies import documents_visible_to

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN des requêtes chaudes : PostgreSQL"
)

ROWS = 40_000
PATIENTS = 4_000  # ~10 rows per patient, as many patients as rows allow
# A patient id among PATIENTS fake ones, derived from the row number g.i.
FAKE_PATIENT = f"md5(mod(g.i, {PATIENTS})::text)::uuid"


def multiply(model: type[Model], template: Model, n: int, **columns: str) -> None:
    """Insert n copies of `template`, each column in `columns` replaced by an SQL expression of
    g.i (1..n); then ANALYZE. Foreign keys are not checked for the copies (fake patients)."""
    meta = model._meta
    names, values = [], []
    for field in meta.concrete_fields:
        if field.primary_key and field.get_internal_type() in ("AutoField", "BigAutoField"):
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.column in columns:
            values.append(columns[field.column])
        elif field.primary_key:
            values.append("gen_random_uuid()")
        else:
            values.append(f"t.{connection.ops.quote_name(field.column)}")
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        # The copies point at patients that do not exist: no foreign-key trigger for them.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(names)}) "
            f"SELECT {', '.join(values)} FROM {table} t, generate_series(1, %s) AS g(i) "
            f"WHERE t.{connection.ops.quote_name(meta.pk.column)} = %s",
            [n, template.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute(f"ANALYZE {table}")


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def assert_indexed(qs: QuerySet[Any], table: str) -> str:
    """EXPLAIN the query; fail on a sequential scan of `table`. Returns the plan, for messages."""
    plan = json.loads(qs.explain(format="json"))[0]["Plan"]
    text = qs.explain()
    seq = [n for n in _nodes(plan) if n["Node Type"] == "Seq Scan" and n["Relation Name"] == table]
    assert not seq, f"parcours séquentiel de {table} :\n{text}"
    return text


def test_documents_by_patient_and_date(camille, dr_martin):
    doc = records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Bilan"),
        title="Bilan sanguin",
        type_code="11502-2",
    )
    multiply(
        Document,
        doc,
        ROWS,
        patient_id=FAKE_PATIENT,
        unique_id="'2.25.' || g.i",
        service_date="t.service_date - mod(g.i, 3650)",
        deposited_at="t.deposited_at - mod(g.i, 3650) * interval '1 day'",
    )
    # The citizen's list (newest first) and the professional's (ITI-67's default order).
    mine = documents_visible_to(citizen_actor(camille), camille).order_by("-service_date")
    assert_indexed(mine[:50], "records_document")
    theirs = documents_visible_to(pro(dr_martin), camille).order_by("-deposited_at")
    assert_indexed(theirs[:50], "records_document")
    one_year = timezone.localdate() - timedelta(days=365)
    assert_indexed(mine.filter(service_date__gte=one_year), "records_document")


def test_traces_by_patient(camille, dr_martin):
    records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="CR",
        type_code="11502-2",
    )
    template = Trace.objects.filter(patient_id=camille.pk).first()
    assert template is not None
    multiply(
        Trace,
        template,
        ROWS * 2,
        chain="'c' || g.i",
        patient_id=FAKE_PATIENT,
        at="t.at - g.i * interval '1 minute'",
    )
    for tab in HistoryTab:
        qs = history_traces(patient_id=camille.pk, for_representative=False, tab=tab)
        assert_indexed(qs[:100], "audit_trace")
    first_access = Trace.objects.filter(patient_id=camille.pk, actor_id=dr_martin.rpps)
    assert_indexed(first_access, "audit_trace")


def test_conversations_of_a_patient_and_of_a_professional(camille, dr_martin):
    box = Mailbox.objects.create(
        address="anne.martin@medecin.mssante.fr", kind=Mailbox.Kind.PER, professional=dr_martin
    )
    now = timezone.now()
    conv = Conversation.objects.create(
        patient=camille, counterpart=box, subject="Résultats", created_at=now, last_message_at=now
    )
    multiply(
        Conversation,
        conv,
        ROWS,
        patient_id=FAKE_PATIENT,
        # ~400 conversations a mailbox: other mailboxes' ids do not exist, which is fine here.
        counterpart_id=f"CASE WHEN mod(g.i, 100) = 0 THEN t.counterpart_id ELSE {box.pk} + g.i END",
        last_message_at="t.last_message_at - g.i * interval '1 hour'",
    )
    citizen = conversations_visible_to(citizen_actor(camille), camille)
    assert_indexed(citizen.order_by("-last_message_at")[:50], "messaging_conversation")
    professional = professional_conversations(pro(dr_martin))
    assert_indexed(professional.order_by("-last_message_at")[:50], "messaging_conversation")


def test_reminders_due(camille):
    now = timezone.now()
    appointment = Appointment.objects.create(patient=camille, starts_at=now + timedelta(hours=20))
    # Two years of appointments, most of them past (fulfilled), some cancelled, a year ahead.
    multiply(
        Appointment,
        appointment,
        ROWS,
        patient_id=FAKE_PATIENT,
        starts_at="now() - interval '730 days' + mod(g.i, 1095) * interval '1 day'",
        status=(
            "CASE WHEN mod(g.i, 10) = 0 THEN 'cancelled' "
            "WHEN mod(g.i, 1095) < 730 THEN 'fulfilled' ELSE t.status END"
        ),
    )
    due = (
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + LONGEST_REMINDER,
        )
        .exclude(reminder=Appointment.Reminder.NONE)
        .order_by("pk")
    )
    assert_indexed(due, "agenda_appointment")


def test_prevention_reminders_due_select_people_by_birth_date(camille):
    """The « bientôt dû » sweep's INSERT … SELECT over the citizens born on the opening days
    (the notification writer's statement, `notify_select`): EXPLAINed as the sweep sends it
    (the statement is captured, explained, not run)."""
    multiply(
        Citizen,
        camille,
        ROWS,
        id="gen_random_uuid()",
        user_id="NULL",
        ins="lpad(g.i::text, 15, '0')",
        birth_date="date '1925-01-01' + mod(g.i * 7919, 36500)",
    )
    day = timezone.localdate()
    assert opening_slots(day)
    plans: list[dict[str, Any]] = []

    def explain_instead(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        # The one statement of the day (the notifications and their outbox rows).
        if sql.lstrip().startswith("WITH src"):
            execute("EXPLAIN (FORMAT JSON) " + sql, params, many, context)
            plans.append(context["cursor"].fetchone()[0][0]["Plan"])
            # What the statement returns (notified, queued, left): nothing was run.
            return execute("SELECT 0, 0, 0", None, many, context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_instead):
        prevention_day_notify(day=day)
    [plan] = plans
    seq = [n for n in _nodes(plan) if n.get("Relation Name") == "identity_citizen"]
    assert seq and all(n["Node Type"] != "Seq Scan" for n in seq), json.dumps(plan, indent=1)
    assert not Notification.objects.exists()  # explained, not run


def test_a_campaign_slice_reads_its_people_by_their_key(camille):
    """A national campaign's slice (mes.agenda.campaigns): its notifications keyed and their
    outbox rows, one statement (`notify_select`), EXPLAINed as sent (then run):
    2 000 people among tens of thousands found by the primary key, never a scan of everyone."""
    from mes.agenda.campaigns import campaign_plan, campaign_slice
    from mes.agenda.tests.test_campaigns import flu

    multiply(
        Citizen,
        camille,
        ROWS,
        id="gen_random_uuid()",
        user_id="NULL",  # one account each is unique: children told through no one, here
        ins="lpad(g.i::text, 15, '0')",
        birth_date="date '1925-01-01' + mod(g.i * 7919, 36500)",
    )
    campaign = flu()  # everyone aged 65 and over
    after, last = campaign_plan(campaign_id=campaign.pk, size=2000)
    plans: list[dict[str, Any]] = []

    def explain_too(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().startswith(("INSERT", "WITH")):
            execute("EXPLAIN (FORMAT JSON) " + sql, params, many, context)
            plans.append(context["cursor"].fetchone()[0][0]["Plan"])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_too):
        assert campaign_slice(campaign_id=campaign.pk, after=after, last=last) > 1000
    assert len(plans) == 1  # the notifications (the keys are theirs) and the outbox
    for plan in plans:
        scans = [n for n in _nodes(plan) if n.get("Relation Name") == "identity_citizen"]
        assert all(n["Node Type"] != "Seq Scan" for n in scans), json.dumps(plan, indent=1)


def test_task_queue_claim(db):
    """The claim of `mes worker` (django-tasks-db's db_worker): the next ready task, locked."""
    done = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="mes.agenda.tasks.sweep_reminders",
        backend_name="default",
        run_after=get_date_max(),
        status="SUCCESSFUL",
        exception_class_path="",
        traceback="",
    )
    # A day of finished tasks, and a backlog of one task in fifty still waiting.
    multiply(
        DBTaskResult,
        done,
        ROWS * 2,
        status="CASE WHEN mod(g.i, 50) = 0 THEN 'READY' ELSE t.status END",
        enqueued_at="now() - g.i * interval '1 second'",
    )
    claim = (
        DBTaskResult.objects.ready()
        .filter(backend_name="default", queue_name__in=["default"])
        .select_for_update(skip_locked=True)
    )
    assert_indexed(claim[:1], "django_tasks_database_dbtaskresult")


def test_unread_notifications(camille):
    n = notify(profile=camille, code=Notification.Code.NEW_DOCUMENT, label="Nouveau document")
    multiply(
        Notification,
        n,
        ROWS,
        profile_id=FAKE_PATIENT,
        read_at="CASE WHEN mod(g.i, 10) = 0 THEN NULL ELSE now() END",
    )
    unread = Notification.objects.filter(profile=camille, read_at__isnull=True)
    assert_indexed(unread.shown_to(representative=True), "notifications_notification")
    assert_indexed(unread.order_by("-created_at")[:20], "notifications_notification")


def test_the_check_catches_a_sequential_scan(camille):
    n = notify(profile=camille, code=Notification.Code.NEW_DOCUMENT, label="Nouveau document")
    multiply(Notification, n, ROWS, profile_id=FAKE_PATIENT)
    unindexed = Notification.objects.filter(label="Nouveau document", url="/x")
    with pytest.raises(AssertionError, match="parcours séquentiel de notifications_notification"):
        assert_indexed(unindexed, "notifications_notification")


def test_espaces_by_state_and_attachment_after_the_dropped_indexes(camille, louis):
    """The espace has no index on `state` alone nor on every `attached_to` (docs/decisions.md,
    « Import: indexes »): the daily sweep's queries (run as written, EXPLAINed as sent), the
    notice batch's and a parent's children's still find their rows by an index."""
    from mes.enrolment import lifecycle
    from mes.enrolment.models import Espace, EspaceState

    espace = Espace.objects.create(
        citizen=louis, state=EspaceState.NOTIFIED, vitale_serial="12345678", attached_to=camille
    )
    # Mostly active espaces; one in fifty in each waiting state, none of them due today; one
    # in five a child attached to one of the fake parents.
    state = (
        "CASE mod(g.i, 50) WHEN 0 THEN 'notified' WHEN 1 THEN 'not_notified' "
        "WHEN 2 THEN 'suspended' WHEN 3 THEN 'closed' ELSE 'active' END"
    )
    multiply(
        Espace,
        espace,
        ROWS,
        state=state,
        notified_at="now()",
        suspended_at="now()",
        purge_due_at="now() + interval '3650 days'",
        attached_to_id=f"CASE WHEN mod(g.i, 5) = 0 THEN {FAKE_PATIENT} END",
    )
    explained: list[str] = []

    def explain_too(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().startswith("SELECT") and "enrolment_espace" in sql:
            # On a client cursor of its own: .iterator() sends the query through a server-side
            # cursor, which cannot hold an EXPLAIN.
            with connection.connection.cursor() as cursor:
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                plan = cursor.fetchone()[0][0]["Plan"]
            scans = [n for n in _nodes(plan) if n.get("Relation Name") == "enrolment_espace"]
            assert all(n["Node Type"] != "Seq Scan" for n in scans), json.dumps(plan, indent=1)
            explained.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_too):
        lifecycle.sweep()
    assert len(explained) >= 3  # the opposition window, the suspensions, the purges
    # The notice batch (importer.send_notices), a parent's attached children.
    waiting = Espace.objects.filter(state=EspaceState.NOT_NOTIFIED).order_by("citizen__birth_date")
    assert_indexed(waiting.values_list("pk", flat=True)[:500], "enrolment_espace")
    assert_indexed(Espace.objects.filter(attached_to=camille), "enrolment_espace")


def test_representations_by_either_side_after_the_dropped_index(camille, louis):
    """No index on `representative_id` alone: the unique (representative, represented) starts
    with it. Both sides of the link, as the access decision and the notices read them."""
    from mes.enrolment.models import LegalRepresentation

    link = LegalRepresentation.objects.get(represented=louis)
    multiply(
        LegalRepresentation,
        link,
        ROWS,
        representative_id=FAKE_PATIENT,
        represented_id="gen_random_uuid()",
    )
    links = LegalRepresentation.objects.current()
    plan = assert_indexed(links.filter(representative=camille), "enrolment_legalrepresentation")
    assert "one_representation_per_pair" in plan
    assert_indexed(
        links.filter(representative_id=camille.pk, represented_id=louis.pk),
        "enrolment_legalrepresentation",
    )
    assert_indexed(links.filter(represented=louis), "enrolment_legalrepresentation")
