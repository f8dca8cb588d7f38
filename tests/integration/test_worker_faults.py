"""The worker's error policy on the real servers: poison tasks, hook loops, unreadable
stored rows and a stalled worker that wakes up after losing its partition."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from confluent_kafka import Producer
from prometheus_client import CollectorRegistry
from support import application, read_topic, running, wait_for

from streamcore.codec.tasks import DeadLetterCodec, TaskEncoder
from streamcore.ingest.hook_runner import NoHooks
from streamcore.metrics import Metrics
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker
from streamcore.settings import Settings


def send(runtime: Runtime, tasks: list[DataPointTask]) -> None:
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for task in tasks:
            p.send(task)


def hostname(runtime: Runtime, ip: str) -> Any:
    (record,) = runtime.store().load([("ip", runtime.config.model_spec.parse_eid("ip", ip))])
    return record.plain("hostname")


def letters(runtime: Runtime, expect: int) -> list[Any]:
    codec = DeadLetterCodec()
    found = read_topic(runtime.settings, runtime.topic("dead_letter"), expect)
    return [codec.decode(m.value()) for m in found]


def task(ip: str, name: str) -> DataPointTask:
    return DataPointTask("ip", ip, [DataPoint("ip", ip, "hostname", name)])


class Exploding(NoHooks):
    """Raises out of the processor (as a merge bug or a hook timeout would) on one name."""

    def run_new_attr(self, etype: str, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        if dp.v == "explode":
            raise OverflowError("date value out of range")
        return []


def test_poison_tasks_are_dead_lettered_and_their_neighbours_applied(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, partitions=1) as runtime:
        send(
            runtime,
            [
                task("192.0.2.1", "first"),
                task("192.0.2.1", "explode"),  # the entity's other tasks still apply
                task("192.0.2.1", "last"),
                task("192.0.2.2", "neighbour"),
            ],
        )
        encoded = TaskEncoder(runtime.config.model_spec).encode(task("192.0.2.3", "misrouted"))
        producer = Producer(runtime.settings.kafka.client_config())
        producer.produce(runtime.topic("input"), key=b"ip:192.0.2.99", value=encoded)
        producer.produce(runtime.topic("input"), key=None, value=encoded)
        # Over the message limit, just under the broker's 1 MiB: its letter must still fit.
        producer.produce(runtime.topic("input"), key=b"ip:x", value=b"\x00" * 990_000)
        producer.produce(runtime.topic("input"), key=b"ip:192.0.2.4", value=encoded[:-3])
        send(runtime, [task("192.0.2.5", "after")])
        assert producer.flush(30) == 0
        with running(build_ingest_worker(runtime, hooks=Exploding())):
            wait_for(lambda: hostname(runtime, "192.0.2.5") == "after")
        assert hostname(runtime, "192.0.2.1") == "last"
        assert hostname(runtime, "192.0.2.2") == "neighbour"
        assert hostname(runtime, "192.0.2.3") is None
        found = letters(runtime, 5)
    reasons = sorted(letter.reason for letter in found)
    assert reasons == sorted(
        ["unusable", "invalid_data_point", "invalid_data_point", "limit_exceeded", "undecodable"]
    ), [(letter.reason, letter.message) for letter in found]
    by_reason = {letter.reason: letter for letter in found}
    assert "OverflowError" in by_reason["unusable"].message
    misrouted = [letter for letter in found if "misrouted" in letter.message]
    assert len(misrouted) == 2
    big = next(letter for letter in found if letter.key == b"ip:x")
    assert big.value is not None and len(big.value) == 256 * 1024
    assert "original 990000 bytes" in big.message


class Looping(NoHooks):
    """A hook whose derived task triggers itself: every hostname derives the next one."""

    def run_new_attr(self, etype: str, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        new = task(str(eid), f"{dp.v}+")
        new.derived_by = "looper"
        return [new]


def test_a_self_triggering_hook_is_cut_at_the_hop_limit(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, partitions=1) as runtime:
        send(runtime, [task("192.0.2.7", "x")])
        worker = build_ingest_worker(runtime, hooks=Looping())
        worker.limits = replace(worker.limits, max_hops=3)
        with running(worker):
            (letter,) = letters(runtime, 1)
        assert hostname(runtime, "192.0.2.7") == "x+++"
        derived = read_topic(runtime.settings, runtime.topic("input"), 4)
    assert len(derived) == 4  # the source's task and three derived ones, no more
    assert letter.reason == "hop_limit"
    assert "4 derivations exceed max_hops 3" in letter.message
    assert "chain: looper > looper > looper > looper" in letter.message


def test_unreadable_stored_rows_are_quarantined(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, partitions=1) as runtime:
        send(runtime, [task("192.0.2.8", "before")])
        with running(build_ingest_worker(runtime)):
            wait_for(lambda: hostname(runtime, "192.0.2.8") == "before")
        # A row whose stored text no longer parses (written by an older version, say).
        runtime.session.execute(
            f"INSERT INTO {keyspace}.entity_state (etype, eid, attr, key, v) "
            "VALUES ('ip', '192.0.2.8', 'open_ports', 0x01, 'null')"
        )
        send(runtime, [task("192.0.2.8", "after")])
        with running(build_ingest_worker(runtime)):
            wait_for(lambda: hostname(runtime, "192.0.2.8") == "after")
            (letter,) = letters(runtime, 1)
        rows = runtime.session.execute(
            f"SELECT key FROM {keyspace}.entity_state WHERE etype = 'ip' AND eid = '192.0.2.8' "
            "AND attr = 'open_ports'"
        ).all()
    assert letter.reason == "unreadable_state"
    assert b'"v":"null"' in (letter.value or b"") and b"open_ports" in (letter.value or b"")
    assert rows == []  # removed by the write, so the next load is clean


class Stalling(NoHooks):
    """Blocks (as a worker paused by the OS or a slow hook would) on the name "stall"."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def run_new_attr(self, etype: str, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        if dp.v == "stall":
            self.entered.set()
            self.release.wait(90)
        return []


