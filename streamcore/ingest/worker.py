"""The ingestion worker: one member of the consumer group that reads the input topic.

Each batch: decode -> group by entity (input order kept) -> fence the partitions ->
load records -> run the processor -> write state -> one transaction with derived tasks,
dead letters and offsets. The order is the guarantee: offsets are committed only after
the state is durable, and in the same transaction as everything the batch produced.

Error policy, in one place (``process_batch`` and ``run``):

- *data* a task can't be used with (undecodable, invalid, misrouted, a merge or hook that
  raises on it, a write Cassandra refuses for that entity, a derivation chain over
  ``max_hops``) is dead-lettered with the reason and the partition moves on; the entity
  is rebuilt from its stored state without that task;
- *transient* trouble (Cassandra timeouts, an unreachable schema registry, a failed
  transaction) is retried with backoff
  (``retry.py``), and past the retry budget the worker exits non-zero;
- anything else is a bug: the worker exits non-zero rather than guess.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from streamcore.batch.gc_policy import BatchCollector, use_batch_gc
from streamcore.batch.retry import RetryPolicy
from streamcore.errors import (
    DataPointError,
    InvalidDataPointError,
    PermanentStateError,
    RawRecord,
    SchemaRegistryError,
    TransientError,
    TransientStateError,
)
from streamcore.ingest.cache import EntityCache, EntityKey
from streamcore.ingest.letters import dead_letter
from streamcore.ingest.lineage import Lineage
from streamcore.ingest.processor import TaskProcessor
from streamcore.kafka.consumer import BatchConsumer, InputRecord, Partition, first_offsets
from streamcore.kafka.transactions import OutputRecord, TransactionalOutput, TransactionFailed
from streamcore.model.control import DeadLetter
from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.state.fence import Fence
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


class FenceStore(Protocol):
    def acquire(
        self, topic: str, partition: int, first_offset: int, high_watermark: int
    ) -> Fence: ...


@dataclass(frozen=True)
class WorkerTopics:
    input: str
    dead_letter: str


@dataclass(frozen=True)
class WorkerLimits:
    """The error policy's bounds (``WorkerSettings`` gives them from the environment)."""

    max_hops: int = 10
    dead_letter_value_bytes: int = 256 * 1024
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    retry_budget_seconds: float = 300.0


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
    cache_lookups: dict[str, int] = field(default_factory=dict)
    """Entity lookups by outcome: ``object``, ``packed`` (unpacked), ``miss`` (read)."""
    cache_tiers: dict[str, tuple[int, int]] = field(default_factory=dict)
    """After the batch: (entities, estimated bytes) in the cache, by tier."""


class BatchObserver(Protocol):
    def batch_done(self, result: BatchResult, seconds: float) -> None: ...


IDLE_COMMIT_SECONDS = 10.0

