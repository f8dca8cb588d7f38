"""Two applications on one cluster: each gets its own keyspace from its name, never sees the
other's entities, and ``setup`` refuses to hand one application's keyspace to another."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from ipaddress import IPv4Address
from typing import Any

import pytest
from click.testing import CliRunner
from support import delete_topics_with_prefix, running, wait_for

from streamcore.cli import main
from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import build_ingest_worker, open_runtime
from streamcore.settings import Settings, app_keyspace

IP = "192.0.2.10"


@pytest.fixture
def two_apps(settings: Settings, app_name: str, cassandra_session: Any) -> Iterator[list[str]]:
    other = f"t-{uuid.uuid4().hex[:12]}"
    yield [app_name, other]
    delete_topics_with_prefix(settings.kafka.client_config(), f"{other}.")
    for app in (app_name, other):
        cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {app_keyspace(app)}", timeout=60)


def _cli(settings: Settings, *args: str, keyspace: str | None = None) -> Any:
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace or "",
        "STREAMCORE_CONFIG_DIR": str(EXAMPLE_CONFIG_DIR),
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_two_apps_on_one_cluster_never_see_each_others_entities(
    settings: Settings, two_apps: list[str]
) -> None:
    assert not settings.cassandra.keyspace  # nothing set: each app derives its own
    config = load_config(EXAMPLE_CONFIG_DIR)
    for number, app in enumerate(two_apps):
        result = _cli(settings, "setup", str(EXAMPLE_CONFIG_DIR), "--app-name", app)
        assert result.exit_code == 0, result.output
        assert f"keyspace {app_keyspace(app)}: created, owned by {app!r}" in result.output
        points = [DataPoint("ip", IP, "asn", 64500 + number)]
        tasks = [DataPointTask("ip", IP, points)]
        if number == 0:
            tasks.append(
                DataPointTask("ip", "192.0.2.11", [DataPoint("ip", "192.0.2.11", "asn", 1)])
            )
        with DataPointProducer(settings, app, config.model_spec) as producer:
            for task in tasks:
                producer.send(task)
        runtime = open_runtime(settings, config, app)
        try:
            assert runtime.settings.cassandra.keyspace == app_keyspace(app)
            with running(build_ingest_worker(runtime)):
                key = ("ip", IPv4Address(tasks[-1].eid))
                wait_for(lambda rt=runtime, key=key: rt.store().load([key])[0].exists)
        finally:
            runtime.close()

    first, second = two_apps
    for number, app in enumerate(two_apps):
        record = json.loads(_cli(settings, "entity", "get", "ip", IP, "--app-name", app).output)
        assert record["asn"]["v"] == 64500 + number
    listed = {
        app: sorted(
            json.loads(line)["eid"]
            for line in _cli(
                settings, "entity", "list", "ip", "--app-name", app
            ).output.splitlines()
        )
        for app in two_apps
    }
    assert listed == {first: [IP, "192.0.2.11"], second: [IP]}
    assert _cli(settings, "entity", "get", "ip", "192.0.2.11", "--app-name", second).exit_code == 1

    # Pointing the second app at the first one's keyspace is refused, with both names.
    taken = _cli(
        settings,
        "setup",
        str(EXAMPLE_CONFIG_DIR),
        "--app-name",
        second,
        keyspace=app_keyspace(first),
    )
    assert taken.exit_code == 1
    assert f"keyspace {app_keyspace(first)} belongs to application {first!r}" in taken.output
    again = _cli(settings, "setup", str(EXAMPLE_CONFIG_DIR), "--app-name", first)
    assert f"keyspace {app_keyspace(first)}: exists, owned by {first!r}" in again.output


def test_app_keyspace_names() -> None:
    assert app_keyspace("streamcore") == "streamcore"
    assert app_keyspace("My-App.v2") == "my_app_v2"
    assert app_keyspace("9lives") == "app_9lives"
    assert app_keyspace("system_auth") == "app_system_auth"
    long = app_keyspace("x" * 100)
    assert len(long) == 48 and long != app_keyspace("x" * 99)