def _counter(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_stalled_worker_that_lost_its_partition_cannot_overwrite_newer_state(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    # The stalled worker is dropped from the group after 7 s without a poll.
    kafka = settings.kafka.model_copy(update={"client_options": {"max.poll.interval.ms": "7000"}})
    worker_settings = settings.worker.model_copy(update={"session_timeout_ms": 6000})
    settings = settings.model_copy(update={"kafka": kafka, "worker": worker_settings})
    ip = "192.0.2.9"
    with application(settings, app_name, keyspace, partitions=1) as runtime:
        send(runtime, [task(ip, "stall")])
        stalling = Stalling()
        stale_metrics = Metrics(CollectorRegistry())
        stale = build_ingest_worker(
            runtime, hooks=stalling, instance="stale", metrics=stale_metrics
        )
        errors: list[BaseException] = []

        def run_stale() -> None:
            try:
                stale.run()
            except BaseException as exc:  # a fatal transaction error is acceptable here
                errors.append(exc)

        thread = threading.Thread(target=run_stale, daemon=True)
        thread.start()
        try:
            assert stalling.entered.wait(60), "the stale worker never reached its hook"
            with running(build_ingest_worker(runtime, instance="successor")):
                # The successor takes the partition over, replays "stall" and applies "new".
                send(runtime, [task(ip, "new")])
                wait_for(lambda: hostname(runtime, ip) == "new", timeout=90)
                written = _counter(
                    stale_metrics,
                    "streamcore_cassandra_operation_duration_seconds_count",
                    operation="write",
                )
                stalling.release.set()  # the stale worker wakes and writes "stall"
                wait_for(
                    lambda: (
                        _counter(
                            stale_metrics,
                            "streamcore_cassandra_operation_duration_seconds_count",
                            operation="write",
                        )
                        > written
                    ),
                    timeout=60,
                )
                assert hostname(runtime, ip) == "new"  # its older write lost
        finally:
            stalling.release.set()
            stale.stop()
            thread.join(60)
        assert hostname(runtime, ip) == "new"
        assert not thread.is_alive()
    assert all("fenc" in str(e).lower() or "generation" in str(e).lower() for e in errors), errors


def test_each_new_fence_starts_above_every_stamp_the_previous_owner_can_write(
    cassandra_session: Any, keyspace: str
) -> None:
    from streamcore.state.cassandra import create_schema
    from streamcore.state.fence import PartitionFences

    create_schema(cassandra_session, keyspace)
    clock = iter([1000.0, 1000.0, 1000.0]).__next__  # a clock that stands still
    first = PartitionFences(cassandra_session, keyspace, "a", clock).acquire("in", 0, 100, 100)
    # The first owner may write state for every offset below the end it could have read.
    last_stamp = first.stamp(5_099)
    second = PartitionFences(cassandra_session, keyspace, "b", clock).acquire("in", 0, 4_000, 5_100)
    assert second.stamp(4_000) > last_stamp
    third = PartitionFences(cassandra_session, keyspace, "c", clock).acquire("in", 1, 0, 0)
    assert third.base == 1000 * 1_000_000  # another partition: its own fence


def test_committed_offsets_reach_the_partition_end_past_aborted_transactions(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    from confluent_kafka import Consumer, TopicPartition

    with application(settings, app_name, keyspace, partitions=1) as runtime:
        send(runtime, [task("192.0.2.20", "kept")])
        encoded = TaskEncoder(runtime.config.model_spec).encode(task("192.0.2.21", "aborted"))
        aborting = Producer(
            {**runtime.settings.kafka.client_config(), "transactional.id": f"{app_name}.abort"}
        )
        aborting.init_transactions(30)
        aborting.begin_transaction()
        for _ in range(3):
            aborting.produce(runtime.topic("input"), key=b"ip:192.0.2.21", value=encoded)
        aborting.flush(30)
        aborting.abort_transaction(30)
        partition = TopicPartition(runtime.topic("input"), 0)
        probe = Consumer(
            {**runtime.settings.kafka.client_config(), "group.id": runtime.consumer_group()}
        )
        try:
            # The kept task, three aborted records and the abort marker.
            end = wait_for(lambda: probe.get_watermark_offsets(partition, timeout=10)[1] == 5) and 5
            with running(build_ingest_worker(runtime)):
                wait_for(lambda: hostname(runtime, "192.0.2.20") == "kept")
                wait_for(
                    lambda: probe.committed([partition], timeout=10)[0].offset == end, timeout=40
                )
        finally:
            probe.close()
        assert hostname(runtime, "192.0.2.21") is None
