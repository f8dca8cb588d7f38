"""The steps of ``streamcore setup`` (also run by the demo): each creates, idempotently, what
it owns and returns report lines. Below the CLI, so the demo needs no CLI code."""

from __future__ import annotations

from collections.abc import Callable

from streamcore.config import AppConfig
from streamcore.settings import Settings

SetupStep = Callable[[Settings, str, AppConfig], list[str]]
"""One part of ``streamcore setup``: creates what it owns (idempotently), returns report lines."""


def _topics_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    from streamcore.kafka.clients import make_admin
    from streamcore.kafka.topics import ensure_topics

    report = ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    return [f"topic {name}: created" for name in report.created] + [
        f"topic {name}: exists" for name in report.existing
    ]


def _schemas_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    """With the Confluent wire format: the task and snapshot schemas into the registry."""
    from streamcore.kafka.registry import register_schemas

    return register_schemas(settings, app_name)


def _cassandra_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    from streamcore.state.setup import cassandra_setup_step

    return cassandra_setup_step(settings, app_name, config)


def _model_step(settings: Settings, app_name: str, config: AppConfig) -> list[str]:
    """Last: store the model the application now runs with (``streamcore.model.changes``)."""
    from streamcore.model.changes import model_document
    from streamcore.state.model_store import store_model
    from streamcore.state.session import open_session

    cassandra = settings.for_app(app_name).cassandra
    session = open_session(cassandra)
    try:
        store_model(session, cassandra.keyspace, model_document(config.model_spec))
    finally:
        session.cluster.shutdown()
    return [f"model stored in {cassandra.keyspace}.app_model"]


SETUP_STEPS: list[SetupStep] = [_topics_step, _schemas_step, _cassandra_step, _model_step]
"""Run in order by ``setup``: Kafka topics, registry schemas (Confluent wire format only),
the Cassandra keyspace and tables, the model."""
