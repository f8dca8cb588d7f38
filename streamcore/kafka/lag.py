"""Consumer-group lag read from outside the group (the API's queue telemetry).

A consumer carrying the group's id but never subscribing doesn't join the group: it only
reads the committed offsets and the partitions' high watermarks.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition


def group_lag(
    client_config: dict[str, Any], group: str, topic: str, timeout: float = 5.0
) -> dict[str, Any]:
    """``{"group", "topic", "partitions": [{"partition", "committed", "end", "lag"}], "lag"}``;
    ``RuntimeError`` when the broker can't be asked."""
    consumer = Consumer(
        {**client_config, "group.id": group, "enable.auto.commit": False, "log_level": 0}
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            return {"group": group, "topic": topic, "partitions": [], "lag": 0}
        wanted = [TopicPartition(topic, p) for p in sorted(described.partitions)]
        committed = consumer.committed(wanted, timeout=timeout)
        partitions = []
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout)
            position = tp.offset if tp.offset >= 0 else low
            partitions.append(
                {
                    "partition": tp.partition,
                    "committed": tp.offset if tp.offset >= 0 else None,
                    "end": high,
                    "lag": max(0, high - position),
                }
            )
    except KafkaException as exc:
        raise RuntimeError(f"Kafka lag of {group} unavailable: {exc}") from exc
    finally:
        consumer.close()
    return {
        "group": group,
        "topic": topic,
        "partitions": partitions,
        "lag": sum(p["lag"] for p in partitions),
    }
