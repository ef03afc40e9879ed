"""Failover under load (issue 16 items 2 and 7): kill -9 the primary's postmaster while the
application deposits through PgBouncer; Patroni promotes the synchronous standby, the service
recovers by itself, and every acknowledged deposit is there, whole.

It kills a PostgreSQL server: it runs only when asked (MES_TEST_FAILOVER=1), against the
cluster of drills/cluster.py, as .ci/run's cluster step does.
"""

from __future__ import annotations

import os

import pytest

from drills import cluster
from drills.kill_primary import run

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.environ.get("MES_TEST_FAILOVER") != "1", reason="MES_TEST_FAILOVER=1 absent"
    ),
]


def test_no_acknowledged_deposit_is_lost_when_the_primary_is_killed():
    layout = cluster.layout_from()
    report = run(layout, threads=3, before=5, after=4)
    print("\n".join(report.lines()))

    assert report.old_leader != report.new_leader
    assert report.acknowledged_before > 0 and report.acknowledged_after > 0
    assert report.missing == [] and report.altered == []
    assert report.broken == [] and report.unexplained == []
    assert report.recovered_after is not None and report.recovered_after < 60
    # The old primary comes back as the synchronous standby by itself (pg_rewind).
    assert report.cluster_healthy_after is not None
    assert report.ok
