"""``streamcore scheduler CONFIG_DIR``: the process that runs everything on a clock."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

import click

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.settings import Settings

if TYPE_CHECKING:
    from streamcore.metrics import Health
    from streamcore.runtime import Runtime
    from streamcore.schedule.scheduler import Scheduler

log = logging.getLogger(__name__)


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option("--instance", default=None, help="This replica's name in claims (default: unique).")
def scheduler(config_dir: str, app_name: str, instance: str | None) -> None:
    """Run the periodic updater, history aggregation, garbage collector and the modules'
    scheduled callbacks.

    Safe with several replicas: each fire time (and each updater slice) is claimed in
    Cassandra and runs in one replica only. Serves /metrics, /healthz and /readyz on
    STREAMCORE_METRICS__PORT (0: off; the jobs are not instrumented yet, /metrics has the
    process collectors). SIGTERM or SIGINT lets running jobs finish.
    """
    from prometheus_client import REGISTRY

    from streamcore.metrics import serve_metrics
    from streamcore.module.loader import load_modules, start_modules, stop_modules
    from streamcore.runtime import build_scheduler, open_runtime

    config = load_config_or_exit(config_dir)
    settings = Settings()
    loaded = load_modules(config.platform_config(app_name), dp3_compat=settings.dp3_compat)
    runtime = open_runtime(settings, config, app_name)
    clock = build_scheduler(runtime, loaded, instance)
    server = serve_metrics(settings.metrics, REGISTRY, scheduler_health(clock, runtime, settings))

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: letting running jobs finish, then stopping", signum)
        clock.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    start_modules(loaded.modules)
    log.info("scheduler of %s: %s", app_name, ", ".join(job.name for job in clock.jobs))
    try:
        clock.run()
    finally:
        stop_modules(loaded.modules)
        runtime.close()
        if server is not None:
            server.close()
    log.info("scheduler stopped cleanly")


def scheduler_health(clock: Scheduler, runtime: Runtime, settings: Settings) -> Health:
    """Alive while the scheduler loop beats (every round, at least once a second; jobs
    run on their own threads, so a long job does not stall it); ready once the loop runs
    and Cassandra, where every fire time is claimed, has a live host."""
    from streamcore.cli.snapshots import cassandra_down
    from streamcore.metrics import Health

    health = Health(settings.metrics.liveness_seconds)
    started = threading.Event()

    def beat() -> None:
        health.beat()
        started.set()

    clock.heartbeat = beat
    health.checks.append(lambda: None if started.is_set() else "scheduler loop not started")
    health.checks.append(lambda: cassandra_down(runtime))
    return health
