"""``streamcore scheduler CONFIG_DIR``: the process that runs everything on a clock."""

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
@click.option("--instance", default=None, help="This replica's name in claims (default: unique).")
def scheduler(config_dir: str, app_name: str, instance: str | None) -> None:
    """Run the periodic updater, history aggregation, garbage collector and the modules'
    scheduled callbacks.

    Safe with several replicas: each fire time (and each updater slice) is claimed in
    Cassandra and runs in one replica only. SIGTERM or SIGINT lets running jobs finish.
    """
    from streamcore.module.loader import load_modules, start_modules, stop_modules
    from streamcore.runtime import build_scheduler, open_runtime

    config = load_config_or_exit(config_dir)
    settings = Settings()
    loaded = load_modules(config.platform_config(app_name))
    runtime = open_runtime(settings, config, app_name)
    clock = build_scheduler(runtime, loaded, instance)

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
    log.info("scheduler stopped cleanly")
