"""The fault suite's own Kafka and Cassandra, started for the session and stopped after it.

The scenarios kill and pause servers, so they never use the shared dev servers: this is a
second ``DevServers`` with its own state directory (``.streamcore/faults``) and ports
(Kafka 29092, Cassandra 29042), sharing only the jar cache with ``streamcore dev up``.
Under ``CI=true`` servers that can't be had fail the run; elsewhere the suite is skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_harness import RESULTS, FaultApp, refuse_servers_not_started_here

from streamcore.dev import DevServers, DevSettings
from streamcore.errors import DevServerError
from streamcore.settings import CassandraSettings, KafkaSettings, Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parents[2]


def fault_dev_settings() -> DevSettings:
    return DevSettings(
        state_dir=ROOT / ".streamcore" / "faults",
        kafka_port=29092,
        kafka_controller_port=29093,
        kafka_heap="512M",
        cassandra_port=29042,
        cassandra_storage_port=27000,
        cassandra_jmx_port=27199,
        cassandra_heap="1G",
    )


@pytest.fixture(scope="session")
def fault_servers() -> Iterator[DevServers]:
    servers = DevServers(fault_dev_settings())
    # Fresh servers for every run: a restart must recover only this run's topics and
    # tables, not every run's before it (500 partitions made a Kafka restart take minutes).
    servers.down()
    shutil.rmtree(servers.settings.state_dir / "kafka", ignore_errors=True)
    shutil.rmtree(servers.settings.state_dir / "cassandra", ignore_errors=True)
    try:
        statuses = servers.up()
    except DevServerError as exc:
        servers.down()
        if IN_CI:
            pytest.fail(f"fault servers unavailable under CI: {exc}")
        pytest.skip(f"fault servers unavailable: {exc}")
    refuse_servers_not_started_here(statuses)
    yield servers
    for name in ("kafka", "cassandra"):
        servers.resume(name)
    servers.down()


@pytest.fixture(scope="session")
def fault_settings(fault_servers: DevServers) -> Settings:
    dev = fault_servers.settings
    return Settings(
        kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{dev.kafka_port}"),
        cassandra=CassandraSettings(contact_points=["127.0.0.1"], port=dev.cassandra_port),
    )


@pytest.fixture
def healthy_servers(fault_servers: DevServers) -> Iterator[DevServers]:
    """Both servers running and answering before the scenario and after it.

    A scenario that failed half-way (a server still paused or killed) leaves them well
    for the next one.
    """
    fault_servers.up(timeout=120)
    yield fault_servers
    for name in ("kafka", "cassandra"):
        fault_servers.resume(name)
    fault_servers.up(timeout=120)


@pytest.fixture
def fault_app(
    request: pytest.FixtureRequest,
    healthy_servers: DevServers,
    fault_settings: Settings,
    tmp_path: Path,
) -> Iterator[FaultApp]:
    """A fresh application on the fault servers, named after the scenario."""
    scenario = request.node.name.removeprefix("test_")
    with FaultApp(scenario, healthy_servers, fault_settings, tmp_path) as app:
        yield app


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the fault servers after the suite's last scenario, not at the end of the whole
    run: the tests that follow get the machine's memory and cores back."""
    here = Path(__file__).parent
    if nextitem is None or here not in Path(nextitem.path).parents:
        DevServers(fault_dev_settings()).down()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        terminalreporter.section("fault suite: sent / applied / dead-lettered / lost / duplicated")
        for line in RESULTS:
            terminalreporter.write_line(line)
