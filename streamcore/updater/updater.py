"""``PeriodicUpdater``: DP³'s periodic update hooks, one slice of entities per batch tick.

Each update thread (``plan.UpdateThread``) is a scheduler job on ``update_batch_cron``; the
scheduler's claim makes one replica handle each tick. At a tick, that replica:

1. reads the thread's ``Progress`` (round, iteration) from Cassandra;
2. claims the slice ``round:iteration`` (a second claim, held as a lease: if the previous
   tick's slice is still running elsewhere, this tick does nothing; if its owner died,
   the slice is taken over once the lease expires);
3. reads the slice's entity ids from ``entity_index``, loads their records in chunks
   (record hooks only) and calls every hook of the thread for each entity:
   ``hook(etype, eid, master_record)`` or ``hook(etype, eid)``;
4. sends the returned tasks to the input topic (validated, keyed by entity) and flushes;
5. saves the advanced progress.

So every entity stored when a period starts is visited once in it (entities created during
it are visited if their slice is still ahead). A crash between 3 and 5 repeats that slice:
at least once, never skipped. Hook errors follow DP³: logged with module and hook id,
counted in ``stats``, and the other hooks and entities go on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from streamcore.errors import DataPointError
from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.module.dispatch import HookObserver
from streamcore.module.hooks import HookRegistration
from streamcore.schedule.jobs import platform_job
from streamcore.schedule.scheduler import Job, SlotClaims
from streamcore.state.master import master_record
from streamcore.state.progress import Progress
from streamcore.state.record import EntityRecord
from streamcore.updater.plan import Slice, UpdateThread, iteration_count, plan_slice

log = logging.getLogger(__name__)

LOAD_CHUNK = 500


class EntityScan(Protocol):
    def bucket_eids(self, etype: str, buckets: Iterable[int]) -> list[tuple[str, Any]]: ...
    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]: ...


class ProgressLog(Protocol):
    def current(self, thread: str, iterations: int, now: datetime) -> Progress: ...
    def save(self, thread: str, progress: Progress) -> None: ...


class TaskSink(Protocol):
    """``DataPointProducer``'s contract: validate + queue, then flush (returns undelivered)."""

    def send(self, task: DataPointTask) -> None: ...
    def flush(self, timeout: float | None = None) -> int: ...


class PeriodicUpdater:
    def __init__(
        self,
        threads: Iterable[UpdateThread],
        *,
        model: ModelSpec,
        store: EntityScan,
        progress: ProgressLog,
        claims: SlotClaims,
        sink: TaskSink,
        batch_period: timedelta,
        observer: HookObserver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.threads = list(threads)
        self.model = model
        self.store = store
        self.progress = progress
        self.claims = claims
        self.sink = sink
        self.batch_period = batch_period
        self.observer = observer
        self.clock = clock
        self.stats: Counter[str] = Counter()
        """visited, tasks, hook_failures, invalid_tasks, slices, slices_elsewhere."""
        self.lease_seconds = int(max(600, 10 * batch_period.total_seconds()))
        self.on_slice: Callable[[str, int, int, int], object] | None = None
        """``(thread, visited, iterations done, iterations)`` after each slice (metrics)."""

    def jobs(self, update_batch_cron: object) -> list[Job]:
        """One scheduler job per thread, on ``updater.yml``'s ``update_batch_cron``."""
        return [
            platform_job(
                f"updater:{thread.thread_id}", _bound(self.run_slice, thread), update_batch_cron
            )
            for thread in self.threads
        ]

    def run_slice(self, thread: UpdateThread) -> int | None:
        """Visit the thread's next slice; the number visited, or None if it was not ours."""
        now = self.clock()
        iterations = iteration_count(thread.period, self.batch_period)
        stored = self.progress.current(thread.thread_id, iterations, now)
        progress = stored.fitted(iterations, now)
        if progress is not stored:
            log.info("updater %s: slice count changed, starting a new round", thread.thread_id)
            self.progress.save(thread.thread_id, progress)
        job = f"updater:{thread.thread_id}"
        if not self.claims.claim(job, progress.slot, self.lease_seconds):
            self.stats["slices_elsewhere"] += 1
            return None
        visited = self._visit(thread, plan_slice(progress.iteration, progress.iterations))
        undelivered = self.sink.flush(30.0)
        if undelivered:
            raise RuntimeError(f"updater {job}: {undelivered} tasks not delivered; slice repeats")
        advanced = progress.advanced(visited, self.clock())
        self.progress.save(thread.thread_id, advanced)
        self.stats["slices"] += 1
        if self.on_slice is not None:
            done = advanced.iteration if advanced.round == progress.round else iterations
            self.on_slice(thread.thread_id, visited, done, iterations)
        log.debug("updater %s slice %s: %d entities", job, progress.slot, visited)
        return visited

    def _visit(self, thread: UpdateThread, part: Slice) -> int:
        etype = thread.etype
        ids = [
            eid for key, eid in self.store.bucket_eids(etype, part.buckets) if part.contains(key)
        ]
        hooks = list(thread.hooks.values())
        if thread.eid_only:
            for eid in ids:
                for reg in hooks:
                    self._call(reg, etype, (etype, eid))
            self.stats["visited"] += len(ids)
            return len(ids)
        visited = 0
        for start in range(0, len(ids), LOAD_CHUNK):
            for record in self.store.load(
                [(etype, eid) for eid in ids[start : start + LOAD_CHUNK]]
            ):
                if not record.exists:
                    continue  # deleted since the index was read
                master = master_record(record, self.model)
                for reg in hooks:
                    self._call(reg, etype, (etype, record.eid, master))
                visited += 1
        self.stats["visited"] += visited
        return visited

    def _call(self, reg: HookRegistration, etype: str, args: tuple[Any, ...]) -> None:
        started = time.perf_counter()
        failed = False
        tasks: list[Any] = []
        try:
            tasks = list(reg.callback(*args) or [])
        except Exception:
            failed = True
            self.stats["hook_failures"] += 1
            log.exception("%s hook %s (%s) failed", reg.kind.value, reg.hook_id, reg.module)
        for task in tasks:
            self._send(reg, task)
        if self.observer is not None:
            seconds = time.perf_counter() - started
            self.observer.observe(
                reg.module, reg.kind.value, etype, None, seconds, failed, len(tasks)
            )

    def _send(self, reg: HookRegistration, task: Any) -> None:
        try:
            if not isinstance(task, DataPointTask):
                raise TypeError(f"returned {type(task).__name__}, not a DataPointTask")
            self.sink.send(task)
            self.stats["tasks"] += 1
        except (DataPointError, ValueError, TypeError, KeyError) as exc:
            self.stats["invalid_tasks"] += 1
            log.error(
                "%s hook %s (%s): invalid task dropped: %s",
                reg.kind.value,
                reg.hook_id,
                reg.module,
                exc,
            )


def _bound(run: Callable[[UpdateThread], object], thread: UpdateThread) -> Callable[[], object]:
    return lambda: run(thread)
