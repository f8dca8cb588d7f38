"""``streamcore snapshots`` (a snapshot worker) and ``streamcore make-snapshots`` (a run now)."""

from __future__ import annotations

import click

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.settings import Settings


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
