"""The observers that feed ``Metrics``: one per seam the stages offer.

- ``HookMetrics`` is the hook engines' ``HookObserver``: called on the worker's
  thread for every hook call, so it binds the label children of each (module, hook,
  entity type, attribute) once and afterwards only increments them (no label lookup);
  timeouts (rare) are counted per (module, hook) with a plain label lookup;
- ``IngestMetrics`` is the worker's ``BatchObserver`` (one call per committed batch);
- ``TimedStore`` wraps a ``StateStore`` to time Cassandra loads and writes and count errors;
- ``ConsumerMetrics.sample`` reads lag, assignment and rebalances from the consumer; the
  worker calls it between batches (it throttles itself);
- ``ControlMetrics`` is the control listener's ``ControlObserver``;
- ``SnapshotMetrics`` is the snapshot worker's ``SnapshotObserver``;
- ``JobMetrics`` is the scheduler's ``JobObserver`` and the updater's progress observer.

Label values known in advance (retry and refusal reasons, a module's config errors, a
hook's timeouts) are created at 0 when their observer starts: a rate over a series that
does not exist is "no data" on the dashboard and in an alert, not the 0 it should be.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from prometheus_client import Counter, Histogram

from streamcore.batch.retry import RETRY_REASONS
from streamcore.control.signing import Refusal
from streamcore.ingest.cache import CACHE_OUTCOMES
from streamcore.ingest.worker import BatchResult, StateStore
from streamcore.metrics.catalog import JOB_OUTCOMES, Metrics
from streamcore.state.record import EntityRecord


class _HookChildren(NamedTuple):
    calls: Counter
    failures: Counter
    seconds: Histogram
    emitted: Counter


class HookMetrics:
    """``HookObserver`` counting calls, failures, emitted tasks, durations and timeouts per
    hook."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._children: dict[tuple[str, str, str, str | None], _HookChildren] = {}

    def observe(  # noqa: PLR0917 (the HookObserver protocol: positional, a hot path)
        self,
        module: str,
        hook: str,
        etype: str,
        attr: str | None,
        seconds: float,
        failed: bool,
        emitted: int,
    ) -> None:
        children = self._children.get((module, hook, etype, attr))
        if children is None:
            children = self._bind(module, hook, etype, attr)
        children.calls.inc()
        children.seconds.observe(seconds)
        if failed:
            children.failures.inc()
        if emitted:
            children.emitted.inc(emitted)

    def timed_out(self, module: str, hook: str) -> None:
        self._metrics.hook_timeouts.labels(module, str(hook)).inc()

    def _bind(self, module: str, hook: str, etype: str, attr: str | None) -> _HookChildren:
        m = self._metrics
        labels = (module, str(hook), etype, attr or "")
        children = _HookChildren(
            m.hook_calls.labels(*labels),
            m.hook_failures.labels(*labels),
            m.hook_seconds.labels(*labels),
            m.hook_emitted.labels(*labels),
        )
        m.hook_timeouts.labels(module, str(hook))  # created at 0 (see the module docstring)
        self._children[(module, hook, etype, attr)] = children
        return children


