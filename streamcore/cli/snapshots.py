"""``streamcore snapshots`` (a snapshot worker) and ``streamcore make-snapshots`` (a run now)."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import TYPE_CHECKING

import click

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.settings import Settings

if TYPE_CHECKING:
    from streamcore.metrics import Health
    from streamcore.runtime import Runtime
    from streamcore.snapshot.worker import SnapshotWorker

log = logging.getLogger(__name__)


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option("--process-index", default=0, show_default=True, help="PlatformConfig index.")
@click.option("--no-trigger", is_flag=True, help="Only process tasks; never start scheduled runs.")
def snapshots(config_dir: str, app_name: str, process_index: int, no_trigger: bool) -> None:
    """Run a snapshot worker: one member of the group sharing snapshot tasks.

    Every worker also watches snapshots.yml's creation_rate; at each slot exactly one
    worker in the cluster starts the run. Serves /metrics, /healthz and /readyz on
    STREAMCORE_METRICS__PORT (0: off). SIGTERM or SIGINT finishes the task in hand.
    """
    from prometheus_client import REGISTRY

    from streamcore.metrics import HookMetrics, Metrics, serve_metrics
    from streamcore.module.loader import load_modules, start_modules, stop_modules
    from streamcore.runtime import build_snapshot_worker, open_runtime
    from streamcore.snapshot.worker import worker_stats

    config = load_config_or_exit(config_dir)
    settings = Settings()
    platform_config = config.platform_config(app_name, process_index)
    loaded = load_modules(platform_config, dp3_compat=settings.dp3_compat)
    runtime = open_runtime(settings, config, app_name)
    worker = build_snapshot_worker(
        runtime,
        loaded.registrar.registry,
        observer=HookMetrics(Metrics(REGISTRY)),
        trigger=not no_trigger,
    )
    server = serve_metrics(settings.metrics, REGISTRY, snapshot_health(worker, runtime, settings))

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: finishing the task in hand, then leaving", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    start_modules(loaded.modules)
    log.info("snapshot worker of %s consuming %s", app_name, runtime.topic("snapshot_tasks"))
    try:
        worker.run()
    finally:
        stop_modules(loaded.modules)
        runtime.close()
        if server is not None:
            server.close()
    log.info("snapshot worker stopped: %s", worker_stats(worker))


def snapshot_health(worker: SnapshotWorker, runtime: Runtime, settings: Settings) -> Health:
    """Alive while the worker loop beats (between polls and after every page of a task)
    and no hook call is stuck past its budgets; ready once Cassandra answers and snapshot
    task partitions are assigned to it."""
    from streamcore.metrics import Health
    from streamcore.runtime import watch_hooks

    health = Health(settings.metrics.liveness_seconds)
    worker.heartbeat = health.beat
    watch_hooks(health, worker.hooks.budget, settings)
    health.checks.append(lambda: cassandra_down(runtime))

    def assigned() -> str | None:
        consumer = worker.consumer
        return (
            None
            if consumer is not None and consumer.assignment
            else "no snapshot task partitions assigned"
        )

    health.checks.append(assigned)
    return health


def cassandra_down(runtime: Runtime) -> str | None:
    """None while the runtime's Cassandra session has a live host, else why not (cheap:
    the driver's own view of its hosts, no query)."""
    hosts = runtime.session.cluster.metadata.all_hosts()
    return None if any(host.is_up for host in hosts) else "no Cassandra host is up"


@click.command("make-snapshots")
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
def make_snapshots(config_dir: str, app_name: str) -> None:
    """Start a snapshot run now; the snapshot workers process it."""
    from streamcore.runtime import make_snapshots as start_run
    from streamcore.runtime import open_runtime

    config = load_config_or_exit(config_dir)
    runtime = open_runtime(Settings(), config, app_name)
    try:
        run = start_run(runtime)
    finally:
        runtime.close()
    click.echo(f"snapshot run {run.isoformat()} started")
