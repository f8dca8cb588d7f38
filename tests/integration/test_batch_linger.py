"""A poll with a linger hands over a partial batch once records came, not at its timeout;
a backlog still fills whole batches."""

from __future__ import annotations

import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from streamcore.kafka.consumer import BatchConsumer, InputRecord
from streamcore.settings import Settings


def _topic_with(settings: Settings, topic: str, count: int) -> None:
    config = settings.kafka.client_config()
    admin = AdminClient(config)  # kept alive until the topic exists
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    producer = Producer(config)
    for n in range(count):
        producer.produce(topic, key=b"k", value=str(n).encode())
    assert producer.flush(10) == 0


def _first_records(consumer: BatchConsumer, max_records: int, linger: float) -> list[InputRecord]:
    """The first non-empty poll (the group's join comes first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        records = consumer.poll_batch(max_records, timeout=30.0, linger=linger)
        if records:
            return records
    raise AssertionError("no records within 60 s")


def test_a_partial_batch_comes_after_the_linger_not_the_timeout(
    settings: Settings, app_name: str
) -> None:
    topic = f"{app_name}.linger"
    _topic_with(settings, topic, 10)
    consumer = BatchConsumer(settings.kafka.client_config(), f"{app_name}.g", [topic])
    try:
        started = time.monotonic()
        records = _first_records(consumer, 5000, linger=0.05)
        waited = time.monotonic() - started
        assert [r.value for r in records] == [str(n).encode() for n in range(10)]
        # Without the linger this poll waits its whole 30 s timeout for 5000 records.
        assert waited < 20, f"a partial batch waited {waited:.1f} s"
    finally:
        consumer.close()


def test_a_backlog_still_fills_whole_batches(settings: Settings, app_name: str) -> None:
    topic = f"{app_name}.backlog"
    _topic_with(settings, topic, 3000)
    consumer = BatchConsumer(settings.kafka.client_config(), f"{app_name}.g", [topic])
    try:
        seen = _first_records(consumer, 1000, linger=0.05)
        while len(seen) < 3000:
            batch = consumer.poll_batch(1000, timeout=30.0, linger=0.05)
            assert len(batch) == min(1000, 3000 - len(seen)), "a backlog gave a partial batch"
            seen += batch
        assert [r.value for r in seen] == [str(n).encode() for n in range(3000)]
    finally:
        consumer.close()
