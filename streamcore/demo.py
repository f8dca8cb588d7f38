"""The quick start's main job: show the whole path works on the local servers.

Today it round-trips a record through Kafka and a row through Cassandra; it grows with the
platform into the full ingest -> profile -> snapshot demo.
"""

from __future__ import annotations

import sys
import time
import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streamcore.settings import Settings
from streamcore.state.session import open_session


def main() -> int:
    settings = Settings()
    run = uuid.uuid4().hex[:8]
    topic = f"demo-{run}.roundtrip"
    config = settings.kafka.client_config()

    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result()
    producer = Producer({**config, "enable.idempotence": True})
    producer.produce(topic, key=b"ip:192.0.2.1", value=b'{"attr": "hostname", "v": "example.org"}')
    producer.flush(10)
    consumer = Consumer({**config, "group.id": f"demo-{run}", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    started = time.monotonic()
    message = None
    while time.monotonic() - started < 30:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            break
    consumer.close()
    admin.delete_topics([topic])
    if message is None or message.error() is not None:
        print("kafka: no record came back", file=sys.stderr)
        return 1
    print(f"kafka: {message.key()!r} -> {message.value()!r} via {topic}")

    session = open_session(settings.cassandra)
    try:
        keyspace = f"demo_{run}"
        session.execute(
            f"CREATE KEYSPACE {keyspace} WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute(f"CREATE TABLE {keyspace}.profile (eid text PRIMARY KEY, hostname text)")
        session.execute(
            f"INSERT INTO {keyspace}.profile (eid, hostname) VALUES (%s, %s)",
            ("192.0.2.1", "example.org"),
        )
        row = session.execute(f"SELECT eid, hostname FROM {keyspace}.profile").one()
        print(f"cassandra: {row.eid} -> {row.hostname} via {keyspace}.profile")
        session.execute(f"DROP KEYSPACE {keyspace}", timeout=60)
    finally:
        session.cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
