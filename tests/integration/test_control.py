"""The control topic on the real servers: refreshes reach every replica, bad configs are
refused, the CLI waits for live replicas, a restarted replica applies only the latest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from control_support import (
    CONFIG,
    cli,
    labels,
    new_replica,
    refresh_tagger,
    send_names,
    serving,
    tagger,
)
from support import application, wait_for

from streamcore.codec.tasks import ControlCodec
from streamcore.control.acks import AckCodec, AckKind, ControlAck
from streamcore.kafka.clients import DeliveryReport, make_producer
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.runtime import Runtime
from streamcore.settings import Settings


def hosts(prefix: str, count: int) -> dict[str, str]:
    return {f"{prefix}{i}": f"name{i}" for i in range(count)}


def publish(runtime: Runtime, topic_role: str, key: str, value: bytes) -> int:
    """Produce one message, bypassing every check; its offset."""
    reports: list[DeliveryReport] = []
    producer = make_producer(runtime.settings.kafka, reports.append)
    producer.produce(runtime.topic(topic_role), key.encode(), value)
    producer.flush(30)
    assert reports[-1].error is None
    return reports[-1].offset


def refresh(runtime: Runtime, config: object) -> int:
    """A refresh_module_config as an unchecking sender would send it; its offset."""
    message = ControlMessage(
        ControlAction.REFRESH_MODULE_CONFIG,
        {"module": "tagger", "config": json.dumps(config)},
        datetime.now(UTC),
    )
    return publish(runtime, "control", "refresh:tagger", ControlCodec().encode(message))


def test_a_refresh_reaches_two_running_workers_and_changes_their_output(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        first, second = new_replica(runtime, "replica-a"), new_replica(runtime, "replica-b")
        with serving(first), serving(second):
            wait_for(lambda: first.worker.consumer.assignment and second.worker.consumer.assignment)
            before = hosts("old", 20)
            send_names(runtime, before)
            wait_for(lambda: all(labels(runtime, list(before)).values()))
            assert labels(runtime, list(before)) == {e: f"v0-{n}" for e, n in before.items()}

            result = refresh_tagger(runtime, tmp_path, "v1-")

            assert result.exit_code == 0, result.output
            assert "replica-a (worker): applied" in result.output
            assert "replica-b (worker): applied" in result.output
            version = int(result.output.split("config version ")[1].split(")")[0])
            for replica in (first, second):
                assert tagger(replica).prefix == "v1-"
                assert replica.listener.configs.versions["tagger"] == version
                assert tagger(replica).refresh.isset()  # refresh= hooks re-run in snapshots
            after = hosts("new", 20)
            send_names(runtime, after)
            wait_for(lambda: all(labels(runtime, list(after)).values()))
            assert labels(runtime, list(after)) == {e: f"v1-{n}" for e, n in after.items()}


def test_a_config_refused_by_load_config_leaves_the_old_one_running(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        replica = new_replica(runtime, "replica-a")
        with serving(replica):
            offset = refresh(runtime, {"prefix": "x-", "fail": True})
            wait_for(lambda: replica.listener.next_offset > offset)
            module = tagger(replica)
            assert module.prefix == "v0-"
            # the bad config was tried, then the previous one given back
            assert module.loaded[-2:] == [{"prefix": "x-", "fail": True}, {"prefix": "v0-"}]
            assert replica.listener.configs.versions["tagger"] == 0
            assert not module.refresh.isset()
            errors = replica.metrics.module_config_errors.labels("tagger")._value.get()
            assert errors == 1
            send_names(runtime, {"h1": "one"})
            wait_for(lambda: labels(runtime, ["h1"])["h1"])
            assert labels(runtime, ["h1"]) == {"h1": "v0-one"}


def test_the_cli_refuses_a_bad_config_before_sending(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        result = refresh_tagger(runtime, tmp_path, "5")  # a number: load_config refuses it
        assert result.exit_code == 1
        assert "'prefix' must be a string" in result.output
        not_a_mapping = tmp_path / "list.yml"
        not_a_mapping.write_text("- a\n- b\n")
        result = cli(
            runtime,
            "refresh_module_config",
            str(CONFIG),
            "--module",
            "tagger",
            "--module-config",
            str(not_a_mapping),
        )
        assert result.exit_code == 1
        assert "must be a mapping" in result.output
        result = cli(runtime, "refresh_module_config", str(CONFIG), "--module", "nope")
        assert result.exit_code == 1
        assert "not enabled" in result.output


def test_the_cli_waits_for_live_replicas_and_names_the_silent_ones(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        replica = new_replica(runtime, "replica-a")
        with serving(replica):
            result = cli(runtime, "ping", str(CONFIG), "--timeout", "20")
            assert result.exit_code == 0, result.output
            assert "replica-a (worker): applied: pong" in result.output
            assert "acknowledged by all 1 live replicas" in result.output

            ghost = ControlAck("ghost-1", "snapshots", AckKind.HEARTBEAT)
            publish(runtime, "control_acks", "ghost-1", AckCodec().encode(ghost))
            result = cli(runtime, "ping", str(CONFIG), "--timeout", "3")
            assert result.exit_code == 2, result.output
            assert "replica-a (worker): applied: pong" in result.output
            assert "no acknowledgement within 3 s from: ghost-1 (snapshots)" in result.output

            result = cli(runtime, "make_snapshots", str(CONFIG), "--timeout", "3")
            assert "replica-a (worker): skipped: make_snapshots is not available" in result.output


def test_a_restarted_replica_applies_only_the_latest_config(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        refresh(runtime, {"prefix": "a-"})
        good = refresh(runtime, {"prefix": "b-"})
        codec = ControlCodec()
        entity_refresh = ControlMessage(ControlAction.REFRESH_ON_ENTITY_CREATION, {"etype": "host"})
        publish(runtime, "control", "x", codec.encode(entity_refresh))
        refresh(runtime, {"prefix": 7})  # refused by validate_config
        refresh(runtime, {"prefix": "c-", "fail": True})  # the latest, refused by load_config
        publish(runtime, "control", "ping", codec.encode(ControlMessage(ControlAction.PING)))

        replica = new_replica(runtime, "replica-a")
        replica.listener.start()
        try:
            module = tagger(replica)
            # constructor (file), the refused latest, restore, then the latest good one
            assert module.loaded == [
                {"prefix": "v0-"},
                {"prefix": "c-", "fail": True},
                {"prefix": "v0-"},
                {"prefix": "b-"},
            ]
            assert module.prefix == "b-"
            assert replica.listener.configs.versions["tagger"] == good + 1
            handled = replica.metrics.control_messages
            assert handled.labels("refresh_on_entity_creation", "applied")._value.get() == 0
            assert handled.labels("ping", "applied")._value.get() == 0
        finally:
            replica.listener.close()


def test_refresh_on_entity_creation_reruns_creation_hooks_for_stored_entities(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    with application(settings, app_name, keyspace, config=CONFIG) as runtime:
        first, second = new_replica(runtime, "replica-a"), new_replica(runtime, "replica-b")
        with serving(first), serving(second):
            names = hosts("h", 10)
            send_names(runtime, names)
            wait_for(lambda: all(labels(runtime, list(names), "origin").values()))
            result = refresh_tagger(runtime, tmp_path, "v2-")
            assert result.exit_code == 0, result.output

            result = cli(runtime, "refresh_on_entity_creation", str(CONFIG), "--etype", "host")

            assert result.exit_code == 0, result.output
            assert result.output.count(": applied: re-ran for 10 host entities") == 1
            assert result.output.count(": skipped: another replica runs it") == 1
            wait_for(lambda: set(labels(runtime, list(names), "origin").values()) == {"v2-created"})
