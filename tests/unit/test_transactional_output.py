"""TransactionalOutput replaces a producer the broker broke, with a fake librdkafka producer."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from streamcore.kafka import transactions
from streamcore.kafka.transactions import OutputRecord, TransactionalOutput, TransactionFailed


class FakeProducer:
    """Records calls; fails the next ``commit_transaction`` with ``fail_commit``."""

    made: list[FakeProducer] = []
    fail_commit: KafkaError | None = None
    fail_init: KafkaError | None = None
    fail_abort: KafkaError | None = None
    hang_offsets: threading.Event | None = None

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.calls: list[str] = []
        FakeProducer.made.append(self)

    def init_transactions(self, _timeout: float) -> None:
        self.calls.append("init")
        error, FakeProducer.fail_init = FakeProducer.fail_init, None
        if error is not None:
            raise KafkaException(error)

    def begin_transaction(self) -> None:
        self.calls.append("begin")

    def produce(self, topic: str, **_: Any) -> None:
        self.calls.append(f"produce {topic}")

    def send_offsets_to_transaction(self, *_: Any) -> None:
        hang, FakeProducer.hang_offsets = FakeProducer.hang_offsets, None
        if hang is not None:  # blocks past its timeout, as librdkafka#5456 does
            hang.wait(30)
        self.calls.append("offsets")

    def commit_transaction(self, _timeout: float) -> None:
        error, FakeProducer.fail_commit = FakeProducer.fail_commit, None
        if error is not None:
            raise KafkaException(error)
        self.calls.append("commit")

    def abort_transaction(self, _timeout: float) -> None:
        self.calls.append("abort")
        error, FakeProducer.fail_abort = FakeProducer.fail_abort, None
        if error is not None:
            raise KafkaException(error)

    def purge(self) -> None:
        self.calls.append("purge")

    def flush(self, _timeout: float) -> int:
        raise KafkaException(KafkaError(KafkaError._FENCED, "fenced", fatal=True))


@pytest.fixture
def output(monkeypatch: pytest.MonkeyPatch) -> TransactionalOutput:
    FakeProducer.made = []
    monkeypatch.setattr(transactions, "Producer", FakeProducer)
    return TransactionalOutput({"bootstrap.servers": "x"}, "app.ingest.w1")


RECORD = OutputRecord("input", b"k", b"v")


def test_a_fatal_error_fails_the_batch_retriably_and_the_next_uses_a_new_producer(
    output: TransactionalOutput,
) -> None:
    FakeProducer.fail_commit = KafkaError(
        KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER, "requires epoch bump", fatal=True
    )
    with pytest.raises(TransactionFailed) as failed:
        output.commit([RECORD], {("input", 0): 5}, None)
    assert not failed.value.fatal
    first = FakeProducer.made[0]
    assert first.calls[-1] == "purge" and "abort" not in first.calls
    assert output.replaced == 1

    assert output.commit([RECORD], {("input", 0): 5}, None) == 1
    second = FakeProducer.made[1]
    assert second.config["transactional.id"] == "app.ingest.w1"
    assert second.calls == ["init", "begin", "produce input", "offsets", "commit"]


def test_an_abortable_error_aborts_and_keeps_the_producer(output: TransactionalOutput) -> None:
    FakeProducer.fail_commit = KafkaError(KafkaError._TIMED_OUT, "timed out")
    with pytest.raises(TransactionFailed):
        output.commit([RECORD], {}, None)
    assert output.replaced == 0 and len(FakeProducer.made) == 1
    assert FakeProducer.made[0].calls[-1] == "abort"


def test_a_failed_abort_gives_the_producer_up(output: TransactionalOutput) -> None:
    FakeProducer.fail_commit = KafkaError(KafkaError._TIMED_OUT, "timed out")
    FakeProducer.fail_abort = KafkaError(KafkaError._TIMED_OUT, "abort timed out")
    with pytest.raises(TransactionFailed) as failed:
        output.commit([RECORD], {}, None)
    assert not failed.value.fatal and output.replaced == 1
    assert output.commit([RECORD], {}, None) == 1
    assert len(FakeProducer.made) == 2


def test_a_broker_that_cannot_start_a_new_producer_fails_retriably(
    output: TransactionalOutput,
) -> None:
    FakeProducer.fail_commit = KafkaError(KafkaError._FENCED, "fenced", fatal=True)
    with pytest.raises(TransactionFailed):
        output.commit([RECORD], {}, None)
    FakeProducer.fail_init = KafkaError(KafkaError._TRANSPORT, "broker down")
    with pytest.raises(TransactionFailed) as failed:
        output.commit([RECORD], {}, None)
    assert not failed.value.fatal
    assert output.commit([RECORD], {}, None) == 1  # the broker is back
    assert len(FakeProducer.made) == 3


def test_a_send_offsets_call_blocked_past_its_timeout_gives_the_producer_up(
    output: TransactionalOutput, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transactions, "OFFSETS_SECONDS", 0.1)
    monkeypatch.setattr(transactions, "HUNG_GRACE_SECONDS", 0.1)
    release = threading.Event()
    FakeProducer.hang_offsets = release
    try:
        with pytest.raises(TransactionFailed, match="still blocked") as failed:
            output.commit([RECORD], {("input", 0): 5}, None)
        assert not failed.value.fatal and output.replaced == 1
        assert "commit" not in FakeProducer.made[0].calls
        assert output.commit([RECORD], {("input", 0): 5}, None) == 1  # a new producer
        assert FakeProducer.made[1].calls[-2:] == ["offsets", "commit"]
    finally:
        release.set()


def test_close_of_a_broken_producer_does_not_raise(output: TransactionalOutput) -> None:
    output.close()  # FakeProducer.flush raises _FENCED
