"""The composition root: the one place that builds I/O objects from settings and config.

Everything else receives what it needs (sessions, clients, stores) ready-made, which is
what keeps the processor, the merge rules and the hook engine testable without servers.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamcore.codec.framing import Framing
from streamcore.codec.tasks import DeadLetterCodec, TaskDecoder, TaskEncoder
from streamcore.config import AppConfig
from streamcore.config.platform import PlatformConfig
from streamcore.control.actions import (
    ControlActions,
    CreationHooks,
    EntityCreationRefresh,
    refresh_module_config,
    reset_module_config,
)
from streamcore.control.listener import ControlListener, ControlObserver
from streamcore.control.modules import ModuleConfigs
from streamcore.control.signing import ControlSignature
from streamcore.errors import InvalidDataPointError
from streamcore.ingest.hook_runner import IngestionHookRunner, NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.ingest.worker import (
    BatchObserver,
    IngestWorker,
    StateStore,
    WorkerLimits,
    WorkerTopics,
)
from streamcore.kafka.clients import DeliveryReport, make_producer
from streamcore.kafka.consumer import BatchConsumer, Partition
from streamcore.kafka.reader import TopicReader
from streamcore.kafka.registry import topic_framing
from streamcore.kafka.transactions import TransactionalOutput
from streamcore.limits import Limits, TaskValidator
from streamcore.metrics import (
    ConsumerMetrics,
    Health,
    Metrics,
    TimedStore,
)
from streamcore.model.control import ControlAction
from streamcore.model.datapoint import DataPointTask
from streamcore.module.base import BaseModule
from streamcore.module.budget import HookBudget
from streamcore.module.hooklog import HookFailureLog
from streamcore.module.loader import LoadedModules
from streamcore.producer import DataPointProducer
from streamcore.settings import Settings
from streamcore.state.cassandra import CassandraStore
from streamcore.state.claims import ClaimStore
from streamcore.state.fence import PartitionFences
from streamcore.state.session import open_session

if TYPE_CHECKING:
    from streamcore.module.loader import LoadedModules
    from streamcore.schedule.scheduler import Scheduler

log = logging.getLogger(__name__)


class TaskCodec:
    """Decoding with validation (model, ``limits``, expiry), encoding of validated tasks:
    both halves of the wire. An encoded task over the message limit is refused too."""

    def __init__(
        self, config: AppConfig, limits: Limits | None = None, framing: Framing | None = None
    ) -> None:
        self._validator = TaskValidator(config.model_spec, limits)
        self._decoder = TaskDecoder(config.model_spec, check=self._validator, framing=framing)
        self._encoder = TaskEncoder(config.model_spec, framing=framing)
        self.decode = self._decoder.decode

    def encode(self, task: DataPointTask) -> bytes:
        data = self._encoder.encode(task)
        self._validator.check_message(len(data))
        return data


@dataclass
class Runtime:
    """The open connections of one process, closed together."""

    settings: Settings
    config: AppConfig
    app_name: str
    session: Any

    def close(self) -> None:
        self.session.cluster.shutdown()

    def topic(self, role: str) -> str:
        return self.settings.topics.name(role, self.app_name)

    def consumer_group(self) -> str:
        return self.settings.worker.consumer_group or f"{self.app_name}.ingest"

    def store(self) -> CassandraStore:
        return CassandraStore(
            self.session, self.settings.cassandra.keyspace, self.config.model_spec
        )


def open_runtime(settings: Settings, config: AppConfig, app_name: str) -> Runtime:
    """Connections for ``app_name``; its keyspace resolved (``Settings.for_app``)."""
    settings = settings.for_app(app_name)
    return Runtime(settings, config, app_name, open_session(settings.cassandra))


def instance_name() -> str:
    """A name for this process run: unique in the consumer group and among replicas."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def build_ingest_worker(
    runtime: Runtime,
    hooks: IngestionHookRunner | None = None,
    observer: BatchObserver | None = None,
    instance: str | None = None,
    metrics: Metrics | None = None,
) -> IngestWorker:
    """A worker of ``runtime``'s application; ``instance`` names it in the group.

    With ``metrics``, its Cassandra loads and writes are timed (``TimedStore``).
    """
    settings = runtime.settings
    client = settings.kafka.client_config()
    instance = instance or instance_name()
    links = runtime.store()
    store: StateStore = links
    if metrics is not None:
        store = TimedStore(store, metrics)
    input_topic = runtime.topic("input")

    worker_settings = settings.worker

    def consumer(on_revoke: Callable[[list[Partition]], None]) -> BatchConsumer:
        return BatchConsumer(
            {**client, "client.id": instance},
            runtime.consumer_group(),
            [input_topic],
            on_revoke=on_revoke,
            options={"session.timeout.ms": worker_settings.session_timeout_ms},
        )

    return IngestWorker(
        model=runtime.config.model_spec,
        processor=TaskProcessor(
            runtime.config.model_spec,
            hooks or NoHooks(),
            enforce_max_items=settings.worker.enforce_max_items,
            links=links,
        ),
        codec=TaskCodec(
            runtime.config, settings.limits.limits(), topic_framing(settings, input_topic)
        ),
        dead_letters=DeadLetterCodec(),
        store=store,
        consumer_factory=consumer,
        output=TransactionalOutput(
            client,
            f"{runtime.app_name}.ingest.{instance}",
            settings.worker.transaction_timeout_ms,
        ),
        topics=WorkerTopics(input=input_topic, dead_letter=runtime.topic("dead_letter")),
        fences=PartitionFences(runtime.session, settings.cassandra.keyspace, instance),
        limits=WorkerLimits(
            max_hops=worker_settings.max_hops,
            dead_letter_value_bytes=worker_settings.dead_letter_value_bytes,
            retry_initial_seconds=worker_settings.retry_initial_seconds,
            retry_max_seconds=worker_settings.retry_max_seconds,
            retry_budget_seconds=worker_settings.retry_budget_seconds,
        ),
        batch_size=settings.worker.batch_size,
        cache_entities=settings.worker.cache_entities,
        cache_bytes=settings.worker.cache_bytes,
        cache_hot_entities=settings.worker.cache_hot_entities,
        observer=observer,
        on_retry=(lambda reason: metrics.batch_retries.labels(reason).inc()) if metrics else None,
    )


