"""Long-running processes: ``streamcore worker`` (and the other roles as they land)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.settings import Settings

log = logging.getLogger(__name__)


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option("--process-index", default=0, show_default=True, help="PlatformConfig index.")
def worker(config_dir: str, app_name: str, process_index: int) -> None:
    """Run an ingestion worker: one member of the application's consumer group.

    It also follows the control topic (applying actions between batches) and serves
    /metrics, /healthz and /readyz on STREAMCORE_METRICS__PORT (0: off).
    SIGTERM or SIGINT finishes the batch in hand, commits it and leaves the group.
    """
    from prometheus_client import REGISTRY

    from streamcore.metrics import Metrics, serve_metrics
    from streamcore.module.loader import load_modules, start_modules, stop_modules
    from streamcore.runtime import build_worker_replica, open_runtime

    config = load_config_or_exit(config_dir)
    settings = Settings()
    platform_config = config.platform_config(app_name, process_index)
    loaded = load_modules(platform_config, dp3_compat=settings.dp3_compat)
    runtime = open_runtime(settings, config, app_name)
    replica = build_worker_replica(runtime, platform_config, loaded, Metrics(REGISTRY))
    ingest, listener = replica.worker, replica.listener
    server = serve_metrics(settings.metrics, REGISTRY, replica.health)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: finishing the batch in hand, then leaving", signum)
        ingest.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    listener.start()
    start_modules(loaded.modules)
    log.info("worker %s of %s consuming %s", replica.instance, app_name, runtime.topic("input"))
    try:
        ingest.run()
    finally:
        listener.close()
        stop_modules(loaded.modules)
        runtime.close()
        if server is not None:
            server.close()
    log.info("worker stopped cleanly")
