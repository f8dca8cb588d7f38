"""``streamcore api`` as a role of the replica lifecycle (``streamcore.replica``).

The lifecycle gives the API what every role has: the control listener (``control ping``
answered by role ``api``, module config refreshes), the process metrics and /healthz,
/readyz on ``STREAMCORE_METRICS__PORT``, and SIGTERM handling. Here uvicorn is the role's
loop: ``stop()`` (from the lifecycle's signal handler) asks it to exit, and uvicorn then
stops accepting, finishes the requests in flight (each answered only after Kafka's ack),
runs the app's lifespan shutdown (producer flushed, raw archive drained) and returns.

The control listener needs the application's topics and keyspace, so it is built once
``streamcore setup`` ran (``Role.set_up``); until then the API answers 503 and is not
ready, and it becomes ready without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from streamcore.api.app import create_app
from streamcore.api.server import build_services, json_access_log
from streamcore.replica import Role, RoleBuilder, RoleContext
from streamcore.settings import ApiSettings

log = logging.getLogger(__name__)

DRAIN_SECONDS_OVER_PRODUCE_TIMEOUT = 5.0
"""A request in flight at SIGTERM waits at most its produce timeout for Kafka's ack; the
drain gives it that much and this more before uvicorn cancels what is left."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the lifecycle's call ``ApiServer.stop``."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server_options(api: ApiSettings) -> dict[str, Any]:
    """uvicorn's options from the ``api`` settings (the bench serves its bare app with them)."""
    options: dict[str, Any] = {
        "host": api.host,
        "port": api.port,
        "root_path": api.root_path,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": api.produce_timeout_seconds
        + DRAIN_SECONDS_OVER_PRODUCE_TIMEOUT,
    }
    if api.ssl_certfile:
        options.update(ssl_certfile=api.ssl_certfile, ssl_keyfile=api.ssl_keyfile)
    return options


class ApiServer:
    """uvicorn serving ``app`` on the calling thread until ``stop()``."""

    def __init__(self, app: FastAPI, api: ApiSettings) -> None:
        self._server = _Server(uvicorn.Config(app, **server_options(api)))

    def run(self) -> None:
        self._server.run()
        if not self._server.started:
            raise RuntimeError("the API server did not start (see the log above)")

    def stop(self) -> None:
        self._server.should_exit = True


def api_role(config_dir: Path) -> RoleBuilder:
    """The builder of ``streamcore api``: services (reads, publisher, readiness thread)
    opened by the app's lifespan; alive while the readiness thread beats; ready while
    Kafka and Cassandra answer, the application is set up and control caught up."""

    def build(context: RoleContext) -> Role:
        json_access_log()
        runtime = context.runtime
        services = build_services(context.settings, runtime.config, config_dir, runtime.app_name)
        health = context.health
        health.checks.append(lambda: "; ".join(services.readiness.problems()) or None)
        services.readiness.on_check.append(health.beat)

        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            services.start()
            try:
                yield
            finally:
                services.close()

        app = create_app(services, context.metrics.registry)
        app.router.lifespan_context = lifespan
        return Role(
            ApiServer(app, context.settings.api), polls_control=False, set_up=services.is_set_up
        )

    return build
