"""``streamcore worker``: an ingestion worker, run by the replica lifecycle."""

from __future__ import annotations

import click

from streamcore.cli.data import app_name_option, load_config_or_exit


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
    from streamcore.replica import run_role
    from streamcore.roles import worker_role

    config = load_config_or_exit(config_dir)
    run_role("worker", config, app_name, worker_role, process_index=process_index)
