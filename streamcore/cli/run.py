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

    SIGTERM or SIGINT finishes the batch in hand, commits it and leaves the group.
    """
    from streamcore.module.loader import load_modules, start_modules, stop_modules
    from streamcore.runtime import build_ingest_worker, open_runtime

    config = load_config_or_exit(config_dir)
    settings = Settings()
    loaded = load_modules(
        config.platform_config(app_name, process_index), dp3_compat=settings.dp3_compat
    )
    runtime = open_runtime(settings, config, app_name)
    ingest = build_ingest_worker(runtime, hooks=loaded.registrar.ingestion_hooks())

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: finishing the batch in hand, then leaving", signum)
        ingest.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    start_modules(loaded.modules)
    log.info("worker of %s consuming %s", app_name, runtime.topic("input"))
    try:
        ingest.run()
    finally:
        stop_modules(loaded.modules)
        runtime.close()
    log.info("worker stopped cleanly")
