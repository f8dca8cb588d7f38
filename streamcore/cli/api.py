"""``streamcore api CONFIG_DIR``: DP³'s HTTP API on uvicorn, a role of the replica lifecycle."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from streamcore.cli.data import app_name_option, load_config_or_exit
from streamcore.settings import Settings

log = logging.getLogger(__name__)


@click.command()
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False))
@app_name_option
def api(config_dir: str, app_name: str) -> None:
    """Serve DP³'s HTTP API (POST /datapoints, /entity, /v2/entity, /control, /telemetry)
    plus /metrics, /healthz and /readyz, on STREAMCORE_API__HOST:STREAMCORE_API__PORT.

    Writes (data-points, set, ttl, delete) and control need ``Authorization: Bearer`` when
    STREAMCORE_API__TOKEN is set. With STREAMCORE_API__WORKERS=1 (the default) the process
    is a replica like the others (control topic, process metrics, graceful SIGTERM); more
    workers run under uvicorn's supervisor, without the control listener.
    """
    config = load_config_or_exit(config_dir)
    settings = Settings()
    if settings.api.token is None:
        log.warning("STREAMCORE_API__TOKEN is not set: writes and control are open to anyone")
    if settings.api.workers > 1:
        from streamcore.api.server import serve

        log.warning("api.workers > 1: uvicorn's workers do not join the control topic")
        serve(settings, config_dir, app_name)
        return
    from streamcore.api.role import api_role
    from streamcore.replica import run_role

    run_role("api", config, app_name, api_role(Path(config_dir).resolve()))
