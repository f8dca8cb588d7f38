"""``streamcore snapshots`` and ``streamcore scheduler`` as the Helm chart runs them: a real
process on the dev servers, probed over HTTP on STREAMCORE_METRICS__PORT like the kubelet
probes it (``/healthz``, ``/readyz``) and Prometheus scrapes it (``/metrics``); SIGTERM
ends it cleanly and takes the endpoint down with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from role_processes import STREAMCORE, free_port, get
from support import CONFIGS, application, wait_for

from streamcore.settings import Settings


@dataclass(frozen=True)
class Role:
    command: str
    config: str
    metric: str
    """A line start /metrics must have: the role's own families when it has some."""


ROLES = {
    "snapshots": Role("snapshots", "snapshots", "# HELP streamcore_hook_calls_total"),
    "scheduler": Role(
        "scheduler", "scheduler", 'streamcore_scheduler_job_runs_total{job="platform:aggregation"'
    ),
}


@contextmanager
def role_process(
    role: Role, settings: Settings, app_name: str, keyspace: str, *, port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``streamcore <role> CONFIG_DIR`` with the environment the chart gives its pods."""
    env = {
        **os.environ,
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__CONTACT_POINTS": json.dumps(settings.cassandra.contact_points),
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
        "STREAMCORE_METRICS__PORT": str(port),
        "STREAMCORE_SNAPSHOTS__TASKS_PER_RUN": "4",
    }
    args = [str(STREAMCORE), role.command, str(CONFIGS / role.config), "--app-name", app_name]
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize("name", ROLES)
def test_role_serves_health_and_metrics_and_stops_on_sigterm(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path, name: str
) -> None:
    role = ROLES[name]
    port = free_port()
    log = tmp_path / f"{name}.log"
    with (
        application(settings, app_name, keyspace, config=role.config),
        role_process(role, settings, app_name, keyspace, port=port, log=log) as process,
    ):

        def ready() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return get(port, "/readyz") == (200, "ok\n")
            except OSError:  # not listening yet
                return False

        wait_for(ready, timeout=90, every=0.5)
        assert get(port, "/healthz") == (200, "ok\n")
        status, text = get(port, "/metrics")
        assert status == 200
        assert any(line.startswith(role.metric) for line in text.splitlines()), text[:2000]
        assert get(port, "/nothing")[0] == 404

        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
        with pytest.raises(OSError):
            get(port, "/healthz")
    assert "stopped" in log.read_text()
