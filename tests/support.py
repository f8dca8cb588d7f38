"""Helpers shared by integration tests: an application on the real servers, run briefly."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer

from streamcore.config import AppConfig, load_config
from streamcore.ingest.worker import IngestWorker
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import ensure_topics
from streamcore.runtime import Runtime, open_runtime
from streamcore.settings import Settings, TopicSettings
from streamcore.state.cassandra import create_schema

CONFIGS = Path(__file__).parent / "integration" / "configs"


def app_settings(settings: Settings, keyspace: str, partitions: int = 4) -> Settings:
    return settings.model_copy(
        update={
            "cassandra": settings.cassandra.model_copy(update={"keyspace": keyspace}),
            "topics": TopicSettings(partitions=partitions),
        }
    )


@contextmanager
def application(
    settings: Settings,
    app_name: str,
    keyspace: str,
    config: str | Path = "ingest",
    partitions: int = 4,
) -> Iterator[Runtime]:
    """Topics and tables of a fresh application, and an open runtime for it."""
    settings = app_settings(settings, keyspace, partitions)
    app_config: AppConfig = load_config(CONFIGS / config if isinstance(config, str) else config)
    ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    runtime = open_runtime(settings, app_config, app_name)
    create_schema(runtime.session, keyspace)
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def running(worker: IngestWorker) -> Iterator[IngestWorker]:
    """The worker's loop in a thread, stopped (batch finished, group left) on exit."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as exc:  # surfaced in the test below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(60)
    assert not errors, errors
    assert not thread.is_alive(), "worker did not stop"


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


def read_topic(settings: Settings, topic: str, expect: int, timeout: float = 30.0) -> list[Any]:
    """Committed records of ``topic`` from the start, until ``expect`` of them (or timeout)."""
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": f"reader-{time.monotonic_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(messages) < expect:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                messages.append(message)
        # A short extra wait shows there is nothing beyond what we expected.
        extra_until = time.monotonic() + 2.0
        while time.monotonic() < extra_until:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                messages.append(message)
    finally:
        consumer.close()
    return messages


def delete_topics_with_prefix(client_config: dict[str, str], prefix: str) -> None:
    """Delete every topic whose name starts with ``prefix`` (a test app's topics)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(client_config)
    topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if topics:
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            future.result()


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
"""Under CI a server that can't be had fails the run instead of skipping."""