Item = tuple[InputRecord, DataPointTask]
Derived = tuple[InputRecord, DataPointTask]


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
        fences: FenceStore | None = None,
        limits: WorkerLimits | None = None,
        batch_size: int = 5000,
        cache_entities: int = 100_000,
        cache_bytes: int = 0,
        cache_hot_entities: int | None = None,
        observer: BatchObserver | None = None,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.model = model
        self.processor = processor
        self.codec = codec
        self.dead_letter_codec = dead_letters
        self.store = store
        self.output = output
        self.topics = topics
        self.fences = fences
        self.limits = limits or WorkerLimits()
        self.batch_size = batch_size
        self.cache = EntityCache(cache_entities, cache_bytes, cache_hot_entities)
        self.observer = observer
        self._fenced: dict[Partition, Fence] = {}
        self._committed: dict[Partition, int] = {}
        """Offsets this worker committed (or read as committed), per partition."""
        self._next_idle_commit = 0.0
        self.consumer = consumer_factory(self._revoked)
        self.stopping = threading.Event()
        self.retry = RetryPolicy(
            self.stopping,
            initial_seconds=self.limits.retry_initial_seconds,
            max_seconds=self.limits.retry_max_seconds,
            budget_seconds=self.limits.retry_budget_seconds,
            on_retry=on_retry,
        )
        self.last_progress = time.monotonic()
        """When a batch last completed or a poll found nothing to do (liveness)."""
        self.between_batches: list[Callable[[], None]] = []
        """Run on the worker's thread between batches (control actions, housekeeping)."""
        self.collector = BatchCollector()

    def run(self) -> None:
        """Poll and process until ``stop()``; then leave the group cleanly."""
        use_batch_gc()
        try:
            while not self.stopping.is_set():
                records = self.consumer.poll_batch(self.batch_size, timeout=0.5)
                if not records:
                    self.last_progress = time.monotonic()
                    self._commit_positions()
                elif self.process_with_retry(records) is not None:
                    self.last_progress = time.monotonic()
                for task in self.between_batches:
                    task()
        finally:
            self.consumer.close()
            self.output.close()

    def stop(self) -> None:
        """Finish the batch in hand, commit it, then leave (safe from a signal handler)."""
        self.stopping.set()

    def process_with_retry(self, records: list[InputRecord]) -> BatchResult | None:
        """The batch, with transient failures retried (``RetryPolicy``); None when it must
        be polled again (rewound, nothing committed)."""
        try:
            return self.retry.run(lambda: self._collected(records))
        except TransactionFailed as exc:
            self.consumer.rewind(first_offsets(records))
            if exc.fatal:
                raise
            self.retry.failed("transaction", exc)
            return None
        except TransientError:  # only when stopping: leave it for the next owner
            self.consumer.rewind(first_offsets(records))
            return None

    def _collected(self, records: list[InputRecord]) -> BatchResult:
        """``process_batch`` without the cyclic collector; it runs once the batch's objects
        are freed (``BatchCollector``)."""
        with self.collector.batch():
            return self.process_batch(records)

    def process_batch(self, records: list[InputRecord]) -> BatchResult:
        started = time.perf_counter()
        now = datetime.now(UTC)
        records = self._owned(records)
        result = BatchResult(records=len(records), timestamps_ms=[r.timestamp_ms for r in records])
        groups = self._decode_and_group(records, result)
        stamps = self._stamps(records)
        entities = self._entities(groups, result)
        try:
            derived: dict[EntityKey, list[Derived]] = {}
            for key, items in groups.items():
                derived[key] = self._apply(key, items, entities, now, result)
                first = items[0][0]
                entities[key].stamp = stamps.get((first.topic, first.partition))
            self._write(entities, groups, derived, result, now)
            result.durable_at = time.time()
            outputs = self._outputs([d for ds in derived.values() for d in ds], result)
            offsets = _next_offsets(records)
            self.output.commit(outputs, offsets, self.consumer.group_metadata())
            self._committed.update(offsets)
        except BaseException:
            self.cache.drop(list(entities))  # in-memory changes may not match the store
            raise
        for key, items in groups.items():
            if key in entities:
                first = items[0][0]
                self.cache.put(key, (first.topic, first.partition), entities[key])
        cache = self.cache
        result.cache_tiers = {
            "object": (len(cache) - cache.packed, cache.bytes - cache.packed_bytes),
            "packed": (cache.packed, cache.packed_bytes),
        }
        if self.observer is not None:
            self.observer.batch_done(result, time.perf_counter() - started)
        return result

    def _commit_positions(self) -> None:
        """When idle, commit positions that are past the committed offsets.

        A batch commits the offset after its last record; a transaction marker (or an
        aborted transaction's records) after it leaves the committed offset short of the
        partition's end for good, which a lag-based autoscaler reads as backlog. Checked at
        most every ``IDLE_COMMIT_SECONDS``, in an empty transaction of its own.
        """
        now = time.monotonic()
        if now < self._next_idle_commit:
            return
        self._next_idle_commit = now + IDLE_COMMIT_SECONDS
        positions = self.consumer.positions()
        unknown = [p for p in positions if p not in self._committed]
        if unknown:
            self._committed.update(self.consumer.committed(unknown))
        behind = {p: o for p, o in positions.items() if o > self._committed.get(p, -1)}
        if not behind:
            return
        try:
            self.output.commit([], behind, self.consumer.group_metadata())
        except TransactionFailed as exc:
            log.info("committing idle positions failed (tried again later): %s", exc)
            if exc.fatal:
                raise
            return
        self._committed.update(behind)

    # Steps -------------------------------------------------------------------------------

    def _owned(self, records: list[InputRecord]) -> list[InputRecord]:
        """Records of partitions still assigned (a rebalance inside the poll may have
        taken some: their new owner processes them)."""
        assigned = self.consumer.assignment
        return [r for r in records if (r.topic, r.partition) in assigned]

    def _revoked(self, partitions: list[Partition]) -> None:
        self.cache.drop_partitions(partitions)
        for partition in partitions:
            self._fenced.pop(partition, None)
            self._committed.pop(partition, None)

    def _stamps(self, records: list[InputRecord]) -> dict[Partition, int]:
        """Per partition, the write timestamp of this batch's state (``state/fence.py``):
        from the partition's fence and the batch's last offset in it."""
        if self.fences is None:
            return {}
        first: dict[Partition, int] = {}
        last: dict[Partition, int] = {}
        for record in records:
            partition = (record.topic, record.partition)
            first.setdefault(partition, record.offset)
            last[partition] = record.offset
        stamps = {}
        for partition, offset in last.items():
            fence = self._fenced.get(partition)
            if fence is None:
                high = self._high_watermark(partition)
                fence = self.fences.acquire(*partition, first[partition], high)
                self._fenced[partition] = fence
            stamps[partition] = fence.stamp(offset) + 1  # + 1: deletes go at stamp - 1
        return stamps

    def _high_watermark(self, partition: Partition) -> int:
        try:
            return self.consumer.high_watermark(partition)
        except Exception as exc:  # the broker can't say now: fencing must wait
            raise TransientStateError(f"reading the end of {partition}: {exc}") from exc

    def _decode_and_group(
        self, records: list[InputRecord], result: BatchResult
    ) -> dict[EntityKey, list[Item]]:
        groups: dict[EntityKey, list[Item]] = {}
        for record in records:
            raw = RawRecord(record.topic, record.partition, record.offset, record.key, record.value)
            try:
                if record.value is None:
                    raise InvalidDataPointError("empty message (no value)", raw)
                task = self.codec.decode(record.value, raw)
                if record.key != task.routing_key().encode():
                    raise InvalidDataPointError(
                        f"misrouted: key {record.key!r:.80} is not the entity's routing key "
                        f"{task.routing_key()!r:.80} (produce with streamcore's producer, "
                        "which keys each task by its entity)",
                        raw,
                    )
            except DataPointError as exc:
                result.dead_letters.append(self._letter(exc, raw))
                continue
            except SchemaRegistryError:  # the registry, not the record: never dead-lettered
                raise  # unreachable: retried (a TransientError); refusing us (401): exit
            except Exception as exc:  # a decoder bug must not stop the partition either
                error = InvalidDataPointError(f"could not decode: {exc!r}", raw)
                result.dead_letters.append(self._letter(error, raw))
                continue
            result.tasks += 1
            result.data_points += len(task.data_points)
            groups.setdefault((task.etype, task.eid), []).append((record, task))
        return groups

    def _entities(
        self, groups: dict[EntityKey, list[Item]], result: BatchResult
    ) -> dict[EntityKey, EntityRecord]:
        found: dict[EntityKey, EntityRecord] = {}
        missing: list[EntityKey] = []
        unpacked = self.cache.unpacked
        for key in groups:
            cached = self.cache.get(key)
            if cached is None:
                missing.append(key)
            else:
                found[key] = cached
        unpacked = self.cache.unpacked - unpacked
        result.cache_lookups = {
            "object": len(found) - unpacked,
            "packed": unpacked,
            "miss": len(missing),
        }
        if missing:
            for key, record in zip(missing, self.store.load(missing), strict=True):
                found[key] = record
                if record.quarantined:
                    result.dead_letters.append(self._quarantine_letter(record, groups[key][0][0]))
        return found

    def _apply(
        self,
        key: EntityKey,
        items: list[Item],
        entities: dict[EntityKey, EntityRecord],
        now: datetime,
        result: BatchResult,
    ) -> list[Derived]:
        """Apply an entity's tasks in order; its derived tasks.

        A task that raises is dead-lettered, and the entity is read again and its other
        tasks applied anew (its hooks run again): nothing half-applied is ever written.
        """
        pending = list(items)
        while True:
            derived, failure = self._apply_all(entities[key], pending, now)
            if failure is None:
                return derived
            index, exc = failure
            raw = _raw(pending[index][0])
            error = exc if isinstance(exc, DataPointError) else _unusable(exc, raw)
            result.dead_letters.append(self._letter(error, raw))
            del pending[index]
            self.cache.drop([key])
            (entities[key],) = self.store.load([key])

    def _apply_all(
        self, record: EntityRecord, items: list[Item], now: datetime
    ) -> tuple[list[Derived], tuple[int, Exception] | None]:
        """Derived tasks, or the index of the first task that raised and what it raised."""
        derived: list[Derived] = []
        for index, (input_record, task) in enumerate(items):
            origin = f"{input_record.topic}:{input_record.partition}:{input_record.offset}"
            try:
                new = self.processor.process(record, task, origin, now)
            except TransientStateError:
                raise  # a delete's read of the link index: retried, never dead-lettered
            except Exception as exc:
                return derived, (index, exc)
            derived.extend((input_record, d) for d in new)
        return derived, None

    def _write(
        self,
        entities: dict[EntityKey, EntityRecord],
        groups: dict[EntityKey, list[Item]],
        derived: dict[EntityKey, list[Derived]],
        result: BatchResult,
        now: datetime,
    ) -> None:
        """Write every entity; one whose write Cassandra refuses for good has its tasks
        dead-lettered and what they derived dropped (the others are written)."""
        try:
            self.store.write(list(entities.values()), now)
        except PermanentStateError as exc:
            if not exc.entities:
                raise
            by_stored_id = {(k[0], r.eid_key): k for k, r in entities.items()}
            for stored_id, reason in exc.entities.items():
                key = by_stored_id[stored_id]
                for input_record, _ in groups[key]:
                    raw = _raw(input_record)
                    error = InvalidDataPointError(f"state write refused: {reason}", raw)
                    error.reason = "state_refused"
                    result.dead_letters.append(self._letter(error, raw))
                derived.pop(key, None)
                del entities[key]
                self.cache.drop([key])

    def _outputs(self, derived: list[Derived], result: BatchResult) -> list[OutputRecord]:
        outputs = []
        for source, task in derived:
            lineage = Lineage.of(source.headers).child(task.derived_by)
            raw = RawRecord(source.topic, source.partition, source.offset, None, None)
            try:
                if lineage.hops > self.limits.max_hops:
                    raise HopLimitError(
                        f"derived task for {task.etype} {task.eid} cut: {lineage.hops} "
                        f"derivations exceed max_hops {self.limits.max_hops}; chain: "
                        f"{lineage.describe()}",
                        raw,
                    )
                self.model.validate_task(task)
                value = self.codec.encode(task)
            except DataPointError as exc:
                result.dead_letters.append(self._letter(exc, raw))
                continue
            except (ValueError, TypeError, KeyError) as exc:
                log.error("a hook derived an invalid task for %s %s: %s", task.etype, task.eid, exc)
                error = InvalidDataPointError(f"derived task by {task.derived_by}: {exc}", raw)
                result.dead_letters.append(self._letter(error, raw))
                continue
            key = task.routing_key().encode()
            outputs.append(OutputRecord(self.topics.input, key, value, lineage.headers()))
        result.derived = len(outputs)
        for letter in result.dead_letters:
            outputs.append(
                OutputRecord(
                    self.topics.dead_letter, letter.key, self.dead_letter_codec.encode(letter)
                )
            )
        return outputs

    def _letter(self, exc: DataPointError, raw: RawRecord) -> DeadLetter:
        return dead_letter(exc, raw, self.limits.dead_letter_value_bytes)

    def _quarantine_letter(self, record: EntityRecord, cause: InputRecord) -> DeadLetter:
        """Stored rows that could not be read: reported with their raw text; the entity
        goes on with what parses and the next write removes them."""
        rows = [
            {"attr": q.attr, "key": q.key.hex(), "v": q.v, "error": q.error}
            for q in record.quarantined
        ]
        record.quarantined = []
        key = f"{record.etype}:{record.eid}".encode()
        raw = RawRecord(cause.topic, cause.partition, cause.offset, key, orjson.dumps(rows))
        error = InvalidDataPointError(
            f"{len(rows)} stored row(s) of {record.etype} {record.eid_key} could not be read "
            "and were removed (their text is this letter's value)",
            raw,
        )
        error.reason = "unreadable_state"
        return self._letter(error, raw)


class HopLimitError(DataPointError):
    """A derived task past ``max_hops`` derivations (a hook loop)."""

    reason = "hop_limit"


def _raw(record: InputRecord) -> RawRecord:
    return RawRecord(record.topic, record.partition, record.offset, record.key, record.value)


def _unusable(exc: Exception, raw: RawRecord) -> DataPointError:
    log.error("task at %s:%s@%s raised while applied", raw.topic, raw.partition, raw.offset)
    error = InvalidDataPointError(f"could not be applied: {exc!r}", raw)
    error.reason = "unusable"
    return error


def _next_offsets(records: list[InputRecord]) -> dict[Partition, int]:
    offsets: dict[Partition, int] = {}
    for record in records:
        partition = (record.topic, record.partition)
        offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
    return offsets
