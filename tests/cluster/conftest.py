"""The cluster fault suite's three Kafka nodes and three Cassandra nodes, for its session.

Collected only when ``STREAMCORE_CLUSTER_TESTS=1`` (``scripts/test-cluster`` sets it):
the cluster takes minutes to start and about 4 GiB, too much for every ``scripts/test``.
It is a ``DevServers`` with ``nodes=3`` in ``.streamcore/cluster`` on free ports (or
``STREAMCORE_CLUSTER_PORT_BASE``, below 32768); the scenarios reuse the one-node fault
suite's harness (tests/faults/fault_harness.py) with replication 3 everywhere.
``STREAMCORE_CLUSTER_KEEP=1`` leaves the cluster running afterwards, reused next time with
the same ``STREAMCORE_CLUSTER_PORT_BASE`` and ``STREAMCORE_CLUSTER_STATE_DIR``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))  # the shared fault harness

from fault_harness import RESULTS, FaultApp, refuse_servers_not_started_here  # noqa: E402
from support import IN_CI  # noqa: E402

from streamcore.dev import DevServers, DevSettings, ServerStatus  # noqa: E402
from streamcore.dev.servers import schema_outliers  # noqa: E402
from streamcore.errors import DevServerError  # noqa: E402
from streamcore.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ENABLED = os.environ.get("STREAMCORE_CLUSTER_TESTS", "") == "1"
KEEP = os.environ.get("STREAMCORE_CLUSTER_KEEP", "") == "1"
NODES = 3
DATACENTER = "datacenter1"
"""What Cassandra's SimpleSnitch (the dev ring's) calls its one datacenter."""


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not ENABLED and collection_path.name.startswith("test_"):
        return True
    return None


def _free_ports(count: int) -> list[int]:
    """Ports free on all three node addresses, below the ephemeral range if possible
    (a broker's outgoing connection may hold an ephemeral port a node then can't bind)."""
    found: list[int] = []
    for port in range(31000, 32700):
        if all(_free(f"127.0.0.{n}", port) for n in range(1, NODES + 1)):
            found.append(port)
            if len(found) == count:
                return found
    raise DevServerError("no free ports for the cluster between 31000 and 32700")


def _free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def cluster_dev_settings() -> DevSettings:
    state_dir = Path(
        os.environ.get("STREAMCORE_CLUSTER_STATE_DIR") or ROOT / ".streamcore" / "cluster"
    )
    base = os.environ.get("STREAMCORE_CLUSTER_PORT_BASE")
    if base:
        return DevSettings(state_dir=state_dir, nodes=NODES, port_base=int(base))
    kafka, controller, native, storage, jmx = _free_jmx_ports()
    return DevSettings(
        state_dir=state_dir,
        nodes=NODES,
        kafka_port=kafka,
        kafka_controller_port=controller,
        cassandra_port=native,
        cassandra_storage_port=storage,
        cassandra_jmx_port=jmx,
    )


def _free_jmx_ports() -> tuple[int, int, int, int, int]:
    """Four free ports, then a run of three (one JMX port per Cassandra node)."""
    ports = _free_ports(4)
    start = ports[-1] + 1
    while not all(_free("127.0.0.1", p) for p in range(start, start + NODES)):
        start += 1
    return ports[0], ports[1], ports[2], ports[3], start


@pytest.fixture(scope="session")
def cluster_servers() -> Iterator[DevServers]:
    settings = cluster_dev_settings()
    servers = DevServers(settings)
    if not KEEP or not all(s.ready for s in _status(servers)):
        # Fresh servers every run (as the fault suite): a restart recovers only this run's
        # topics and tables.
        DevServers(settings.model_copy(update={"nodes": NODES})).down()
        for name in servers.names:
            shutil.rmtree(settings.state_dir / name, ignore_errors=True)
    try:
        statuses = servers.up(timeout=300)
    except DevServerError as exc:
        servers.down()
        if IN_CI:
            pytest.fail(f"cluster servers unavailable under CI: {exc}")
        pytest.skip(f"cluster servers unavailable: {exc}")
    for status in statuses:
        print(status.describe())
    refuse_servers_not_started_here(statuses)
    yield servers
    for name in servers.names:
        servers.resume(name)
    if not KEEP:
        servers.down()


def _status(servers: DevServers) -> list[ServerStatus]:
    try:
        return servers.status()
    except DevServerError:
        return []


@pytest.fixture(scope="session")
def cluster_settings(cluster_servers: DevServers) -> Settings:
    """The application configured for the cluster, as README's "Replication and
    consistency on a cluster" says."""
    kafka = cluster_servers.kafka_settings()
    cassandra = cluster_servers.cassandra_settings().model_copy(
        update={
            "local_dc": DATACENTER,
            "replication_factor": 3,
            "replication_strategy": "NetworkTopologyStrategy",
        }
    )
    base = Settings()
    topics = base.topics.model_copy(update={"replication_factor": 3, "min_insync_replicas": 2})
    return base.model_copy(update={"kafka": kafka, "cassandra": cassandra, "topics": topics})


@pytest.fixture
def healthy_cluster(cluster_servers: DevServers) -> Iterator[DevServers]:
    """Every node running and answering before the scenario and after it."""
    cluster_servers.up(timeout=240)
    yield cluster_servers
    for name in cluster_servers.names:
        cluster_servers.resume(name)
    try:
        cluster_servers.up(timeout=HEAL_AFTER_S)
    except DevServerError as exc:
        _heal_ring(cluster_servers, exc)


HEAL_AFTER_S = 120.0
"""A ring that agrees on one schema takes seconds after a scenario; past this, heal it."""


def _heal_ring(servers: DevServers, failure: DevServerError) -> None:
    """Restart the Cassandra nodes holding a schema the others do not, once, and warn.

    Seen in CI (three times in many runs): after a node's kill and restart, the ring answered CQL
    for minutes without agreeing on the schema (logs idle, hints delivered). Which node is
    odd is told by each node's own version: every node reports the disagreement, so
    restarting the first one that does (as this once did) waits on a ring the odd node
    still splits. A restart makes the odd node pull the schema again. The warning carries
    the probe's reason, for the next time it happens.
    """
    stuck = {name: servers.not_ready(name) for name in servers.names}
    stuck = {name: reason for name, reason in stuck.items() if reason is not None}
    if not stuck:
        # The ring agreed just after the wait, or a broker is what failed: ``up`` tells.
        warnings.warn(f"ready only after {HEAL_AFTER_S:.0f} s: {failure}", stacklevel=1)
        servers.up(timeout=60)
        return
    versions = servers.schema_versions()
    odd = schema_outliers(versions) or list(stuck)
    for name in odd:
        warnings.warn(
            f"healing {name} by a restart (schema versions {versions}): "
            f"{stuck.get(name) or servers.not_ready(name)}",
            stacklevel=1,
        )
        servers.process(name).stop(timeout=60.0)
    servers.up(timeout=240)


@pytest.fixture
def cluster_app(
    request: pytest.FixtureRequest,
    healthy_cluster: DevServers,
    cluster_settings: Settings,
    tmp_path: Path,
) -> Iterator[FaultApp]:
    """A fresh application on the cluster (topics with replication 3 and min ISR 2,
    keyspace with NetworkTopologyStrategy 3), its workers in the local datacenter."""
    scenario = request.node.name.removeprefix("test_")
    with FaultApp(scenario, healthy_cluster, cluster_settings, tmp_path) as app:
        yield app


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS and ENABLED:
        terminalreporter.section(
            "cluster faults: sent / applied / dead-lettered / lost / duplicated"
        )
        for line in RESULTS:
            terminalreporter.write_line(line)
