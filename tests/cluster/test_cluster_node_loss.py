"""One node lost under load on the 3-node cluster: a broker, one Cassandra node, two.

Replication 3 everywhere, ``min.insync.replicas`` 2, state at ``LOCAL_QUORUM``: losing one
node of either kind must cost at most a stall, never a reading; losing two Cassandra nodes
makes QUORUM impossible, so the workers must wait (retrying, committing nothing) and catch
up once a second node is back. Each scenario prints sent / applied / dead-lettered / lost /
duplicated and the longest stall, and asserts nothing lost and nothing applied twice.
"""

from __future__ import annotations

import time

import pytest
from cluster_checks import committed_offsets, input_leaders, report, under_load
from fault_harness import FaultApp

pytestmark = [pytest.mark.timeout(600)]


def test_leader_broker_of_the_input_killed_and_restarted(cluster_app: FaultApp) -> None:
    app = cluster_app
    under_load(app)
    before = input_leaders(app)
    leader, led = before.most_common(1)[0]
    victim = f"kafka-{leader}"
    assert app.servers.kill(victim)
    killed = time.monotonic()
    app.wait_until(
        "input leadership moved off the killed broker",
        lambda: leader not in input_leaders(app),
        timeout=60,
    )
    moved_after = time.monotonic() - killed
    app.run_for(10.0)
    app.servers.up((victim,), timeout=180)
    outcome = app.settle(stuck_after=time.monotonic() - killed + 60)
    report(
        outcome,
        killed=f"{victim} (leader of {led} of {app.partitions} input partitions)",
        leadership_moved_after_s=round(moved_after, 1),
        down_for_s=round(time.monotonic() - killed, 1),
    )
    outcome.assert_clean()


def test_one_cassandra_node_killed_and_restarted(cluster_app: FaultApp) -> None:
    app = cluster_app
    under_load(app)
    assert app.servers.kill("cassandra-2")
    killed = time.monotonic()
    app.run_for(10.0)
    app.servers.up(("cassandra-2",), timeout=180)
    outcome = app.settle(stuck_after=time.monotonic() - killed + 60)
    report(outcome, killed="cassandra-2", down_for_s=round(time.monotonic() - killed, 1))
    outcome.assert_clean()


OUTAGE_SECONDS = 25.0
GRACE_SECONDS = 5.0
"""A batch whose writes were acknowledged just before the kill may still commit after it."""


def test_two_cassandra_nodes_down_workers_wait_then_catch_up(cluster_app: FaultApp) -> None:
    app = cluster_app
    under_load(app)
    assert app.servers.kill("cassandra-2")
    assert app.servers.kill("cassandra-3")
    killed = time.monotonic()
    app.run_for(GRACE_SECONDS)
    committed_early = committed_offsets(app)
    applied_early = app.applied_count()  # None: the state can't be read at QUORUM now
    app.run_for(OUTAGE_SECONDS)
    committed_late = committed_offsets(app)
    # One node back: two of three replicas make a quorum again.
    app.servers.up(("cassandra-2",), timeout=180)
    outcome = app.settle(stuck_after=time.monotonic() - killed + 60)
    report(
        outcome,
        killed="cassandra-2 and cassandra-3",
        committed_during_outage=committed_late - committed_early,
        state_readable_at_quorum_during_outage=applied_early is not None,
        down_for_s=round(time.monotonic() - killed, 1),
    )
    app.servers.up(("cassandra-3",), timeout=180)
    outcome.assert_clean()
    assert committed_late == committed_early, "input offsets committed without a quorum"