def build_control_listener(  # noqa: PLR0913 (the parts of one replica)
    runtime: Runtime,
    platform_config: PlatformConfig,
    modules: dict[str, BaseModule],
    *,
    role: str,
    replica: str,
    hooks: CreationHooks | None = None,
    observer: ControlObserver | None = None,
    actions: ControlActions | None = None,
) -> ControlListener:
    """The control listener of one replica (call ``start()`` before its loop runs).

    Every process handles ``ping`` and ``refresh_module_config`` for its ``modules``
    (an applied refresh is also recorded for the next snapshot run:
    ``streamcore.state.refreshes``); with ``hooks`` (an ingestion hook engine), also
    ``refresh_on_entity_creation``. Other actions (``make_snapshots``) are added by the
    process that can run them, to ``actions`` (or ``listener.actions``) before ``start()``.
    """
    from streamcore.state.refreshes import RefreshRequests

    settings = runtime.settings
    configs = ModuleConfigs(platform_config, modules, runtime.config.modules)
    actions = actions or ControlActions(runtime.config.control.allowed_actions, role)
    requests = RefreshRequests(runtime.session, settings.cassandra.keyspace)
    actions.handle(
        ControlAction.REFRESH_MODULE_CONFIG, refresh_module_config(configs, requests.record)
    )
    actions.handle(ControlAction.RESET_MODULE_CONFIG, reset_module_config(configs, requests.record))
    if hooks is not None:
        claims = ClaimStore(runtime.session, settings.cassandra.keyspace, replica)
        actions.handle(
            ControlAction.REFRESH_ON_ENTITY_CREATION,
            EntityCreationRefresh(
                hooks,
                runtime.config.model_spec.entities,
                runtime.store().eids,
                lambda slot: claims.claim("control", slot),
                lambda tasks: _emit(runtime, tasks),
            ),
        )
    return ControlListener(
        source=TopicReader(settings.kafka.client_config(), runtime.topic("control")),
        acks=make_producer(settings.kafka, _log_failed_ack, **{"linger.ms": 0}),
        ack_topic=runtime.topic("control_acks"),
        actions=actions,
        configs=configs,
        replica=replica,
        heartbeat_seconds=settings.control.heartbeat_seconds,
        observer=observer,
        signature=ControlSignature.from_settings(settings.control, runtime.topic("control")),
    )


def instrument_worker(
    worker: IngestWorker, control: Callable[[], None], health: Health, metrics: Metrics
) -> None:
    """Between batches, on the worker's thread: beat, handle control messages, sample the
    consumer. Ready once partitions are assigned."""
    consumer_metrics = ConsumerMetrics(metrics)

    def beat() -> None:  # alive while batches complete or there is nothing to do
        health.beat(worker.last_progress)

    def sample() -> None:
        consumer_metrics.sample(worker.consumer)

    worker.between_batches.extend([beat, control, sample])
    health.checks.append(
        lambda: None if worker.consumer.assignment else "no input partitions assigned"
    )


