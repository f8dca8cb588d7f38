"""``streamcore scheduler CONFIG_DIR``: the process that runs everything on a clock."""

from __future__ import annotations

import click

from streamcore.cli.data import app_name_option, load_config_or_exit


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
@click.option("--instance", default=None, help="This replica's name in claims (default: unique).")
def scheduler(config_dir: str, app_name: str, instance: str | None) -> None:
    """Run the periodic updater, history aggregation, garbage collector and the modules'
    scheduled callbacks.

    Safe with several replicas: each fire time (and each updater slice) is claimed in
    Cassandra and runs in one replica only. It follows the control topic every loop
    round (``make_snapshots`` starts a run) and serves /metrics (every job's fire times,
    durations, last success), /healthz and /readyz on STREAMCORE_METRICS__PORT (0: off).
    SIGTERM or SIGINT lets running jobs finish.
    """
    from streamcore.replica import run_role
    from streamcore.roles import scheduler_role

    config = load_config_or_exit(config_dir)
    run_role("scheduler", config, app_name, scheduler_role, instance=instance)
