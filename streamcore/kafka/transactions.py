"""The output side of a worker: derived tasks, dead letters and input offsets, atomically.

One Kafka transaction per batch holds every record the batch produces and the consumer
offsets that mark the batch done. Either all of it becomes visible to ``read_committed``
readers or none does, so a crash between "state durable" and "commit" replays the batch
without duplicating what it produced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException, Producer, TopicPartition

from streamcore.kafka.clients import PRODUCER_DEFAULTS
from streamcore.kafka.consumer import Headers, Partition
from streamcore.kafka.options import layered

log = logging.getLogger(__name__)


@dataclass(slots=True)
class OutputRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers | None = None


class TransactionFailed(Exception):
    """The transaction was aborted; nothing it held is visible. ``fatal``: make a new producer."""

    def __init__(self, message: str, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


class TransactionalOutput:
    def __init__(
        self, client_config: dict[str, Any], transactional_id: str, timeout_ms: int = 15_000
    ) -> None:
        self.config = layered(
            {
                # Same partitioner as the SDK, so a derived task lands with its entity
                # (a user's partitioner applies to both alike).
                "partitioner": PRODUCER_DEFAULTS["partitioner"],
                "linger.ms": 5,
                "compression.type": "lz4",
                "transaction.timeout.ms": timeout_ms,
            },
            client_config,
            {"transactional.id": transactional_id, "enable.idempotence": True},
        )
        self._producer = Producer(self.config)
        self._producer.init_transactions(30)

    def commit(
        self,
        records: Iterable[OutputRecord],
        offsets: dict[Partition, int],
        group_metadata: Any,
    ) -> int:
        """Produce ``records`` and commit ``offsets`` (next offset to read) as one unit."""
        count = 0
        try:
            self._producer.begin_transaction()
            for record in records:
                self._produce(record)
                count += 1
            if offsets:
                self._producer.send_offsets_to_transaction(
                    [TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                    group_metadata,
                    30,
                )
            self._producer.commit_transaction(60)
        except KafkaException as exc:
            error = exc.args[0]
            fatal = bool(error.fatal())
            if not fatal:
                try:
                    self._producer.abort_transaction(30)
                except KafkaException:
                    fatal = True
            raise TransactionFailed(str(error), fatal=fatal) from exc
        return count

    def _produce(self, record: OutputRecord) -> None:
        while True:
            try:
                self._producer.produce(
                    record.topic, key=record.key, value=record.value, headers=record.headers
                )
                return
            except BufferError:
                self._producer.poll(0.05)

    def close(self) -> None:
        self._producer.flush(10)
