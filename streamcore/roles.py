"""The long-running roles, each a builder for the replica lifecycle (``streamcore.replica``).

A builder wires its role's loop from the ``RoleContext``: its hooks and metrics, where the
loop calls ``context.poll_control()``, what makes it alive and ready, and the control
actions only it can carry out. ``streamcore worker``, ``snapshots`` and ``scheduler`` are
``run_role(<name>, config, app_name, <builder>)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from streamcore import native
from streamcore.config.platform import PlatformConfig
from streamcore.control.actions import Handler
from streamcore.control.listener import ControlListener
from streamcore.ingest.worker import IngestWorker
from streamcore.metrics import Health, HookMetrics, IngestMetrics, Metrics
from streamcore.model.control import ControlAction
from streamcore.module.base import BaseModule
from streamcore.module.loader import LoadedModules
from streamcore.replica import Role, RoleContext, build_replica, role_context
from streamcore.runtime import (
    Runtime,
    build_ingest_worker,
    build_scheduler,
    build_snapshot_worker,
    hook_supervision,
    instrument_worker,
    snapshot_run_start,
    watch_hooks,
)
from streamcore.schedule.local import LocalJobs, local_module_jobs
from streamcore.snapshot.worker import worker_stats
from streamcore.state.durability import check_commit_log

log = logging.getLogger(__name__)


def worker_role(context: RoleContext) -> Role:
    """``streamcore worker``: an ingestion worker; control and the modules' scheduled
    callbacks between batches; alive while batches complete, ready once input partitions
    are assigned."""
    settings, metrics = context.settings, context.metrics
    log.info("ingestion worker: %s", native.status.reason)
    cassandra = settings.cassandra
    check_commit_log(context.runtime.session, cassandra.keyspace, cassandra.local_dc)
    budget, failures = hook_supervision(settings)
    hooks = context.loaded.registrar.ingestion_hooks(HookMetrics(metrics), budget, failures)
    watch_hooks(context.health, budget, settings)
    worker = build_ingest_worker(
        context.runtime,
        hooks=hooks,
        observer=IngestMetrics(metrics),
        instance=context.instance,
        metrics=metrics,
    )
    context.creation_hooks = hooks
    context.module_jobs = module_callbacks(context)
    instrument_worker(worker, context.poll_control, context.health, metrics)
    cache = worker.cache

    def stopped() -> None:
        log.info(
            "ingestion worker stopped: cache %d entities (%d packed), %d unpacked, %d unpackable",
            len(cache),
            cache.packed,
            cache.unpacked,
            cache.unpackable,
        )

    return Role(worker, closing=[stopped])


def snapshot_role(trigger: bool = True) -> Callable[[RoleContext], Role]:
    """``streamcore snapshots``: a snapshot worker (with ``trigger``, also starting the
    scheduled runs); control and the modules' scheduled callbacks between polls;
    ``make_snapshots`` starts a run (one per message, cluster-wide). Alive while its
    loop beats (between polls and after every page) and no hook is stuck; ready once
    Cassandra answers and snapshot task partitions are assigned."""

    def build(context: RoleContext) -> Role:
        from streamcore.metrics import ConsumerMetrics

        runtime, health = context.runtime, context.health
        modules = context.loaded.modules
        worker = build_snapshot_worker(
            runtime,
            context.loaded.registrar.registry,
            observer=HookMetrics(context.metrics),
            instance=context.instance,
            trigger=trigger,
            metrics=context.metrics,
            refresh_flags={name: module.refresh for name, module in modules.items()},
        )
        worker.heartbeat = health.beat
        watch_hooks(health, worker.hooks.budget, context.settings)
        health.checks.append(lambda: cassandra_down(runtime))

        def assigned() -> str | None:
            consumer = worker.consumer
            ok = consumer is not None and consumer.assignment
            return None if ok else "no snapshot task partitions assigned"

        health.checks.append(assigned)
        lag = ConsumerMetrics(context.metrics)

        def sample() -> None:  # the snapshot tasks' lag
            if worker.consumer is not None:
                lag.sample(worker.consumer)

        context.module_jobs = module_callbacks(context)
        worker.between.extend([context.poll_control, sample])
        context.actions.handle(ControlAction.MAKE_SNAPSHOTS, _run_start(context))
        stopped = lambda: log.info("snapshot worker stopped: %s", worker_stats(worker))  # noqa: E731
        return Role(worker, closing=[stopped])

    return build


def scheduler_role(context: RoleContext) -> Role:
    """``streamcore scheduler``: the updater, history, garbage collector and module jobs;
    control every loop round (at least once a second; jobs run on their own threads);
    ``make_snapshots`` starts a run. Alive while the loop beats; ready once it runs and
    Cassandra, where every fire time is claimed, has a live host."""
    runtime, health = context.runtime, context.health
    clock = build_scheduler(runtime, context.loaded, context.instance, context.metrics)
    started = threading.Event()

    def beat() -> None:
        health.beat()
        started.set()
        context.poll_control()

    clock.heartbeat = beat
    health.checks.append(lambda: None if started.is_set() else "scheduler loop not started")
    health.checks.append(lambda: cassandra_down(runtime))
    context.actions.handle(ControlAction.MAKE_SNAPSHOTS, _run_start(context))
    return Role(clock)


def module_callbacks(context: RoleContext) -> LocalJobs:
    """The modules' ``scheduler_register`` callbacks this worker runs itself, between
    batches on its hook thread (``schedule/local.py``), counted in its metrics."""
    from streamcore.metrics import JobMetrics

    jobs = local_module_jobs(context.loaded.registrar.registry.scheduled_jobs)
    jobs.observer = JobMetrics(context.metrics, [job.name for job in jobs.jobs])
    return jobs


def _run_start(context: RoleContext) -> Handler:
    handler: Handler = snapshot_run_start(context.runtime, context.instance)
    return handler


def cassandra_down(runtime: Runtime) -> str | None:
    """None while the runtime's Cassandra session has a live host, else why not (cheap:
    the driver's own view of its hosts, no query)."""
    hosts = runtime.session.cluster.metadata.all_hosts()
    return None if any(host.is_up for host in hosts) else "no Cassandra host is up"


@dataclass
class WorkerReplica:
    """An ingestion worker with its control listener, metrics and health, ready to run:
    ``listener.start()``, then ``worker.run()`` (on the same thread), then
    ``listener.close()``."""

    instance: str
    worker: IngestWorker
    listener: ControlListener
    modules: dict[str, BaseModule]
    metrics: Metrics
    health: Health


def build_worker_replica(
    runtime: Runtime,
    platform_config: PlatformConfig,
    loaded: LoadedModules,
    metrics: Metrics,
    instance: str | None = None,
) -> WorkerReplica:
    """Everything ``streamcore worker`` runs (``streamcore.roles.worker_role`` through the
    replica lifecycle), for tests that run replicas in threads."""
    context = role_context("worker", runtime, platform_config, loaded, metrics, instance=instance)
    replica = build_replica(context, worker_role)
    worker = replica.role.loop
    assert isinstance(worker, IngestWorker) and replica.listener is not None
    return WorkerReplica(
        context.instance, worker, replica.listener, loaded.modules, metrics, context.health
    )
