"""The output side of a worker: derived tasks, dead letters and input offsets, atomically.

One Kafka transaction per batch holds every record the batch produces and the consumer
offsets that mark the batch done. Either all of it becomes visible to ``read_committed``
readers or none does, so a crash between "state durable" and "commit" replays the batch
without duplicating what it produced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException, Producer, TopicPartition

from streamcore.kafka.clients import PRODUCER_DEFAULTS
from streamcore.kafka.consumer import Headers, Partition
from streamcore.kafka.options import layered

log = logging.getLogger(__name__)


# Bounds of the blocking transaction calls: short enough that a broker that went away is
# noticed (and the batch retried) within the retry policy's rhythm, long enough for a
# loaded broker to answer.
OFFSETS_SECONDS = 15
COMMIT_SECONDS = 30
ABORT_SECONDS = 10
HUNG_GRACE_SECONDS = 5
"""librdkafka's send_offsets_to_transaction can block past its timeout while the group
coordinator is away (confluentinc/librdkafka#5456, open): the call runs on a helper
thread, and a producer whose call is still blocked this much after its own timeout is
given up (the call ends or not; a new producer takes over either way)."""


class _Hung(Exception):
    """A transactional call did not return within its timeout plus the grace."""


@dataclass(slots=True)
class OutputRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers | None = None


class TransactionFailed(Exception):
    """The transaction was aborted; nothing it held is visible.

    ``fatal``: the output cannot go on (``TransactionalOutput`` itself replaces a
    producer the broker broke, so it raises retriable failures only).
    """

    def __init__(self, message: str, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


class TransactionalOutput:
    """One transactional producer, replaced when the broker declares it fatally broken.

    A broker restart can leave the producer in a state librdkafka can't recover from
    (``OUT_OF_ORDER_SEQUENCE_NUMBER`` that needs an epoch bump, ``_FENCED``): every later
    call fails. The batch was aborted either way, so the output drops that producer and
    makes a new one with the same ``transactional.id`` before the next transaction;
    ``init_transactions`` bumps the epoch, which also fences anything the old one left.
    """

    def __init__(
        self, client_config: dict[str, Any], transactional_id: str, timeout_ms: int = 15_000
    ) -> None:
        self.config = layered(
            {
                # Same partitioner as the SDK, so a derived task lands with its entity
                # (a user's partitioner applies to both alike).
                "partitioner": PRODUCER_DEFAULTS["partitioner"],
                "linger.ms": 5,
                "compression.type": "lz4",
                "transaction.timeout.ms": timeout_ms,
            },
            client_config,
            {"transactional.id": transactional_id, "enable.idempotence": True},
        )
        self._producer: Producer | None = None
        self.replaced = 0
        """How many producers were given up as fatally broken (and replaced)."""
        self._start()

    def _start(self) -> Producer:
        producer = Producer(self.config)
        producer.init_transactions(30)
        self._producer = producer
        return producer

    def _ready(self) -> Producer:
        """The producer, a new one when the last was given up; a broker that can't
        start one now fails this transaction as retriable."""
        if self._producer is not None:
            return self._producer
        try:
            return self._start()
        except KafkaException as exc:
            raise TransactionFailed(f"starting a new producer: {exc.args[0]}", False) from exc

    def _give_up(self, error: Any, purge: bool = True) -> None:
        log.warning("transactional producer fatally failed (%s): making a new one", error)
        producer, self._producer = self._producer, None
        self.replaced += 1
        if producer is not None and purge:
            try:
                producer.purge()
            except KafkaException as exc:  # broken already; nothing of it is kept
                log.debug("purging the broken producer: %s", exc)

    def commit(
        self,
        records: Iterable[OutputRecord],
        offsets: dict[Partition, int],
        group_metadata: Any,
    ) -> int:
        """Produce ``records`` and commit ``offsets`` (next offset to read) as one unit."""
        producer = self._ready()
        count = 0
        try:
            producer.begin_transaction()
            for record in records:
                self._produce(producer, record)
                count += 1
            if offsets:
                positions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
                _bounded(
                    lambda: producer.send_offsets_to_transaction(
                        positions, group_metadata, OFFSETS_SECONDS
                    ),
                    OFFSETS_SECONDS + HUNG_GRACE_SECONDS,
                )
            producer.commit_transaction(COMMIT_SECONDS)
        except _Hung as exc:
            self._give_up(exc, purge=False)  # purge would wait on the blocked call
            raise TransactionFailed(str(exc), fatal=False) from exc
        except KafkaException as exc:
            error = exc.args[0]
            fatal = bool(error.fatal())
            if not fatal:
                try:
                    producer.abort_transaction(ABORT_SECONDS)
                except KafkaException as abort_exc:  # its state is unknown: start afresh
                    log.info("aborting the transaction failed: %s", abort_exc.args[0])
                    fatal = True
            if fatal:
                self._give_up(error)
            # Retriable either way: aborted, or the next commit starts on a new producer.
            raise TransactionFailed(str(error), fatal=False) from exc
        return count

    def _produce(self, producer: Producer, record: OutputRecord) -> None:
        while True:
            try:
                producer.produce(
                    record.topic, key=record.key, value=record.value, headers=record.headers
                )
                return
            except BufferError:
                producer.poll(0.05)

    def close(self) -> None:
        """Flush what is pending; a broken producer has nothing worth raising about here."""
        if self._producer is None:
            return
        try:
            self._producer.flush(10)
        except KafkaException as exc:
            log.warning("closing the transactional producer: %s", exc)


def _bounded(call: Callable[[], object], seconds: float) -> None:
    """``call()`` on a helper thread; its exception re-raised here; ``_Hung`` when it has
    not returned within ``seconds`` (the thread is left to finish or block on its own)."""
    failure: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="txn-offsets", daemon=True).start()
    if not done.wait(seconds):
        raise _Hung(f"send_offsets_to_transaction still blocked after {seconds:g} s")
    if failure:
        raise failure[0]
