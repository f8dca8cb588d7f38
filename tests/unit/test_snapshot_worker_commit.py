"""A snapshot task whose transaction aborts (a rebalance moved the group's generation, say)
is redone from its rewound offset, and counted once: when it commits."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime
from typing import Any

from streamcore.kafka.consumer import InputRecord
from streamcore.kafka.transactions import TransactionFailed
from streamcore.snapshot.engine import SnapshotResult
from streamcore.snapshot.messages import SnapshotTask, SnapshotTaskCodec
from streamcore.snapshot.worker import SnapshotTopics, SnapshotWorker

RUN = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


class Scans:
    def __init__(self) -> None:
        self.done: list[tuple[datetime, int]] = []

    def scan(self, task: int, tasks: int, types: Any, page: int) -> list[Any]:
        return []

    def writes(self) -> Any:
        return self

    def wait(self) -> None:
        pass

    def task_done(self, run: datetime, task: int, entities: int, instance: str) -> None:
        self.done.append((run, task))


class Output:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.committed: list[dict[tuple[str, int], int]] = []

    def commit(self, outputs: Any, offsets: dict[tuple[str, int], int], metadata: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise TransactionFailed("ILLEGAL_GENERATION", fatal=False)
        self.committed.append(offsets)


class Consumer:
    def __init__(self) -> None:
        self.rewound: list[dict[tuple[str, int], int]] = []

    def rewind(self, offsets: dict[tuple[str, int], int]) -> None:
        self.rewound.append(offsets)

    def group_metadata(self) -> None:
        return None


class Observer:
    def __init__(self) -> None:
        self.told: list[int] = []

    def tasks_done(self, tasks: int, by_type: Any, invalid: int, seconds: float) -> None:
        self.told.append(tasks)

    def run_started(self) -> None:
        pass


class Hooks:
    def run_init(self) -> list[Any]:
        return []


class Snapshotter:
    snapshot_types = ("ip",)


def worker(output: Output, observer: Observer) -> SnapshotWorker:
    return SnapshotWorker(
        model=None,  # type: ignore[arg-type]
        hooks=Hooks(),  # type: ignore[arg-type]
        snapshotter=Snapshotter(),  # type: ignore[arg-type]
        store=Scans(),  # type: ignore[arg-type]
        consumer_factory=Consumer,  # type: ignore[arg-type]
        output=output,  # type: ignore[arg-type]
        task_encoder=None,  # type: ignore[arg-type]
        topics=SnapshotTopics("tasks", "snapshots", "input"),
        retention_seconds=3600,
        instance="a",
        observer=observer,  # type: ignore[arg-type]
    )


def record(offset: int) -> InputRecord:
    value = SnapshotTaskCodec().encode(SnapshotTask(RUN, 0, 1))
    return InputRecord("tasks", 0, offset, None, value, 0)


def test_an_aborted_task_is_rewound_and_counted_only_when_it_commits() -> None:
    output, observer, consumer = Output(failures=1), Observer(), Consumer()
    snapshots = worker(output, observer)

    snapshots.process_tasks([record(7)], consumer)  # type: ignore[arg-type]
    assert consumer.rewound == [{("tasks", 0): 7}]
    assert output.committed == []
    assert snapshots.stats.tasks == 0 and observer.told == []

    snapshots.process_tasks([record(7)], consumer)  # type: ignore[arg-type]  # redone
    assert output.committed == [{("tasks", 0): 8}]
    assert snapshots.stats.tasks == 1 and observer.told == [1]


class Thing:
    """A stand-in record a weak reference can watch."""


class PagedScans(Scans):
    def __init__(self) -> None:
        super().__init__()
        self.saved = 0

    def scan(self, task: int, tasks: int, types: Any, page: int) -> Any:
        for _ in range(3):
            yield [Thing() for _ in range(5)]

    def save(self, rows: Any, run: datetime, ttl: int, writes: Any) -> None:
        self.saved += 1


class WatchingSnapshotter(Snapshotter):
    def __init__(self) -> None:
        self.seen: list[weakref.ref[Thing]] = []
        self.collector_on: list[bool] = []

    def snapshot(self, chunk: list[Thing], run: datetime) -> SnapshotResult:
        self.seen.extend(weakref.ref(thing) for thing in chunk)
        self.collector_on.append(gc.isenabled())
        return SnapshotResult()


def test_the_collector_is_off_during_a_page_and_runs_after_it_once_the_page_is_freed() -> None:
    """A page alive when the collector runs would be walked and moved to the oldest
    generation whole: at 300k ips that made the collector 3-7 times dearer per entity."""
    snapshotter, store = WatchingSnapshotter(), PagedScans()
    snapshots = SnapshotWorker(
        model=None,  # type: ignore[arg-type]
        hooks=Hooks(),  # type: ignore[arg-type]
        snapshotter=snapshotter,  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        consumer_factory=Consumer,  # type: ignore[arg-type]
        output=Output(failures=0),  # type: ignore[arg-type]
        task_encoder=None,  # type: ignore[arg-type]
        topics=SnapshotTopics("tasks", "snapshots", "input"),
        retention_seconds=3600,
        instance="a",
    )
    alive_at_collections: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            alive_at_collections.append(sum(ref() is not None for ref in snapshotter.seen))

    gc.callbacks.append(watch)
    try:
        snapshots.process_tasks([record(7)], Consumer())  # type: ignore[arg-type]
    finally:
        gc.callbacks.remove(watch)
    assert store.saved == 3 and len(snapshotter.seen) == 15
    assert snapshotter.collector_on == [False, False, False]
    assert len(alive_at_collections) >= 3
    assert alive_at_collections == [0] * len(alive_at_collections)
    assert gc.isenabled()
