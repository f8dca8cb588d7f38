"""The ingestion worker: one member of the consumer group that reads the input topic.

Each batch: decode -> group by entity (input order kept) -> load records -> run the
processor -> write state -> one transaction with derived tasks, dead letters and offsets.
The order is the guarantee: offsets are committed only after the state is durable, and in
the same transaction as everything the batch produced (see ``commit_batch``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from streamcore.errors import DataPointError, InvalidDataPointError, RawRecord, StateError
from streamcore.ingest.cache import EntityCache, EntityKey
from streamcore.ingest.collector import use_batch_gc
from streamcore.ingest.processor import TaskProcessor
from streamcore.kafka.consumer import BatchConsumer, InputRecord, Partition
from streamcore.kafka.transactions import OutputRecord, TransactionalOutput, TransactionFailed
from streamcore.model.control import DeadLetter
from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.state.record import EntityRecord

log = logging.getLogger(__name__)


class TaskCodec(Protocol):
    def decode(self, data: bytes, record: RawRecord | None = None) -> DataPointTask: ...
    def encode(self, task: DataPointTask) -> bytes: ...


class DeadLetterEncoder(Protocol):
    def encode(self, letter: DeadLetter) -> bytes: ...


class StateStore(Protocol):
    def load(self, keys: list[tuple[str, Any]]) -> list[EntityRecord]: ...
    def write(self, records: list[EntityRecord], now: datetime | None = None) -> int: ...


@dataclass(frozen=True)
class WorkerTopics:
    input: str
    dead_letter: str


@dataclass
class BatchResult:
    records: int = 0
    tasks: int = 0
    data_points: int = 0
    derived: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)
    """Kafka timestamps of the batch's records (for end-to-end latency)."""
    durable_at: float = 0.0
    """Wall-clock time (``time.time()``) when the batch's state was written."""


class BatchObserver(Protocol):
    def batch_done(self, result: BatchResult, seconds: float) -> None: ...


