"""``streamcore snapshots`` (a snapshot worker) and ``streamcore make-snapshots`` (a run now)."""

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
@click.option("--no-trigger", is_flag=True, help="Only process tasks; never start scheduled runs.")
def snapshots(config_dir: str, app_name: str, process_index: int, no_trigger: bool) -> None:
    """Run a snapshot worker: one member of the group sharing snapshot tasks.

    Every worker also watches snapshots.yml's creation_rate; at each slot exactly one
    worker in the cluster starts the run. SIGTERM or SIGINT finishes the task in hand.
    """
    from streamcore.module.loader import load_modules, start_modules, stop_modules
    from streamcore.runtime import build_snapshot_worker, open_runtime
    from streamcore.snapshot.worker import worker_stats

    config = load_config_or_exit(config_dir)
    loaded = load_modules(config.platform_config(app_name, process_index))
    runtime = open_runtime(Settings(), config, app_name)
    worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=not no_trigger)

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
    log.info("snapshot worker stopped: %s", worker_stats(worker))


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
