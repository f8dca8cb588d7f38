"""A Kubernetes upgrade: every broker restarted one by one, then every Cassandra node,
while ingestion workers, a snapshot worker and the scheduler run under load.

Each node is stopped cleanly (SIGTERM, as a pod is), started again and, for a broker,
the next one waits until every partition is fully replicated again (what a careful
rollout waits for). No role may exit, a snapshot run started during the Cassandra part
must finish, and nothing may be lost or applied twice.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from cluster_checks import report, under_load, under_replicated
from fault_harness import CONFIG, FaultApp

pytestmark = [pytest.mark.timeout(1200)]


def test_rolling_restart_of_every_node_under_load(cluster_app: FaultApp) -> None:
    app = cluster_app
    app.start_workers(1, role="snapshots")
    app.start_workers(1, role="scheduler")
    under_load(app, count=6000, seconds=150)
    started = time.monotonic()
    restarts: dict[str, float] = {}
    for name in app.servers.select(("kafka",)):
        began = time.monotonic()
        app.servers.down((name,))
        app.servers.up((name,), timeout=240)
        app.wait_until("every partition fully replicated", lambda: under_replicated(app) == 0, 180)
        restarts[name] = round(time.monotonic() - began, 1)
        app.check_workers()
    run = subprocess.Popen(
        [sys.executable, "-m", "streamcore.cli", "make-snapshots", str(CONFIG)]
        + ["--app-name", app.app_name, "--wait", "--timeout", "600"],
        env=app.workers[0].env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    for name in app.servers.select(("cassandra",)):
        began = time.monotonic()
        app.servers.down((name,))
        app.servers.up((name,), timeout=240)
        restarts[name] = round(time.monotonic() - began, 1)
        app.check_workers()
    rolled = time.monotonic() - started
    outcome = app.settle(timeout=300, stuck_after=120)
    output, _ = run.communicate(timeout=300)
    report(
        outcome,
        restarts_s=restarts,
        rollout_s=round(rolled, 1),
        snapshot_run=output.decode(errors="replace").strip().splitlines()[-1:],
        roles_alive=[w.name for w in app.workers if w.alive()],
    )
    outcome.assert_clean()
    assert run.returncode == 0, output.decode(errors="replace")
    assert all(w.alive() for w in app.workers)
