"""What the cluster scenarios look at besides the fault harness's accounting."""

from __future__ import annotations

from collections import Counter

from confluent_kafka import Consumer, TopicPartition
from fault_harness import QUIET, RESULTS, FaultApp, Outcome

from streamcore.kafka.clients import make_admin


def input_leaders(app: FaultApp) -> Counter[int]:
    """Broker id -> input partitions it leads."""
    topic = app.topic("input")
    metadata = make_admin(app.settings.kafka).list_topics(topic, timeout=10)
    return Counter(p.leader for p in metadata.topics[topic].partitions.values())


def committed_offsets(app: FaultApp) -> int:
    """The ingest group's committed input offsets, summed."""
    return sum(committed for committed, _end in lags(app))


def lags(app: FaultApp) -> list[tuple[int, int]]:
    """(committed offset, end offset) of each input partition for the ingest group."""
    consumer = Consumer(
        {**app.settings.kafka.client_config(), **QUIET, "group.id": f"{app.app_name}.ingest"}
    )
    try:
        partitions = [TopicPartition(app.topic("input"), p) for p in range(app.partitions)]
        committed = consumer.committed(partitions, timeout=10)
        ends = [consumer.get_watermark_offsets(p, timeout=10)[1] for p in partitions]
        return [(max(c.offset, 0), end) for c, end in zip(committed, ends, strict=True)]
    finally:
        consumer.close()


def report(outcome: Outcome, **facts: object) -> None:
    """Print the outcome; its scenario's own facts go into the run's summary too."""
    outcome.details.update(facts)
    outcome.report()
    RESULTS.append("    " + ", ".join(f"{key}: {value}" for key, value in facts.items()))


def under_replicated(app: FaultApp) -> int:
    """Partitions of every topic (the internal ones too) missing an in-sync replica."""
    metadata = make_admin(app.settings.kafka).list_topics(timeout=10)
    return sum(
        len(p.isrs) < len(p.replicas)
        for topic in metadata.topics.values()
        for p in topic.partitions.values()
    )


def under_load(app: FaultApp, count: int = 3000, seconds: float = 30.0) -> None:
    """Two workers, ``count`` readings sent over ``seconds``, and the first tenth applied:
    the state every scenario injects its fault into."""
    app.start_workers(2)
    app.send(count=count, seconds=seconds)
    app.wait_applied(count // 10)
