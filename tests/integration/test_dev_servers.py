"""The dev servers are real: a record goes through Kafka, a row through Cassandra."""

from __future__ import annotations

import uuid
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from streamcore.dev import DevServers
from streamcore.settings import Settings
from streamcore.state.session import cql_answers, cql_not_ready, cql_schema_version


def test_record_round_trips_through_the_broker(settings: Settings, app_name: str) -> None:
    topic = f"{app_name}.roundtrip"
    config = settings.kafka.client_config()
    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result()

    producer = Producer({**config, "enable.idempotence": True})
    producer.produce(topic, key=b"ip:192.0.2.1", value=b"hello streamcore")
    assert producer.flush(10) == 0

    consumer = Consumer({**config, "group.id": f"{app_name}.g", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        message = None
        for _ in range(60):
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                break
        assert message is not None and message.error() is None
        assert (message.key(), message.value()) == (b"ip:192.0.2.1", b"hello streamcore")
    finally:
        consumer.close()


def test_row_round_trips_through_cassandra(cassandra_session: Any, keyspace: str) -> None:
    cassandra_session.execute(
        f"CREATE TABLE {keyspace}.profiles (eid text PRIMARY KEY, attrs map<text, text>)"
    )
    eid = str(uuid.uuid4())
    cassandra_session.execute(
        f"INSERT INTO {keyspace}.profiles (eid, attrs) VALUES (%s, %s)",
        (eid, {"hostname": "example.org"}),
    )
    row = cassandra_session.execute(
        f"SELECT attrs FROM {keyspace}.profiles WHERE eid = %s", (eid,)
    ).one()
    assert row.attrs == {"hostname": "example.org"}


def test_up_again_reuses_the_running_servers(dev_servers: DevServers) -> None:
    before = {s.name: s.pid for s in dev_servers.status()}
    after = dev_servers.up()
    assert all(s.ready for s in after)
    assert not any(s.started_here for s in after)
    assert {s.name: s.pid for s in after} == before
    assert all(dev_servers.not_ready(name) is None for name in dev_servers.names)


def test_a_node_is_ready_for_a_ring_only_when_it_sees_every_peer(settings: Settings) -> None:
    """The cluster's readiness probe: the one-node server answers, and is a whole ring of
    one (no peers, one schema version), but not a node of a three-node ring."""
    assert cql_answers(settings.cassandra, pinned=True)
    assert cql_answers(settings.cassandra, pinned=True, ring_peers=0)
    assert not cql_answers(settings.cassandra, pinned=True, ring_peers=2)
    reason = cql_not_ready(settings.cassandra, pinned=True, ring_peers=2)
    assert reason is not None and "0 of 2 peers known: none" in reason


def test_each_node_reports_its_own_schema_version(dev_servers: DevServers) -> None:
    """What the cluster suite's ring healing compares: the version in ``system.local``,
    the one ``cql_not_ready`` reports, and nothing for a node that does not answer."""
    versions = dev_servers.schema_versions()
    assert list(versions) == ["cassandra"]
    own = versions["cassandra"]
    assert own is not None
    settings = dev_servers.cassandra_settings()
    reason = cql_not_ready(settings, pinned=True, ring_peers=1)
    assert reason is not None and reason.startswith(f"schema {own};")
    nowhere = settings.model_copy(update={"contact_points": ["127.0.0.9"], "port": 1})
    assert cql_schema_version(nowhere, timeout=1.0) is None
