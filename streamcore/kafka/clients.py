"""Construction of Kafka clients from ``Settings``, and a thin producer with typed reports.

Other packages get a ``KafkaProducer`` (produce/poll/flush with plain-Python delivery
reports) instead of a ``confluent_kafka.Producer``, so they never import the driver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

from streamcore.kafka.consumer import Headers
from streamcore.kafka.options import layered
from streamcore.settings import KafkaSettings

logger = logging.getLogger(__name__)

# Defaults for the data-point producer. Idempotence keeps per-partition order and removes
# duplicates on retry; murmur2 partitions keys exactly as the Java client does, so tools in
# other languages agree on which partition holds an entity.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "partitioner": "murmur2_random",
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 1_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
}


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The outcome of one produced message; ``error`` is None on success."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    error: str | None


DeliveryCallback = Callable[[DeliveryReport], None]


class KafkaProducer:
    """A ``confluent_kafka.Producer`` whose delivery reports are ``DeliveryReport`` objects.

    Reports are delivered from ``poll()``/``flush()`` on the calling thread.
    """

    def __init__(self, config: dict[str, Any], on_delivery: DeliveryCallback) -> None:
        self._producer = Producer(config)
        self.config = config
        """The options the client was made with (after ``options.layered``)."""
        self._on_delivery = on_delivery

    def _report(self, err: Any, msg: Any) -> None:
        self._on_delivery(_delivery_report(err, msg))

    def produce(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: Headers | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Queue one message; when the local queue is full, serve reports until it is not.

        ``on_delivery``: this message's report goes there instead of the producer's callback
        (the API waits for the acknowledgement of its own messages)."""
        report = self._report if on_delivery is None else self._reporter(on_delivery)
        while True:
            try:
                self._producer.produce(topic, value, key, on_delivery=report, headers=headers)
                return
            except BufferError:
                self._producer.poll(0.05)

    def produce_all(
        self,
        topic: str,
        messages: Sequence[tuple[bytes, bytes]],
        on_result: Callable[[str | None], None],
    ) -> None:
        """Queue ``(key, value)`` messages; each one's outcome (None, or the error's text)
        goes to ``on_result``: no ``DeliveryReport`` built per message (the API's hot path,
        where only the count of acks and the first error matter)."""

        def report(err: Any, _msg: Any) -> None:
            on_result(None if err is None else str(err))

        produce = self._producer.produce
        for key, value in messages:
            while True:
                try:
                    produce(topic, value, key, on_delivery=report)
                    break
                except BufferError:
                    self._producer.poll(0.05)

    @staticmethod
    def _reporter(callback: DeliveryCallback) -> Callable[[Any, Any], None]:
        return lambda err, msg: callback(_delivery_report(err, msg))

    def poll(self, timeout: float = 0.0) -> int:
        return int(self._producer.poll(timeout))

    def flush(self, timeout: float | None = None) -> int:
        """Wait for outstanding messages; returns how many are still undelivered."""
        return int(self._producer.flush(-1 if timeout is None else timeout))


def _delivery_report(err: Any, msg: Any) -> DeliveryReport:
    return DeliveryReport(
        topic=msg.topic(),
        partition=msg.partition(),
        offset=msg.offset(),
        key=msg.key(),
        error=None if err is None else str(err),
    )


def make_producer(
    settings: KafkaSettings, on_delivery: DeliveryCallback, **defaults: Any
) -> KafkaProducer:
    """A producer with ``PRODUCER_DEFAULTS`` and this use's ``defaults`` (e.g. the control
    producer's ``linger.ms=0``), under the connection settings and the user's
    ``client_options``, which win (``options.layered``)."""
    config = layered({**PRODUCER_DEFAULTS, **defaults}, settings.client_config())
    return KafkaProducer(config, on_delivery)


def make_admin(settings: KafkaSettings) -> AdminClient:
    return AdminClient(settings.client_config())


__all__ = [
    "PRODUCER_DEFAULTS",
    "DeliveryCallback",
    "DeliveryReport",
    "KafkaException",
    "KafkaProducer",
    "make_admin",
    "make_producer",
]
