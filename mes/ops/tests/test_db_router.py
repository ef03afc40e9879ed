"""The database router's rules, on any database (mes/ops/db_router.py).

Without a replica configured (the SQLite and PostgreSQL suites) it must change nothing; with one,
the rules are checked here on the router itself, and against a real standby in
test_cluster_router.py.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import router, transaction
from django.urls import reverse

from mes.access.models import ProfessionalAccess
from mes.audit.models import ChainHead, Trace
from mes.identity.models import Citizen
from mes.notifications.models import Notification
from mes.ops import db_router
from mes.ops.db_router import STICKY_COOKIE, replica_reads, unit_of_work

without_replica = pytest.mark.skipif("replica" in settings.DATABASES, reason="réplique configurée")


@without_replica
def test_without_replica_everything_goes_to_default(db):
    assert not db_router.replica_configured()
    with unit_of_work(), replica_reads():
        assert router.db_for_read(Trace) == "default"
        assert router.db_for_write(Trace) == "default"


@without_replica
def test_without_replica_no_sticky_cookie(client, camille):
    client.force_login(camille.user)
    response = client.post(reverse("portal:confidentiality"), {"mask_new_documents": "on"})
    assert response.status_code == 302
    assert STICKY_COOKIE not in response.cookies


@pytest.fixture
def with_replica(monkeypatch):
    """The rules as if a replica were configured (no connection is opened)."""
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


def test_reads_go_to_the_replica_only_when_marked(with_replica):
    r = db_router.PrimaryReplicaRouter()
    assert r.db_for_read(Trace) == "default"  # no unit of work: a task, a shell
    with unit_of_work():
        assert r.db_for_read(Trace) == "default"  # not marked
        with replica_reads():
            assert r.db_for_read(Trace) == "replica"
            assert r.db_for_read(Notification) == "replica"
        assert r.db_for_read(Trace) == "default"  # the mark ends with the block


def test_access_rules_users_and_tokens_are_always_read_on_the_primary(with_replica):
    r = db_router.PrimaryReplicaRouter()
    with replica_reads():
        assert r.db_for_read(ProfessionalAccess) == "default"
        assert r.db_for_read(Citizen) == "default"


def test_after_a_write_reads_go_to_the_primary(with_replica):
    r = db_router.PrimaryReplicaRouter()
    with unit_of_work() as scope, replica_reads():
        assert r.db_for_write(Trace) == "default"
        assert r.db_for_write(ChainHead) == "default"
        assert not scope.wrote  # the trace of the consultation itself does not count
        assert r.db_for_read(Trace) == "replica"
        assert r.db_for_write(Notification) == "default"
        assert scope.wrote
        assert r.db_for_read(Trace) == "default"


def test_inside_a_transaction_reads_belong_to_it(with_replica, transactional_db):
    r = db_router.PrimaryReplicaRouter()
    with replica_reads():
        assert r.db_for_read(Trace) == "replica"
        with transaction.atomic():
            assert r.db_for_read(Trace) == "default"


def test_sticky_unit_of_work_reads_the_primary(with_replica):
    r = db_router.PrimaryReplicaRouter()
    with unit_of_work(sticky=True), replica_reads():
        assert r.db_for_read(Trace) == "default"


def test_the_replica_is_never_migrated():
    r = db_router.PrimaryReplicaRouter()
    assert r.allow_migrate("replica", "records") is False
    assert r.allow_migrate("default", "records") is True
