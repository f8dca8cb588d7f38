"""The input side of a worker: batches of records from a consumer group.

Cooperative-sticky assignment (a rebalance moves only the partitions that must move) and
``read_committed`` (aborted derived tasks are never seen). Offsets are never committed
here: the worker hands them to its transaction once state is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from streamcore.kafka.options import layered

log = logging.getLogger(__name__)

Partition = tuple[str, int]
Headers = list[tuple[str, str | bytes | None]]


@dataclass(slots=True)
class InputRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: Headers | None = None
    """Kafka headers (None when the record has none): the derivation chain, the control
    topic's signature."""


class BatchConsumer:
    """``options``: this consumer's defaults (e.g. the worker's ``session.timeout.ms``);
    the user's ``client_options`` in ``client_config`` win over them (``options.layered``)."""

    def __init__(
        self,
        client_config: dict[str, Any],
        group_id: str,
        topics: Sequence[str],
        *,
        on_assign: Callable[[list[Partition]], None] | None = None,
        on_revoke: Callable[[list[Partition]], None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        self.assignment: set[Partition] = set()
        self.rebalances = 0
        self._topics = list(topics)
        self._created: Consumer | None = None
        self._config = layered(
            {
                "partition.assignment.strategy": "cooperative-sticky",
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 100,
                **(options or {}),
            },
            client_config,
            {
                "group.id": group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_committed",
            },
        )

    @property
    def _consumer(self) -> Consumer:
        """The client, made and subscribed on first use.

        Lazily, so a consumer that is built but never used holds no librdkafka handle: an
        unclosed group consumer destroyed by Python's garbage collector can block the
        collecting thread forever (its rebalance callbacks need the GIL it holds).
        """
        if self._created is None:
            self._created = Consumer(self._config)
            self._created.subscribe(
                self._topics,
                on_assign=self._assigned,
                on_revoke=self._revoked,
                on_lost=self._revoked,
            )
        return self._created

    def _assigned(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        added = [(p.topic, p.partition) for p in partitions]
        self.assignment.update(added)
        self.rebalances += 1
        log.info("assigned %s", added)
        if self._on_assign is not None:
            self._on_assign(added)

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        removed = [(p.topic, p.partition) for p in partitions]
        self.assignment.difference_update(removed)
        self.rebalances += 1
        log.info("revoked %s", removed)
        if self._on_revoke is not None:
            self._on_revoke(removed)

    def poll_batch(self, max_records: int, timeout: float) -> list[InputRecord]:
        """Up to ``max_records`` records; broker errors are logged, not returned."""
        records = []
        for message in self._consumer.consume(num_messages=max_records, timeout=timeout):
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer error: %s", error)
                continue
            records.append(record_of(message))
        return records

    def rewind(self, offsets: dict[Partition, int]) -> None:
        """Go back to ``offsets`` so a failed batch is read again."""
        for (topic, partition), offset in offsets.items():
            if (topic, partition) in self.assignment:
                self._consumer.seek(TopicPartition(topic, partition, offset))

    def high_watermark(self, partition: Partition, timeout: float = 10.0) -> int:
        """The partition's end as the broker reports it now (asks the broker)."""
        topic, number = partition
        _, high = self._consumer.get_watermark_offsets(
            TopicPartition(topic, number), timeout=timeout, cached=False
        )
        return int(high)

    def positions(self) -> dict[Partition, int]:
        """The next offset to read of each assigned partition that has a position
        (past transaction markers and aborted records, unlike the last record + 1)."""
        assigned = [TopicPartition(t, p) for t, p in self.assignment]
        found = self._consumer.position(assigned) if assigned else []
        return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}

    def group_metadata(self) -> Any:
        return self._consumer.consumer_group_metadata()

    def committed(self, partitions: list[Partition], timeout: float = 10.0) -> dict[Partition, int]:
        found = self._consumer.committed(
            [TopicPartition(t, p) for t, p in partitions], timeout=timeout
        )
        return {(tp.topic, tp.partition): tp.offset for tp in found}

    def lag(self) -> dict[Partition, int]:
        """Records behind the end of each assigned partition, from the client's cache.

        The end is the high watermark of the last fetch (the last stable offset under
        ``read_committed``), so this asks the broker nothing; a partition not fetched yet
        is left out.
        """
        assigned = [TopicPartition(t, p) for t, p in self.assignment]
        lag: dict[Partition, int] = {}
        for tp in self._consumer.position(assigned) if assigned else []:
            _, high = self._consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                lag[(tp.topic, tp.partition)] = max(0, high - tp.offset)
        return lag

    def close(self) -> None:
        """Leave the group now, so the partitions move without a session timeout."""
        if self._created is not None:
            self._created.close()
            self._created = None


def record_of(message: Message) -> InputRecord:
    _, timestamp = message.timestamp()
    return InputRecord(
        topic=message.topic() or "",
        partition=message.partition() or 0,
        offset=message.offset() or 0,
        key=message.key(),
        value=message.value(),
        timestamp_ms=timestamp,
        headers=_header_list(message.headers()),
    )


def _header_list(headers: Headers | dict[str, str | bytes | None] | None) -> Headers | None:
    return list(headers.items()) if isinstance(headers, dict) else headers


def first_offsets(records: Sequence[InputRecord]) -> dict[Partition, int]:
    """Per partition, the first offset among ``records`` (where to rewind a failed batch)."""
    offsets: dict[Partition, int] = {}
    for record in records:
        partition = (record.topic, record.partition)
        if partition not in offsets or record.offset < offsets[partition]:
            offsets[partition] = record.offset
    return offsets
