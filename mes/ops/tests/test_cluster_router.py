"""The database router against a real primary and its streaming standby (issue 16 item 2).

Runs when a replica is configured, as .ci/run does after `python -m drills.cluster up`:

    eval "$(python -m drills.cluster env)"
    DATABASE_URL=$MES_CLUSTER_PRIMARY_URL DATABASE_REPLICA_URL=$MES_CLUSTER_STANDBY_URL \\
        pytest -m cluster mes/ops/tests/test_cluster_router.py
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mes.notifications.actions import notify
from mes.notifications.models import Notification
from mes.ops.db_router import STICKY_COOKIE, replica_reads, unit_of_work

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif("replica" not in settings.DATABASES, reason="DATABASE_REPLICA_URL absent"),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


def _in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return bool(cursor.fetchone()[0])


def _replicated(pk: int) -> None:
    deadline = time.monotonic() + 10
    while not Notification.objects.using("replica").filter(pk=pk).exists():
        assert time.monotonic() < deadline, "la réplique n'a pas reçu la ligne en 10 s"
        time.sleep(0.05)


def _notify(camille) -> Notification:
    return notify(profile=camille, code=Notification.Code.NEW_DOCUMENT, label="Nouveau document")


def test_the_replica_is_a_real_standby_of_the_primary(camille):
    assert _in_recovery("replica") is True
    assert _in_recovery("default") is False


def test_marked_reads_are_served_by_the_replica(camille):
    n = _notify(camille)
    _replicated(n.pk)
    with (
        unit_of_work(),
        replica_reads(),
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        found = list(Notification.objects.filter(profile=camille))
    assert [x.pk for x in found] == [n.pk]
    assert len(on_replica.captured_queries) == 1
    assert on_primary.captured_queries == []


def test_a_unit_of_work_that_wrote_reads_its_write_on_the_primary(camille):
    with unit_of_work(), replica_reads():
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            n = _notify(camille)
            assert Notification.objects.filter(pk=n.pk).exists()  # at once, whatever the lag
        assert on_replica.captured_queries == []


def test_history_page_reads_the_replica_until_the_browser_writes(client, camille):
    _replicated(_notify(camille).pk)
    client.force_login(camille.user)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = client.get(reverse("portal:history"))
    assert response.status_code == 200
    assert any("audit_trace" in q["sql"] for q in on_replica.captured_queries)
    assert STICKY_COOKIE not in response.cookies  # only its own trace was written

    changed = client.post(reverse("portal:confidentiality"), {"mask_new_documents": "on"})
    assert changed.status_code == 302
    cookie = changed.cookies[STICKY_COOKIE]
    assert cookie["max-age"] == settings.MES_DB_REPLICA_STICKY_SECONDS and cookie["httponly"]
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        after = client.get(reverse("portal:history"), {"onglet": "mes-activites"})
    assert on_replica.captured_queries == []  # the write is shown from the primary
    assert "Modification de la confidentialité par défaut" in after.content.decode()
