"""Fixtures giving every test the real servers and names of its own.

The servers are the dev servers (``streamcore dev up``): reused when they answer, started
when they don't. Under ``CI=true`` a server that can't be had fails the run; elsewhere the
tests that need it are skipped with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import IN_CI, delete_topics_with_prefix

from streamcore.dev import DevServers
from streamcore.dev.prometheus import find_tool
from streamcore.errors import DevServerError
from streamcore.settings import CassandraSettings, KafkaSettings, Settings


@pytest.fixture(scope="session")
def dev_servers() -> DevServers:
    servers = DevServers()
    try:
        servers.up()
    except DevServerError as exc:
        if IN_CI:
            pytest.fail(f"dev servers unavailable under CI: {exc}")
        pytest.skip(f"dev servers unavailable (run `streamcore dev up`): {exc}")
    return servers


def prometheus_tool(name: str) -> Path:
    """``prometheus`` or ``promtool`` from scripts/install-prometheus.sh: a missing one
    fails the run under CI and skips the test elsewhere."""
    try:
        return find_tool(name)
    except DevServerError as exc:
        if IN_CI:
            pytest.fail(f"CI=true: {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def promtool() -> Path:
    return prometheus_tool("promtool")


@pytest.fixture(scope="session")
def prometheus_binary() -> Path:
    return prometheus_tool("prometheus")


@pytest.fixture(scope="session")
def settings(dev_servers: DevServers) -> Settings:
    dev = dev_servers.settings
    return Settings(
        kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{dev.kafka_port}"),
        cassandra=CassandraSettings(contact_points=["127.0.0.1"], port=dev.cassandra_port),
    )


@pytest.fixture
def app_name(settings: Settings) -> Iterator[str]:
    """A fresh application name; its topics (``<app_name>.*``) are deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    yield name
    delete_topics_with_prefix(settings.kafka.client_config(), f"{name}.")


@pytest.fixture
def consumer_group(app_name: str) -> str:
    return f"{app_name}.group"


@pytest.fixture(scope="session")
def cassandra_session(settings: Settings) -> Iterator[Any]:
    from streamcore.state.session import open_session

    session = open_session(settings.cassandra)
    yield session
    session.cluster.shutdown()


@pytest.fixture
def keyspace(cassandra_session: Any) -> Iterator[str]:
    """A fresh keyspace, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    cassandra_session.execute(
        f"CREATE KEYSPACE {name} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    yield name
    cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=60)
