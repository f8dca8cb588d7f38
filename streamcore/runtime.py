"""The composition root: the one place that builds I/O objects from settings and config.

Everything else receives what it needs (sessions, clients, stores) ready-made, which is
what keeps the processor, the merge rules and the hook engine testable without servers.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamcore.codec.tasks import DeadLetterCodec, TaskDecoder, TaskEncoder
from streamcore.config import AppConfig
from streamcore.ingest.processor import IngestionHookRunner, NoHooks, TaskProcessor
from streamcore.ingest.worker import BatchObserver, IngestWorker, WorkerTopics
from streamcore.kafka.consumer import BatchConsumer, Partition
from streamcore.kafka.transactions import TransactionalOutput
from streamcore.model.datapoint import DataPointTask
from streamcore.settings import Settings
from streamcore.state.cassandra import CassandraStore
from streamcore.state.session import open_session


class TaskCodec:
    """Decoding with validation, encoding of validated tasks: both halves of the wire."""

    def __init__(self, config: AppConfig) -> None:
        self._decoder = TaskDecoder(config.model_spec)
        self._encoder = TaskEncoder(config.model_spec)
        self.decode = self._decoder.decode

    def encode(self, task: DataPointTask) -> bytes:
        return self._encoder.encode(task)


@dataclass
class Runtime:
    """The open connections of one process, closed together."""

    settings: Settings
    config: AppConfig
    app_name: str
    session: Any

    def close(self) -> None:
        self.session.cluster.shutdown()

    def topic(self, role: str) -> str:
        return self.settings.topics.name(role, self.app_name)

    def consumer_group(self) -> str:
        return self.settings.worker.consumer_group or f"{self.app_name}.ingest"

    def store(self) -> CassandraStore:
        return CassandraStore(
            self.session, self.settings.cassandra.keyspace, self.config.model_spec
        )


def open_runtime(settings: Settings, config: AppConfig, app_name: str) -> Runtime:
    return Runtime(settings, config, app_name, open_session(settings.cassandra))


def build_ingest_worker(
    runtime: Runtime,
    hooks: IngestionHookRunner | None = None,
    observer: BatchObserver | None = None,
    instance: str | None = None,
) -> IngestWorker:
    """A worker of ``runtime``'s application; ``instance`` names it in the group."""
    settings = runtime.settings
    client = settings.kafka.client_config()
    instance = instance or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    input_topic = runtime.topic("input")

    def consumer(on_revoke: Callable[[list[Partition]], None]) -> BatchConsumer:
        return BatchConsumer(
            {**client, "client.id": instance},
            runtime.consumer_group(),
            [input_topic],
            on_revoke=on_revoke,
        )

    return IngestWorker(
        model=runtime.config.model_spec,
        processor=TaskProcessor(runtime.config.model_spec, hooks or NoHooks()),
        codec=TaskCodec(runtime.config),
        dead_letters=DeadLetterCodec(),
        store=runtime.store(),
        consumer_factory=consumer,
        output=TransactionalOutput(
            client,
            f"{runtime.app_name}.ingest.{instance}",
            settings.worker.transaction_timeout_ms,
        ),
        topics=WorkerTopics(input=input_topic, dead_letter=runtime.topic("dead_letter")),
        batch_size=settings.worker.batch_size,
        cache_entities=settings.worker.cache_entities,
        observer=observer,
    )
