"""Running the API: services from settings and config, then uvicorn.

``build_services`` is the API's composition root (the only place its Kafka producer,
Cassandra session and readiness thread are made). ``serve`` is the process wiring
(uvicorn owns signals: SIGTERM stops accepting, finishes requests in flight, then the
lifespan closes the services); kept in one function so the shared replica lifecycle can
take it over.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from streamcore.api.app import create_app
from streamcore.api.archive import RawArchive
from streamcore.api.publisher import Publisher
from streamcore.api.services import (
    ApiServices,
    ControlGateway,
    Readiness,
    kafka_control_sender,
    missing_setup,
)
from streamcore.config import AppConfig, load_config
from streamcore.kafka.clients import KafkaProducer
from streamcore.kafka.registry import topic_framing
from streamcore.model.datapoint import DataPoint
from streamcore.settings import Settings

log = logging.getLogger(__name__)

CONFIG_DIR_ENV = "STREAMCORE_API_CONFIG_DIR"
APP_NAME_ENV = "STREAMCORE_APP_NAME"


RAW_RETENTION_DEFAULT_SECONDS = 30 * 86400


def raw_retention_seconds(config: AppConfig) -> int:
    """Raw data-points' TTL: ``datapoint_archivation.older_than``, else 30 days."""
    archivation = config.history_manager.datapoint_archivation
    if archivation is None:
        return RAW_RETENTION_DEFAULT_SECONDS
    return max(1, int(archivation.older_than.total_seconds()))


def api_producer(settings: Settings) -> KafkaProducer:
    """The API's producer: the data-point producer's defaults (acks=all, idempotence),
    a short linger (a request waits for its acks) and the produce timeout as the message
    timeout (an unacknowledged request fails, as a 503, when it runs out)."""
    from streamcore.kafka.clients import make_producer

    timeout_ms = int(settings.api.produce_timeout_seconds * 1000)
    return make_producer(
        settings.kafka,
        lambda _report: None,
        **{"linger.ms": 5, "message.timeout.ms": timeout_ms},
    )


def build_services(
    settings: Settings, config: AppConfig, config_dir: Path, app_name: str
) -> ApiServices:
    from functools import partial

    from streamcore.kafka.clients import make_admin
    from streamcore.kafka.health import broker_answers
    from streamcore.kafka.lag import group_lag
    from streamcore.limits import TaskValidator
    from streamcore.state.reads import EntityReads
    from streamcore.state.session import open_session

    settings = settings.for_app(app_name)  # the keyspace derived from the app name
    api = settings.api
    session = open_session(settings.cassandra, request_timeout=api.request_timeout_seconds)
    input_topic = settings.topics.name("input", app_name)
    publisher = Publisher(
        api_producer(settings),
        input_topic,
        config.model_spec,
        TaskValidator(config.model_spec, settings.limits.limits()),
        api.produce_timeout_seconds,
        framing=topic_framing(settings, input_topic),
    )
    client = settings.kafka.client_config()

    def kafka_check() -> None:
        if not broker_answers(client, timeout=2.0):
            raise ConnectionError("no broker answered")

    def cassandra_check() -> None:
        from streamcore.state.faults import classified

        try:
            session.execute("SELECT release_version FROM system.local", timeout=2.0)
        except Exception as exc:
            raise classified(exc, "pinging Cassandra") from exc

    raw_ttl = raw_retention_seconds(config)

    def archive_write(points: Sequence[DataPoint], ttl: int) -> None:
        services.reads.archive(points, ttl)

    archive = RawArchive(archive_write, raw_ttl)
    readiness = Readiness({})
    services = ApiServices(
        settings=settings,
        config=config,
        config_dir=config_dir,
        app_name=app_name,
        publisher=publisher,
        control=ControlGateway(settings, app_name, kafka_control_sender(settings, app_name)),
        readiness=readiness,
        archive=archive,
        raw_retention_seconds=raw_ttl,
        lag=partial(group_lag, client),
    )
    admin = make_admin(settings.kafka)
    readiness.add("kafka", kafka_check)
    readiness.add("cassandra", cassandra_check)
    readiness.add(
        "setup",
        services.setup_check(
            lambda: missing_setup(admin, session, settings, app_name),
            lambda: EntityReads(
                session, settings.cassandra.keyspace, config.model_spec, api.request_timeout_seconds
            ),
        ),
    )
    services.closers.extend(
        [session.cluster.shutdown, publisher.close, readiness.close, archive.close]
    )
    return services


def process_endpoints(services: ApiServices, registry: CollectorRegistry) -> Callable[[], None]:
    """The process wiring every streamcore role has: ``/metrics``, ``/healthz``, ``/readyz``
    on ``STREAMCORE_METRICS__PORT`` (what the Helm chart probes and scrapes). Alive while
    the readiness thread runs; ready while Kafka and Cassandra answer. Returns its stop.
    (The API also answers the three paths on its own port.) Kept in one function so the
    shared replica lifecycle can take it over."""
    from streamcore.metrics import Health, serve_metrics

    settings = services.settings
    health = Health(settings.metrics.liveness_seconds)
    health.checks.append(lambda: "; ".join(services.readiness.problems()) or None)
    services.readiness.on_check.append(health.beat)
    if settings.api.workers > 1:
        log.warning("api.workers > 1: the metrics port is not served (one per process)")
        return lambda: None
    server = serve_metrics(settings.metrics, registry, health)
    return server.close if server is not None else (lambda: None)


def build_app(settings: Settings, config_dir: str, app_name: str) -> FastAPI:
    """The app whose lifespan opens the services at start and closes them at stop."""
    from prometheus_client import REGISTRY

    config = load_config(config_dir)
    services = build_services(settings, config, Path(config_dir), app_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.start()
        stop_endpoints = process_endpoints(services, REGISTRY)
        try:
            yield
        finally:
            stop_endpoints()
            services.close()

    app = create_app(services, REGISTRY)
    app.router.lifespan_context = lifespan
    return app


def json_access_log() -> None:
    """One JSON object per line on stderr for each request (``streamcore.api.access``),
    apart from the human-readable process log."""
    import logging
    import sys

    access = logging.getLogger("streamcore.api.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False


def app_from_env() -> FastAPI:
    """uvicorn's factory (``--workers`` imports the app in each worker process)."""
    json_access_log()
    return build_app(
        Settings(), os.environ[CONFIG_DIR_ENV], os.environ.get(APP_NAME_ENV, "streamcore")
    )


def serve(settings: Settings, config_dir: str, app_name: str) -> None:
    """Run uvicorn with the ``api`` settings until SIGTERM/SIGINT."""
    import uvicorn

    os.environ[CONFIG_DIR_ENV] = str(Path(config_dir).resolve())
    os.environ[APP_NAME_ENV] = app_name
    api = settings.api
    options: dict[str, Any] = {
        "host": api.host,
        "port": api.port,
        "workers": api.workers,
        "root_path": api.root_path,
        "factory": True,
        "log_config": None,
        "access_log": False,
    }
    if api.ssl_certfile:
        options.update(ssl_certfile=api.ssl_certfile, ssl_keyfile=api.ssl_keyfile)
    uvicorn.run("streamcore.api.server:app_from_env", **options)
