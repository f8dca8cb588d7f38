"""``streamcore snapshots`` (a snapshot worker) and ``streamcore make-snapshots`` (a run now)."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING

import click

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.settings import Settings

if TYPE_CHECKING:
    from streamcore.state.snapshots import SnapshotStore


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option("--process-index", default=0, show_default=True, help="PlatformConfig index.")
@click.option("--no-trigger", is_flag=True, help="Only process tasks; never start scheduled runs.")
def snapshots(config_dir: str, app_name: str, process_index: int, no_trigger: bool) -> None:
    """Run a snapshot worker: one member of the group sharing snapshot tasks.

    Every worker also watches snapshots.yml's creation_rate; at each slot exactly one
    worker in the cluster starts the run. It follows the control topic between polls
    (``make_snapshots`` starts a run) and serves /metrics, /healthz and /readyz on
    STREAMCORE_METRICS__PORT (0: off). SIGTERM or SIGINT finishes the task in hand.
    """
    from streamcore.replica import run_role
    from streamcore.roles import snapshot_role

    config = load_config_or_exit(config_dir)
    build = snapshot_role(trigger=not no_trigger)
    run_role("snapshots", config, app_name, build, process_index=process_index)


@click.command("make-snapshots")
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option(
    "--wait", is_flag=True, help="Wait until the snapshot workers finished the run, with progress."
)
@click.option("--timeout", default=600.0, show_default=True, help="--wait: give up after (s).")
def make_snapshots(config_dir: str, app_name: str, wait: bool, timeout: float) -> None:
    """Start a snapshot run now; the snapshot workers process it.

    With --wait, print the run's progress (tasks finished of planned, entities) as it
    moves, and exit 0 when every task is done, 2 if the timeout passes first (the run
    goes on: a snapshot worker may not be running).
    """
    from streamcore.runtime import make_snapshots as start_run
    from streamcore.runtime import open_runtime
    from streamcore.state.snapshots import SnapshotStore

    config = load_config_or_exit(config_dir)
    runtime = open_runtime(Settings(), config, app_name)
    try:
        run = start_run(runtime)
        click.echo(f"snapshot run {run.isoformat()} started")
        if wait:
            store = SnapshotStore(
                runtime.session, runtime.settings.cassandra.keyspace, config.model_spec
            )
            if not _wait_for_run(store, run, timeout):
                sys.exit(2)
    finally:
        runtime.close()


def _wait_for_run(store: SnapshotStore, run: datetime, timeout: float) -> bool:
    """Poll the run's progress once a second, printing each change; True when done."""
    deadline = time.monotonic() + timeout
    shown: tuple[int, int] | None = None
    planned = store.run_tasks(run) or 0
    while True:
        done, entities = store.progress(run)
        if (done, entities) != shown:
            shown = (done, entities)
            click.echo(f"  {done}/{planned} tasks done, {entities} entities")
        if planned and done >= planned:
            click.echo(f"snapshot run {run.isoformat()} finished: {entities} entities")
            return True
        if time.monotonic() > deadline:
            click.echo(
                f"snapshot run {run.isoformat()} not finished after {timeout:g} s "
                f"({done}/{planned} tasks): is a snapshot worker running?",
                err=True,
            )
            return False
        time.sleep(1.0)
