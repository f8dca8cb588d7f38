"""Producing to the real broker: round trips, partitioning by entity, rejection, CLI."""

from __future__ import annotations

import copy
import json
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer

from streamcore.cli import main
from streamcore.codec import TaskDecoder
from streamcore.config.samples import EXAMPLE_CONFIG_DIR, T0, dp, every_kind_tasks, example_model
from streamcore.errors import InvalidDataPointError
from streamcore.kafka.clients import DeliveryReport, make_admin
from streamcore.kafka.topics import TOPIC_ROLES, ensure_topics
from streamcore.model import DataPointTask
from streamcore.model.spec import AttrSpecTimeseries
from streamcore.producer import DataPointProducer
from streamcore.settings import Settings

pytestmark = pytest.mark.kafka


def _consume(settings: Settings, topic: str, group: str, count: int) -> list[Any]:
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while len(messages) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                messages.append(msg)
    finally:
        consumer.close()
    return messages


def _recent(tasks: list[DataPointTask]) -> list[DataPointTask]:
    """The sample tasks moved to today: dated 2024, their observations and timeseries are
    past their max_age, and the producer refuses expired data-points."""
    model = example_model()
    shift = timedelta(days=(datetime.now(UTC) - T0).days)
    for task in tasks:
        model.validate_task(task)
        for point in task.data_points:
            if point.t1 is None or point.t2 is None:
                continue
            point.t1, point.t2 = point.t1 + shift, point.t2 + shift
            if isinstance(model.attributes[task.etype, point.attr], AttrSpecTimeseries):
                for name in ("time", "time_first", "time_last"):
                    if name in point.v:
                        point.v[name] = [t + shift for t in point.v[name]]
    return tasks


@pytest.fixture
def topics(settings: Settings, app_name: str) -> str:
    ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    return settings.topics.name("input", app_name)


def test_every_kind_round_trips_producer_kafka_decoder(
    settings: Settings, app_name: str, topics: str, consumer_group: str
) -> None:
    model = example_model()
    tasks = _recent(every_kind_tasks())
    with DataPointProducer(settings, app_name, model) as producer:
        for task in tasks:
            producer.send(task)
    assert producer.delivered == len(tasks) and producer.failed == 0
    expected = {task.routing_key(): copy.deepcopy(task) for task in tasks}  # validated in send
    decoder = TaskDecoder(model)
    messages = _consume(settings, topics, consumer_group, len(tasks))
    decoded = {msg.key().decode(): decoder.decode(msg.value()) for msg in messages}
    assert decoded == expected


def test_an_entity_always_lands_on_one_partition(
    settings: Settings, app_name: str, topics: str
) -> None:
    model = example_model()
    seen: dict[bytes, set[int]] = defaultdict(set)

    def record(report: DeliveryReport) -> None:
        assert report.key is not None
        seen[report.key].add(report.partition)

    for _ in range(2):  # two producer instances must agree
        with DataPointProducer(settings, app_name, model, on_delivery=record) as producer:
            for round_ in range(5):
                for n in range(30):
                    producer.send(DataPointTask("ip", f"10.0.0.{n}", [dp("asn", round_)]))
    assert len(seen) == 30
    assert all(len(partitions) == 1 for partitions in seen.values())
    assert len({p for partitions in seen.values() for p in partitions}) > 1  # keys spread


def test_invalid_task_is_rejected_and_nothing_of_it_is_sent(
    settings: Settings, app_name: str, topics: str, consumer_group: str
) -> None:
    model = example_model()
    with DataPointProducer(settings, app_name, model) as producer:
        bad = DataPointTask("ip", "192.0.2.9", [dp("asn", 1), dp("asn", "many")])
        with pytest.raises(InvalidDataPointError, match="attribute 'asn', value 'many'"):
            producer.send(bad)
        with pytest.raises(InvalidDataPointError, match="unknown entity type 'router'"):
            producer.send_datapoints([_dp_for("router", "r1")])
        producer.send(DataPointTask("ip", "192.0.2.10", [dp("note", "marker")]))
    messages = _consume(settings, topics, consumer_group, 1)
    assert [m.key() for m in messages] == [b"ip:192.0.2.10"]
    assert producer.delivered == 1