class IngestWorker:
    def __init__(
        self,
        *,
        model: ModelSpec,
        processor: TaskProcessor,
        codec: TaskCodec,
        dead_letters: DeadLetterEncoder,
        store: StateStore,
        consumer_factory: Callable[[Callable[[list[Partition]], None]], BatchConsumer],
        output: TransactionalOutput,
        topics: WorkerTopics,
        batch_size: int = 5000,
        cache_entities: int = 100_000,
        observer: BatchObserver | None = None,
    ) -> None:
        self.model = model
        self.processor = processor
        self.codec = codec
        self.dead_letter_codec = dead_letters
        self.store = store
        self.output = output
        self.topics = topics
        self.batch_size = batch_size
        self.cache = EntityCache(cache_entities)
        self.observer = observer
        self.consumer = consumer_factory(self.cache.drop_partitions)
        self.stopping = threading.Event()
        self.between_batches: list[Callable[[], None]] = []
        """Run on the worker's thread between batches (control actions, housekeeping)."""

    def run(self) -> None:
        """Poll and process until ``stop()``; then leave the group cleanly."""
        use_batch_gc()
        try:
            while not self.stopping.is_set():
                records = self.consumer.poll_batch(self.batch_size, timeout=0.5)
                if records:
                    self.process_with_retry(records)
                for task in self.between_batches:
                    task()
        finally:
            self.consumer.close()
            self.output.close()

    def stop(self) -> None:
        """Finish the batch in hand, commit it, then leave (safe from a signal handler)."""
        self.stopping.set()

    def process_with_retry(self, records: list[InputRecord]) -> BatchResult | None:
        """A failed batch is rewound and read again; nothing is committed for it."""
        try:
            return self.process_batch(records)
        except (StateError, TransactionFailed) as exc:
            log.error("batch of %d records failed, will retry: %s", len(records), exc)
            self.consumer.rewind(_first_offsets(records))
            time.sleep(1.0)
            if isinstance(exc, TransactionFailed) and exc.fatal:
                raise
            return None

    def process_batch(self, records: list[InputRecord]) -> BatchResult:
        started = time.perf_counter()
        now = datetime.now(UTC)
        result = BatchResult(records=len(records), timestamps_ms=[r.timestamp_ms for r in records])
        groups = self._decode_and_group(records, result)
        entities = self._entities(groups)
        derived: list[tuple[InputRecord, DataPointTask]] = []
        try:
            for key, items in groups.items():
                record = entities[key]
                for input_record, task in items:
                    origin = f"{input_record.topic}:{input_record.partition}:{input_record.offset}"
                    for new in self.processor.process(record, task, origin, now):
                        derived.append((input_record, new))
            self.store.write(list(entities.values()), now)
            result.durable_at = time.time()
            outputs = self._outputs(derived, result)
            self.output.commit(outputs, _next_offsets(records), self.consumer.group_metadata())
        except BaseException:
            self.cache.drop(list(entities))  # in-memory changes may not match the store
            raise
        for key, items in groups.items():
            first = items[0][0]
            self.cache.put(key, (first.topic, first.partition), entities[key])
        if self.observer is not None:
            self.observer.batch_done(result, time.perf_counter() - started)
        return result

    def _decode_and_group(
        self, records: list[InputRecord], result: BatchResult
    ) -> dict[EntityKey, list[tuple[InputRecord, DataPointTask]]]:
        groups: dict[EntityKey, list[tuple[InputRecord, DataPointTask]]] = {}
        for record in records:
            raw = RawRecord(record.topic, record.partition, record.offset, record.key, record.value)
            try:
                if record.value is None:
                    raise InvalidDataPointError("empty message (no value)", raw)
                task = self.codec.decode(record.value, raw)
            except DataPointError as exc:
                result.dead_letters.append(_letter(exc, raw))
                continue
            result.tasks += 1
            result.data_points += len(task.data_points)
            groups.setdefault((task.etype, task.eid), []).append((record, task))
        return groups

    def _entities(
        self, groups: dict[EntityKey, list[tuple[InputRecord, DataPointTask]]]
    ) -> dict[EntityKey, EntityRecord]:
        found: dict[EntityKey, EntityRecord] = {}
        missing: list[EntityKey] = []
        for key in groups:
            cached = self.cache.get(key)
            if cached is None:
                missing.append(key)
            else:
                found[key] = cached
        if missing:
            for key, record in zip(missing, self.store.load(missing), strict=True):
                found[key] = record
        return found

    def _outputs(
        self, derived: list[tuple[InputRecord, DataPointTask]], result: BatchResult
    ) -> list[OutputRecord]:
        outputs = []
        for source, task in derived:
            try:
                self.model.validate_task(task)
                value = self.codec.encode(task)
            except (DataPointError, ValueError, TypeError, KeyError) as exc:
                log.error("a hook derived an invalid task for %s %s: %s", task.etype, task.eid, exc)
                raw = RawRecord(source.topic, source.partition, source.offset, None, None)
                letter = _letter(InvalidDataPointError(f"derived task: {exc}", raw), raw)
                result.dead_letters.append(letter)
                continue
            outputs.append(OutputRecord(self.topics.input, task.routing_key().encode(), value))
        result.derived = len(outputs)
        for letter in result.dead_letters:
            outputs.append(
                OutputRecord(
                    self.topics.dead_letter, letter.key, self.dead_letter_codec.encode(letter)
                )
            )
        return outputs


def _letter(exc: DataPointError, raw: RawRecord) -> DeadLetter:
    log.warning("dead-lettering %s:%s@%s: %s", raw.topic, raw.partition, raw.offset, exc)
    return DeadLetter(
        reason=exc.reason,
        message=str(exc),
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=raw.key,
        value=raw.value,
        timestamp=datetime.now(UTC),
    )


def _next_offsets(records: list[InputRecord]) -> dict[Partition, int]:
    offsets: dict[Partition, int] = {}
    for record in records:
        partition = (record.topic, record.partition)
        offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
    return offsets


def _first_offsets(records: list[InputRecord]) -> dict[Partition, int]:
    offsets: dict[Partition, int] = {}
    for record in records:
        partition = (record.topic, record.partition)
        if partition not in offsets or record.offset < offsets[partition]:
            offsets[partition] = record.offset
    return offsets