def hook_supervision(settings: Settings) -> tuple[HookBudget, HookFailureLog]:
    """The time budget and the rate-limited failure log of a process's hook engine."""
    hooks = settings.hooks
    return HookBudget(hooks.time_budget_seconds), HookFailureLog(hooks.error_log_interval_seconds)


def watch_hooks(health: Health, budget: HookBudget | None, settings: Settings) -> None:
    """Liveness fails while one hook call has run ``stuck_after_budgets`` budgets: one the
    budget could not interrupt (blocked in C code)."""
    if budget is not None and budget.seconds > 0:
        limit = budget.seconds * settings.hooks.stuck_after_budgets
        health.watch_busy("a hook call", budget.busy_since, limit)


def _emit(runtime: Runtime, tasks: list[DataPointTask]) -> int:
    """Send tasks derived outside a batch to the input topic; the count sent."""
    sent = 0
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as out:
        for task in tasks:
            try:
                out.send(task)
                sent += 1
            except InvalidDataPointError as exc:
                log.error("a hook derived an invalid task for %s %s: %s", task.etype, task.eid, exc)
    return sent


def _log_failed_ack(report: DeliveryReport) -> None:
    if report.error is not None:
        log.warning("control acknowledgement not delivered: %s", report.error)


# Snapshots -------------------------------------------------------------------------------
# Imported inside the builders, so ingestion-only processes don't load the snapshot stage.


def snapshot_retention_seconds(config: AppConfig) -> int:
    """Snapshot TTL: ``history_manager.yml`` ``snapshot_cleaning.older_than``."""
    return int(config.history_manager.snapshot_cleaning.older_than.total_seconds())


def build_run_planner(runtime: Runtime, owner: str | None = None, refreshes: bool = True) -> Any:
    """The ``(ClaimStore, RunPlanner)`` that start snapshot runs for ``runtime``'s app;
    with ``refreshes``, each run takes the pending module refreshes."""
    from streamcore.kafka.clients import make_producer
    from streamcore.snapshot.runs import RunPlanner
    from streamcore.state.claims import ClaimStore
    from streamcore.state.refreshes import RefreshRequests
    from streamcore.state.snapshots import SnapshotStore

    def delivered(report: Any) -> None:  # a kafka.clients.DeliveryReport
        if report.error is not None:
            raise RuntimeError(f"snapshot task not delivered: {report.error}")

    keyspace = runtime.settings.cassandra.keyspace
    claims = ClaimStore(runtime.session, keyspace, owner)
    planner = RunPlanner(
        SnapshotStore(runtime.session, keyspace, runtime.config.model_spec),
        make_producer(runtime.settings.kafka, delivered),
        runtime.topic("snapshot_tasks"),
        runtime.settings.snapshots.tasks_per_run,
        claims.owner,
        RefreshRequests(runtime.session, keyspace) if refreshes else None,
    )
    return claims, planner


def make_snapshots(runtime: Runtime) -> Any:
    """Start a snapshot run now, for the worker group to process; returns its time."""
    from streamcore.snapshot.runs import make_snapshots as start_run

    claims, planner = build_run_planner(runtime)
    return start_run(claims, planner)


def snapshot_run_start(runtime: Runtime, owner: str) -> Any:
    """The ``make_snapshots`` control handler of a replica that can start runs (a
    ``control.actions.SnapshotRunStart``: one run per message, cluster-wide)."""
    from streamcore.control.actions import SnapshotRunStart
    from streamcore.snapshot.runs import make_snapshots as start_run

    claims, planner = build_run_planner(runtime, owner)
    return SnapshotRunStart(lambda slot: start_run(claims, planner, slot=slot, trigger="control"))