def _dp_for(etype: str, eid: str) -> Any:
    point = dp("a", 1)
    point.etype, point.eid = etype, eid
    return point


def test_setup_creates_topics_idempotently(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,  # setup's storage step may use it
    }
    args = ["setup", str(EXAMPLE_CONFIG_DIR), "--app-name", app_name]
    names = [settings.topics.name(role, app_name) for role in TOPIC_ROLES]
    for expected in ("created", "exists"):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        topic_lines = [line for line in result.output.splitlines() if line.startswith("topic ")]
        assert sorted(topic_lines) == sorted(f"topic {n}: {expected}" for n in names)
    metadata = make_admin(settings.kafka).list_topics(timeout=10).topics
    assert len(metadata[settings.topics.name("input", app_name)].partitions) == 6
    assert len(metadata[settings.topics.name("control", app_name)].partitions) == 1


def test_produce_command_reports_bad_lines_and_sends_the_rest(
    settings: Settings, app_name: str, topics: str, consumer_group: str, tmp_path: Path
) -> None:
    lines = [
        {"type": "ip", "id": "192.0.2.1", "attr": "asn", "v": 1},
        {"type": "ip", "id": "192.0.2.1", "attr": "asn", "v": "one"},
        {
            "type": "ip",
            "id": "192.0.2.2",
            "attr": "hostname",
            "v": "h",
            "t1": datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat(),
        },
        {"type": "ip", "id": "192.0.2.3", "attr": "hostname", "v": "h"},
        {"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "n", "src": "cli"},
    ]
    source = tmp_path / "dps.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n{oops\n")
    env = {"STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers}
    result = CliRunner().invoke(
        main, ["produce", str(EXAMPLE_CONFIG_DIR), str(source), "--app-name", app_name], env=env
    )
    assert result.exit_code == 1
    assert "line 2: ip 192.0.2.1, attribute 'asn', value 'one': v: expected an integer" in (
        result.output
    )
    assert "line 4: ip 192.0.2.3, attribute 'hostname', value 'h': t1: required" in result.output
    assert "line 6: invalid JSON" in result.output
    assert "sent 3 data-points" in result.output and "rejected 3" in result.output
    messages = _consume(settings, topics, consumer_group, 2)
    decoder = TaskDecoder(example_model())
    tasks = {m.key(): decoder.decode(m.value()) for m in messages}
    assert [d.attr for d in tasks[b"ip:192.0.2.1"].data_points] == ["asn", "note"]
    assert [d.v for d in tasks[b"ip:192.0.2.2"].data_points] == ["h"]


def test_produce_command_applies_the_configured_limits(
    settings: Settings, app_name: str, topics: str, tmp_path: Path
) -> None:
    lines = [
        {"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "short"},
        {"type": "ip", "id": "192.0.2.1", "attr": "note", "v": "much too long for the limit"},
        {"type": "ip", "id": "192.0.2.1", "attr": "rep_score", "v": float("nan"), "t1": 1e9},
    ]
    source = tmp_path / "dps.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    env = {
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "STREAMCORE_LIMITS__MAX_VALUE_BYTES": "20",
    }
    result = CliRunner().invoke(
        main, ["produce", str(EXAMPLE_CONFIG_DIR), str(source), "--app-name", app_name], env=env
    )
    assert result.exit_code == 1
    assert "line 2: ip 192.0.2.1, attribute 'note': value of 29 bytes is over " in result.output
    assert "max_value_bytes=20 (setting STREAMCORE_LIMITS__MAX_VALUE_BYTES)" in result.output
    assert "line 3: ip 192.0.2.1, attribute 'rep_score', value nan: v: nan is not a finite" in (
        result.output
    )
    assert "sent 1 data-points" in result.output and "rejected 2" in result.output
