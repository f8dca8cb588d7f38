"""The snapshot worker: one member of the group consuming the ``snapshot_tasks`` topic.

Loop: between polls, ``RunTrigger.check`` (start a run when a slot comes, once per
cluster) and run completion checks; then the tasks one poll brought (at most
``tasks_per_poll``, only those already fetched), together:

1. the first task of a run on this worker runs the ``snapshot_init`` hooks;
2. every task's scan starts; each task's token range is read in pages; each page is
   snapshotted (``Snapshotter``: values, linked entities, correlation hooks) and its
   snapshots sent to Cassandra (the writes of one page fly while the next page is
   computed);
3. once every write is acknowledged, the tasks are recorded as done
   (``snapshot_run_tasks``);
4. one Kafka transaction holds the tasks' snapshots (``snapshots`` topic), the tasks their
   hooks returned (input topic, keyed by entity) and the tasks' offsets.

A crash before 4 redoes the tasks: their Cassandra writes are idempotent (same rows),
their Kafka output was never committed, so every entity is published once per run. When
all tasks of a run are done, every worker that took part runs the ``snapshot_finalize``
hooks.
"""

from __future__ import annotations

import logging
import threading
import time as clock
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from streamcore.batch.gc_policy import BatchCollector, use_batch_gc
from streamcore.batch.retry import RetryPolicy, is_retryable, reason_of
from streamcore.errors import InvalidDataPointError
from streamcore.kafka.consumer import BatchConsumer, InputRecord, first_offsets
from streamcore.kafka.transactions import OutputRecord, TransactionalOutput, TransactionFailed
from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.snapshot.engine import Snapshotter
from streamcore.snapshot.hooks import SnapshotHooks
from streamcore.snapshot.messages import SnapshotCodec, SnapshotTask, SnapshotTaskCodec, values_json
from streamcore.snapshot.runs import RunTrigger
from streamcore.state.encoding import eid_text
from streamcore.state.record import EntityRecord
from streamcore.state.snapshots import SnapshotStore, SnapshotWrites

log = logging.getLogger(__name__)


class TaskEncoding(Protocol):
    def encode(self, task: DataPointTask) -> bytes: ...


class RefreshFlag(Protocol):
    def set(self, flag: bool = True) -> None: ...


class SnapshotObserver(Protocol):
    """Told about committed tasks (entities by type, invalid hook tasks, seconds) and runs
    (``metrics.SnapshotMetrics``)."""

    def tasks_done(
        self, tasks: int, entities: dict[str, int], invalid: int, seconds: float
    ) -> None: ...

    def run_started(self) -> None: ...

    def run_finalized(self, run: datetime) -> None: ...


@dataclass
class SnapshotStats:
    """Counters of one worker, for metrics and tests."""

    tasks: int = 0
    entities: int = 0
    linked_loaded: int = 0
    oversized_components: int = 0
    emitted_tasks: int = 0
    invalid_tasks: int = 0
    runs_started: int = 0
    runs_finalized: int = 0
    seconds: float = 0.0
    runs: set[datetime] = field(default_factory=set)


@dataclass(frozen=True)
class SnapshotTopics:
    tasks: str
    snapshots: str
    input: str