def build_snapshot_worker(  # noqa: PLR0913, PLR0917 (callers pass the first ones by position)
    runtime: Runtime,
    registry: Any,
    observer: Any = None,
    instance: str | None = None,
    trigger: bool = True,
    *,
    metrics: Metrics | None = None,
    refresh_flags: dict[str, Any] | None = None,
) -> Any:
    """A snapshot worker of ``runtime``'s application running ``registry``'s snapshot hooks
    (a ``HookRegistry``); with ``trigger`` it also starts scheduled runs (once per cluster).
    ``metrics``: its tasks and runs are recorded; ``refresh_flags`` (module -> its refresh
    flag): the modules a run's tasks name re-run their ``refresh=`` hooks."""
    from datetime import timedelta

    from streamcore.metrics import SnapshotMetrics
    from streamcore.snapshot.engine import Snapshotter
    from streamcore.snapshot.hooks import SnapshotHooks
    from streamcore.snapshot.messages import SnapshotCodec
    from streamcore.snapshot.runs import RunTrigger
    from streamcore.snapshot.schedule import SnapshotSchedule
    from streamcore.snapshot.worker import SnapshotTopics, SnapshotWorker
    from streamcore.state.snapshots import SnapshotStore

    settings, config = runtime.settings, runtime.config
    snap = settings.snapshots
    client = settings.kafka.client_config()
    instance = instance or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    topics = SnapshotTopics(
        tasks=runtime.topic("snapshot_tasks"),
        snapshots=runtime.topic("snapshots"),
        input=runtime.topic("input"),
    )
    group = snap.consumer_group or f"{runtime.app_name}.snapshots"
    hooks = SnapshotHooks(registry, observer, *hook_supervision(settings))
    store = runtime.store()
    snapshotter = Snapshotter(
        config.model_spec,
        hooks,
        store,
        registry.used_links,
        keep_empty=config.snapshots.keep_empty,
        max_component=snap.max_component,
        link_index=store,
    )
    run_trigger = None
    if trigger:
        claims, planner = build_run_planner(runtime, instance)
        schedule = SnapshotSchedule(config.snapshots.creation_rate)
        grace = timedelta(seconds=snap.trigger_grace_seconds)
        run_trigger = RunTrigger(schedule, claims, planner, grace)
    return SnapshotWorker(
        model=config.model_spec,
        hooks=hooks,
        snapshotter=snapshotter,
        store=SnapshotStore(runtime.session, settings.cassandra.keyspace, config.model_spec),
        consumer_factory=lambda: BatchConsumer(
            {**client, "client.id": instance}, group, [topics.tasks]
        ),
        output=TransactionalOutput(
            client,
            f"{runtime.app_name}.snapshots.{instance}",
            settings.worker.transaction_timeout_ms,
        ),
        task_encoder=TaskEncoder(config.model_spec, framing=topic_framing(settings, topics.input)),
        snapshot_codec=SnapshotCodec(framing=topic_framing(settings, topics.snapshots)),
        topics=topics,
        retention_seconds=snapshot_retention_seconds(config),
        instance=instance,
        trigger=run_trigger,
        page=snap.page_size,
        observer=SnapshotMetrics(metrics) if metrics is not None else None,
        refresh_flags=refresh_flags,
    )


def build_scheduler(
    runtime: Runtime,
    loaded: LoadedModules,
    instance: str | None = None,
    metrics: Metrics | None = None,
) -> Scheduler:
    """The ``streamcore scheduler`` process: periodic updater, history aggregation, garbage
    collector and the modules' ``scheduler_register`` jobs, on one cluster-wide clock.

    Every job's fire time is claimed in Cassandra (``ClaimStore``), so any number of
    replicas run each fire time once; ``instance`` names this replica in the claims.
    Everything the jobs derive (updater hook tasks, aggregation repairs, entity deletes)
    goes to the input topic through one ``DataPointProducer``. With ``metrics``, every
    job's fire times, durations and last success, and the updater's progress, are recorded.
    """
    from streamcore.history.aggregation import HistoryManager
    from streamcore.history.collector import GarbageCollector, GarbageCollectorConfig
    from streamcore.producer import DataPointProducer
    from streamcore.schedule.jobs import module_jobs, platform_job
    from streamcore.schedule.scheduler import Scheduler
    from streamcore.state.claims import ClaimStore
    from streamcore.state.progress import ProgressStore
    from streamcore.updater.plan import update_threads
    from streamcore.updater.updater import PeriodicUpdater

    config, keyspace = runtime.config, runtime.settings.cassandra.keyspace
    model = config.model_spec
    owner = instance or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    claims = ClaimStore(runtime.session, keyspace, owner=owner)
    store = runtime.store()
    sink = DataPointProducer(runtime.settings, runtime.app_name, model)
    registry = loaded.registrar.registry
    updater = PeriodicUpdater(
        update_threads(registry.periodic_hooks()),
        model=model,
        store=store,
        progress=ProgressStore(runtime.session, keyspace),
        claims=claims,
        sink=sink,
        batch_period=config.updater.update_batch_period,
    )
    history = HistoryManager(model, store, sink)
    collector = GarbageCollector(model, store, sink)
    collection = GarbageCollectorConfig.from_raw(config.raw.get("garbage_collector", None))
    jobs = [
        *updater.jobs(config.updater.update_batch_cron),
        platform_job("aggregation", history.aggregate, config.history_manager.aggregation_schedule),
        platform_job("garbage_collector", collector.collect, collection.collection_rate),
        *module_jobs(registry.scheduled_jobs),
    ]
    if metrics is None:
        return Scheduler(jobs, claims)
    from streamcore.metrics import JobMetrics

    observer = JobMetrics(metrics, [job.name for job in jobs])
    updater.on_slice = observer.slice_done
    return Scheduler(jobs, claims, observer=observer)
