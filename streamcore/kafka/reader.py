"""Reading a whole topic in one process, outside any consumer group.

The control topic must reach every replica in full, and ``streamcore control`` reads every
replica's acknowledgement: neither may be split between consumers. ``TopicReader`` assigns
itself every partition of its topic (``assign``, not ``subscribe``), never joins a group
and never commits; the process tracks its own position (in memory; a restarted replica
starts again from where its caller says).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, TopicPartition

from streamcore.errors import StreamcoreError
from streamcore.kafka.consumer import InputRecord, record_of
from streamcore.kafka.options import layered

Start = Literal["earliest", "latest"] | int
"""Where to begin: the first or the next message, or a timestamp (ms since the epoch)."""


class TopicReader:
    """Every partition of ``topic``, from ``start``; ``poll`` returns records in order."""

    def __init__(
        self, client_config: dict[str, Any], topic: str, start: Start = "earliest"
    ) -> None:
        self.topic = topic
        self._consumer = Consumer(
            layered(
                {"fetch.wait.max.ms": 100},
                client_config,
                {  # needed by the client, never used: no subscribe, no commit
                    "group.id": f"streamcore-reader-{uuid.uuid4().hex}",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                },
            )
        )
        metadata = self._consumer.list_topics(topic, timeout=10)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            self._consumer.close()
            raise StreamcoreError(f"topic {topic} does not exist (run `streamcore setup`)")
        self.partitions = sorted(found.partitions)
        self._consumer.assign(self._start_offsets(start))

    def _start_offsets(self, start: Start) -> list[TopicPartition]:
        if start == "earliest":
            return [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in self.partitions]
        if start == "latest":
            return [TopicPartition(self.topic, p, OFFSET_END) for p in self.partitions]
        wanted = [TopicPartition(self.topic, p, start) for p in self.partitions]
        found = self._consumer.offsets_for_times(wanted, timeout=10)
        # -1: no message at or after the time; start at the end then.
        return [
            TopicPartition(self.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
            for tp in found
        ]

    def seek_from_end(self, count: int) -> None:
        """Move every partition back to ``count`` offsets before its end (transaction
        markers take offsets too, so a transactional topic may give fewer messages)."""
        offsets = []
        for p in self.partitions:
            low, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=10
            )
            offsets.append(TopicPartition(self.topic, p, max(low, high - count)))
        self._consumer.assign(offsets)

    def read_available(self, timeout: float = 30.0) -> list[InputRecord]:
        """Every record from the current positions to the topic's end as of now."""
        return self.read_to(self.end_offsets(), timeout)

    def end_offsets(self) -> dict[int, int]:
        """Partition -> the offset the next message will get (asks the broker)."""
        return {
            p: self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)[1]
            for p in self.partitions
        }

    def poll(self, timeout: float, max_records: int = 500) -> list[InputRecord]:
        """The next records (possibly none after ``timeout`` seconds)."""
        records = []
        for message in self._consumer.consume(num_messages=max_records, timeout=timeout):
            error = message.error()
            if error is None:
                records.append(record_of(message))
            elif error.code() != KafkaError._PARTITION_EOF:
                raise StreamcoreError(f"reading {self.topic}: {error}")
        return records

    def read_to(self, ends: dict[int, int], timeout: float = 30.0) -> list[InputRecord]:
        """Every record before ``ends`` (from ``end_offsets``), then stop there."""
        records: list[InputRecord] = []
        deadline = time.monotonic() + timeout
        while not self._reached(ends):
            if time.monotonic() > deadline:
                raise StreamcoreError(f"reading {self.topic} to {ends} timed out")
            records.extend(self.poll(0.2))
        return records

    def _reached(self, ends: dict[int, int]) -> bool:
        positions = self._consumer.position([TopicPartition(self.topic, p) for p in ends])
        for tp in positions:
            end = ends[tp.partition]
            if tp.offset >= 0 and tp.offset >= end:
                continue
            if tp.offset < 0:  # nothing fetched yet: done only if there is nothing to fetch
                low, _ = self._consumer.get_watermark_offsets(tp, timeout=10)
                if low >= end:
                    continue
            return False
        return True

    def close(self) -> None:
        self._consumer.close()