class SnapshotWorker:
    def __init__(  # noqa: PLR0913 (built by the composition root only)
        self,
        *,
        model: ModelSpec,
        hooks: SnapshotHooks,
        snapshotter: Snapshotter,
        store: SnapshotStore,
        consumer_factory: Callable[[], BatchConsumer],
        output: TransactionalOutput,
        task_encoder: TaskEncoding,
        topics: SnapshotTopics,
        snapshot_codec: SnapshotCodec | None = None,
        retention_seconds: int,
        instance: str,
        trigger: RunTrigger | None = None,
        page: int = 2000,
        tasks_per_poll: int = 4,
        observer: SnapshotObserver | None = None,
        refresh_flags: dict[str, RefreshFlag] | None = None,
    ) -> None:
        self._model = model
        self.hooks = hooks
        self._snapshotter = snapshotter
        self._store = store
        self._consumer_factory = consumer_factory
        self._output = output
        self._encoder = task_encoder
        self._topics = topics
        self._ttl = retention_seconds
        self._instance = instance
        self.trigger = trigger
        self._page = page
        self._tasks_per_poll = tasks_per_poll
        self._task_codec = SnapshotTaskCodec()
        self._snapshot_codec = snapshot_codec or SnapshotCodec()
        self._open: set[datetime] = set()
        self._next_check = 0.0
        self._stopping = False
        self._stop_event = threading.Event()
        self.collector = BatchCollector()
        """The cyclic collector off while a page is snapshotted (see ``_snapshot_next``)."""
        self.retry = RetryPolicy(self._stop_event)
        """Backoff and budget for transient Cassandra trouble (the ingestion worker's)."""
        self.stats = SnapshotStats()
        self.heartbeat: Callable[[], object] = lambda: None
        """Called on the worker's thread before each poll and after each page (liveness)."""
        self.consumer: BatchConsumer | None = None
        """The task consumer while ``run()`` runs (its assignment tells readiness)."""
        self.between: list[Callable[[], object]] = []
        """Called on the worker's thread before each poll (control messages, metrics)."""
        self._observer = observer
        self._refresh_flags = refresh_flags
        """Module -> its refresh flag: set for a task's entities iff the task names the
        module (``SnapshotTask.refresh``). Without it, the flags stay as the process sets
        them (DP³'s single-process behaviour)."""

    def stop(self) -> None:
        self._stopping = True
        self._stop_event.set()  # ends a backoff wait too

    def run(self) -> None:
        _prepare_collector()
        consumer = self.consumer = self._consumer_factory()
        try:
            while not self._stopping:
                self.heartbeat()
                self.between_tasks()
                for call in self.between:
                    call()
                records = consumer.poll_batch(1, 0.5)
                if records:  # and the tasks already fetched, without waiting for more
                    records += consumer.poll_batch(self._tasks_per_poll - 1, 0)
                    self._process_with_retry(records, consumer)
        finally:
            consumer.close()
            self._output.close()

    def _process_with_retry(self, records: list[InputRecord], consumer: BatchConsumer) -> None:
        """Transient trouble (Cassandra, or a schema registry the snapshots' wire format
        needs): the tasks are rewound and polled again after a backoff (``RetryPolicy``,
        the ingestion worker's); past the budget the process exits. Anything else is a
        bug and ends the process."""
        try:
            self.process_tasks(records, consumer)
        except Exception as exc:
            if not is_retryable(exc):
                raise
            consumer.rewind(first_offsets(records))
            self.retry.failed(reason_of(exc), exc)
        else:
            self.retry.succeeded()

    def between_tasks(self, now: float | None = None) -> None:
        """Start a run if a slot came; finalize runs whose tasks are all done."""
        now = clock.monotonic() if now is None else now
        if now < self._next_check:
            return
        self._next_check = now + 1.0
        if self.trigger is not None:
            self.trigger.check(datetime.now(UTC))
        for run in sorted(self._open):
            total = self._store.run_tasks(run)
            done, _ = self._store.progress(run)
            if total is not None and done >= total:
                self._open.discard(run)
                self.stats.runs_finalized += 1
                log.info("snapshot run %s done; running finalize hooks", run)
                self._commit(self._task_outputs(self.hooks.run_finalize()), None)
                if self._observer is not None:
                    self._observer.run_finalized(run)

    def process_tasks(self, records: list[InputRecord], consumer: BatchConsumer) -> None:
        """A few snapshot tasks, start to one commit (see the module docstring).

        Their scans start together, and their writes and Kafka output share one wait and
        one transaction, so a task's fixed latencies (first page, last acknowledgements,
        commit) are paid once per poll, not once per task.
        """
        started = clock.perf_counter()
        invalid_before = self.stats.invalid_tasks
        tasks = [self._task_codec.decode(record.value or b"") for record in records]
        outputs: list[OutputRecord] = []
        for task in tasks:
            if task.run not in self._open and task.run not in self.stats.runs:
                self._open.add(task.run)
                self.stats.runs.add(task.run)
                self.stats.runs_started += 1
                if self._observer is not None:
                    self._observer.run_started()
                outputs.extend(self._task_outputs(self.hooks.run_init()))
        types = self._snapshotter.snapshot_types
        scans = [self._store.scan(task.task, task.tasks, types, self._page) for task in tasks]
        writes = self._store.writes()
        counts = []
        by_type: dict[str, int] = {}
        for task, scan in zip(tasks, scans, strict=True):
            self._set_refresh(task)
            entities = 0
            pages = iter(scan)
            while True:
                with self.collector.batch():
                    count = self._snapshot_next(pages, task, outputs, writes, by_type)
                if count is None:
                    break
                entities += count
                self.heartbeat()
            counts.append(entities)
        writes.wait()
        for task, entities in zip(tasks, counts, strict=True):
            self._store.task_done(task.run, task.task, entities, self._instance)
        next_offsets: dict[tuple[str, int], int] = {}
        for record in records:  # a partition's records come in offset order
            next_offsets[(record.topic, record.partition)] = record.offset + 1
        committed = self._commit(
            outputs, (next_offsets, consumer), rewind=(first_offsets(records), consumer)
        )
        if not committed:  # redone from the rewound offsets: counted once, when committed
            return
        seconds = clock.perf_counter() - started
        self.stats.tasks += len(tasks)
        self.stats.entities += sum(counts)
        self.stats.seconds += seconds
        if self._observer is not None:
            invalid = self.stats.invalid_tasks - invalid_before
            self._observer.tasks_done(len(tasks), by_type, invalid, seconds)

    def _set_refresh(self, task: SnapshotTask) -> None:
        """The refresh flags for ``task``'s entities: the run's pending module refreshes."""
        if self._refresh_flags is not None:
            for module, flag in self._refresh_flags.items():
                flag.set(module in task.refresh)

    def _snapshot_next(
        self,
        pages: Iterator[list[EntityRecord]],
        task: SnapshotTask,
        outputs: list[OutputRecord],
        writes: SnapshotWrites,
        by_type: dict[str, int],
    ) -> int | None:
        """Snapshots of the scan's next page (None: the scan is done). The caller's
        collector runs when this returns, once the page is freed: the page is not held
        after it (nor by the scan, ``SnapshotStore.scan``), so a collection walks the
        cyclic garbage the page left (the driver's futures, each with its rows), not the
        page's records. Collecting with a page alive walked and promoted it whole, and
        the collector took 0.18-0.24 CPU-s per 10k entities at 300k ips against 0.03-0.07
        at 10k; with the collector off for a poll's whole tasks instead, that garbage
        (about 8 objects per entity) piled up for the whole poll."""
        chunk = next(pages, None)
        if chunk is None:
            return None
        return self._snapshot_page(chunk, task, outputs, writes, by_type)

    def _snapshot_page(
        self,
        chunk: list[EntityRecord],
        task: SnapshotTask,
        outputs: list[OutputRecord],
        writes: SnapshotWrites,
        by_type: dict[str, int],
    ) -> int:
        result = self._snapshotter.snapshot(chunk, task.run)
        rows = [
            (etype, eid_text(eid), values_json(values)) for etype, eid, values in result.snapshots
        ]
        for etype, _eid, _text in rows:
            by_type[etype] = by_type.get(etype, 0) + 1
        self._store.save(rows, task.run, self._ttl, writes)
        topic = self._topics.snapshots
        for etype, eid, text in rows:
            value = self._snapshot_codec.encode(etype, eid, task.run, text)
            outputs.append(OutputRecord(topic, f"{etype}:{eid}".encode(), value))
        outputs.extend(self._task_outputs(result.tasks))
        self.stats.linked_loaded += result.linked_loaded
        self.stats.oversized_components += result.oversized_components
        return len(rows)

    def _task_outputs(self, tasks: Iterable[DataPointTask]) -> list[OutputRecord]:
        """Hook-returned tasks, validated, for the input topic; invalid ones logged, counted."""
        outputs = []
        for task in tasks:
            try:
                self._model.validate_task(task)
            except InvalidDataPointError as exc:
                self.stats.invalid_tasks += 1
                log.error("snapshot hook returned an invalid task, dropped: %s", exc)
                continue
            outputs.append(
                OutputRecord(
                    self._topics.input, task.routing_key().encode(), self._encoder.encode(task)
                )
            )
        self.stats.emitted_tasks += len(outputs)
        return outputs

    def _commit(
        self,
        outputs: list[OutputRecord],
        offsets: tuple[dict[tuple[str, int], int], BatchConsumer] | None,
        rewind: tuple[dict[tuple[str, int], int], BatchConsumer] | None = None,
    ) -> bool:
        """Whether the transaction committed; an aborted one with ``rewind`` rewinds the
        tasks' partitions (they are redone) and returns False."""
        try:
            if offsets is None:
                self._output.commit(outputs, {}, None)
            else:
                self._output.commit(outputs, offsets[0], offsets[1].group_metadata())
        except TransactionFailed as exc:
            if exc.fatal or rewind is None:
                raise
            first_offsets, consumer = rewind
            log.warning("snapshot task transaction aborted (%s); redoing the tasks", exc)
            consumer.rewind(first_offsets)
            return False
        return True


def _prepare_collector() -> None:
    """Set the collector up for a process that snapshots: the workers' policy
    (``use_batch_gc``: a run allocates millions of short-lived objects, and at CPython's
    default thresholds the collector took ~15-20% of ``bench/snapshots.py``'s run time,
    growing faster than the run), and what start-up built (modules, model, driver metadata)
    taken out of its reach, since that lives as long as the process and every full
    collection would walk it again."""
    use_batch_gc()


def worker_stats(worker: SnapshotWorker) -> dict[str, Any]:
    """The counters as a flat dict (hook failures included), for logs and metrics."""
    stats = worker.stats
    return {
        "tasks": stats.tasks,
        "entities": stats.entities,
        "linked_loaded": stats.linked_loaded,
        "oversized_components": stats.oversized_components,
        "emitted_tasks": stats.emitted_tasks,
        "invalid_tasks": stats.invalid_tasks,
        "hook_failures": worker.hooks.failures,
        "runs_started": stats.runs_started,
        "runs_finalized": stats.runs_finalized,
    }