class IngestMetrics:
    """``BatchObserver``: the stage counters, batch sizes and end-to-end latency."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics
        for reason in RETRY_REASONS:
            metrics.batch_retries.labels(reason)
        for outcome in CACHE_OUTCOMES:
            metrics.cache_lookups.labels(outcome)

    def batch_done(self, result: BatchResult, seconds: float) -> None:
        m = self._m
        m.records_consumed.inc(result.records)
        m.tasks_decoded.inc(result.tasks)
        m.datapoints_applied.inc(result.data_points)
        m.derived_tasks.inc(result.derived)
        for letter in result.dead_letters:
            m.dead_letters.labels(letter.reason).inc()
        for outcome, count in result.cache_lookups.items():
            m.cache_lookups.labels(outcome).inc(count)
        for tier, (entities, size) in result.cache_tiers.items():
            m.cache_entities.labels(tier).set(entities)
            m.cache_bytes.labels(tier).set(size)
        m.batch_records.observe(result.records)
        m.batch_seconds.observe(seconds)
        durable_ms = result.durable_at * 1000.0
        observe = m.latency_seconds.observe
        for timestamp_ms in result.timestamps_ms:
            if timestamp_ms > 0:
                observe(max(0.0, (durable_ms - timestamp_ms) / 1000.0))


class TimedStore:
    """A ``StateStore`` reporting each load and write's duration, and its failures."""

    def __init__(self, store: StateStore, metrics: Metrics) -> None:
        self._store = store
        self._load = metrics.store_seconds.labels("load")
        self._write = metrics.store_seconds.labels("write")
        self._load_errors = metrics.store_errors.labels("load")
        self._write_errors = metrics.store_errors.labels("write")

    def load(self, keys: list[tuple[str, Any]]) -> list[EntityRecord]:
        started = time.perf_counter()
        try:
            return self._store.load(keys)
        except Exception:
            self._load_errors.inc()
            raise
        finally:
            self._load.observe(time.perf_counter() - started)

    def write(self, records: list[EntityRecord], now: datetime | None = None) -> int:
        started = time.perf_counter()
        try:
            return self._store.write(records, now)
        except Exception:
            self._write_errors.inc()
            raise
        finally:
            self._write.observe(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class ConsumerStats(Protocol):
    assignment: set[tuple[str, int]]
    rebalances: int

    def lag(self) -> dict[tuple[str, int], int]: ...


class ConsumerMetrics:
    """Lag per partition, assigned partitions and rebalances, sampled every ``every`` s."""

    def __init__(self, metrics: Metrics, every: float = 5.0) -> None:
        self._m = metrics
        self._every = every
        self._next = 0.0
        self._rebalances = 0
        self._partitions: set[tuple[str, int]] = set()

    def sample(self, consumer: ConsumerStats, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self._every
        m = self._m
        m.rebalances.inc(max(0, consumer.rebalances - self._rebalances))
        self._rebalances = consumer.rebalances
        m.assigned_partitions.set(len(consumer.assignment))
        lag = consumer.lag()
        for topic, partition in self._partitions - set(lag):
            m.consumer_lag.remove(topic, str(partition))
        for (topic, partition), behind in lag.items():
            m.consumer_lag.labels(topic, str(partition)).set(behind)
        self._partitions = set(lag)


class ControlMetrics:
    """``ControlObserver``: control messages by outcome, module config versions."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics
        for reason in (Refusal.UNSIGNED, Refusal.BAD_SIGNATURE, Refusal.REPLAYED):
            metrics.control_refused.labels(reason)

    def handled(self, action: str, outcome: str) -> None:
        self._m.control_messages.labels(action, outcome).inc()

    def config_version(self, module: str, version: int) -> None:
        self._m.module_config_version.labels(module).set(version)
        self._m.module_config_errors.labels(module)

    def config_refused(self, module: str) -> None:
        self._m.module_config_errors.labels(module).inc()

    def message_refused(self, reason: str) -> None:
        self._m.control_refused.labels(reason).inc()

    def modules(self, versions: Sequence[tuple[str, int]]) -> None:
        for module, version in versions:
            self.config_version(module, version)


class SnapshotMetrics:
    """``SnapshotObserver``: tasks, entities by type, invalid hook tasks, runs."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics
        for event in ("started", "finalized"):
            metrics.snapshot_runs.labels(event)

    def tasks_done(
        self, tasks: int, entities: dict[str, int], invalid: int, seconds: float
    ) -> None:
        m = self._m
        m.snapshot_tasks.inc(tasks)
        m.snapshot_task_seconds.observe(seconds)
        for etype, count in entities.items():
            m.snapshot_entities.labels(etype).inc(count)
        if invalid:
            m.snapshot_invalid_tasks.inc(invalid)

    def run_started(self) -> None:
        self._m.snapshot_runs.labels("started").inc()

    def run_finalized(self, run: datetime) -> None:
        self._m.snapshot_runs.labels("finalized").inc()
        self._m.snapshot_run_seconds.observe(max(0.0, (datetime.now(UTC) - run).total_seconds()))


class JobMetrics:
    """``JobObserver`` of the scheduler (fire times by outcome, durations, last success)
    and the periodic updater's progress. Each job's outcome children exist from the
    start (at 0), so a rate or an alert on failures has a series before the first one."""

    def __init__(self, metrics: Metrics, jobs: Iterable[str] = ()) -> None:
        self._m = metrics
        for job in jobs:
            for outcome in JOB_OUTCOMES:
                metrics.job_runs.labels(job, outcome)

    def job_done(self, job: str, outcome: str, seconds: float | None) -> None:
        m = self._m
        m.job_runs.labels(job, outcome).inc()
        if seconds is not None:
            m.job_seconds.labels(job).observe(seconds)
        if outcome == "ran":
            m.job_last_success.labels(job).set(time.time())

    def slice_done(self, thread: str, visited: int, done: int, iterations: int) -> None:
        self._m.updater_entities.labels(thread).inc(visited)
        self._m.updater_progress.labels(thread).set(done / iterations if iterations else 1.0)
