"""Control actions, module config refresh, catch-up and acks, without servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from control_fakes import AckSink, ControlTopic

from streamcore.codec.tasks import ControlCodec
from streamcore.config.platform import PlatformConfig
from streamcore.control.acks import AckCodec, AckKind, ControlAck, Outcome
from streamcore.control.actions import ControlActions, refresh_module_config, report
from streamcore.control.listener import ControlListener
from streamcore.control.modules import ModuleConfigs
from streamcore.control.sender import live_replicas
from streamcore.kafka.consumer import InputRecord
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.module.base import BaseModule


class Scaler(BaseModule):
    """Output depends on config; refuses a negative factor in load_config."""

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        if module_config.get("factor", 1) < 0:
            raise ValueError("negative factor")
        self.factor = module_config.get("factor", 1)

    @staticmethod
    def validate_config(module_config: dict[str, Any]) -> None:
        if not isinstance(module_config.get("factor", 1), int):
            raise ValueError("factor must be an int")


def module_configs() -> tuple[ModuleConfigs, Scaler]:
    platform = PlatformConfig.model_construct(app_name="t", config_base_path=".")
    scaler = Scaler(platform, {"factor": 2}, registrar=None)  # type: ignore[arg-type]
    return ModuleConfigs(platform, {"scaler": scaler}, {"scaler": {"factor": 2}}), scaler


def test_a_refresh_loads_the_config_sets_refresh_and_the_version() -> None:
    configs, scaler = module_configs()
    assert configs.apply("scaler", '{"factor": 3}', 8) == (
        Outcome.APPLIED,
        "module scaler runs config version 8",
    )
    assert scaler.factor == 3 and scaler.refresh.isset()
    assert configs.versions == {"scaler": 8}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"factor": -1}', "negative factor"),  # load_config refuses: restored
        ('{"factor": "x"}', "factor must be an int"),  # validate_config refuses
        ("[1, 2]", "must be a mapping"),
        ("{nope", "not valid JSON"),
    ],
)
def test_a_refused_config_leaves_the_old_one_running(text: str, why: str) -> None:
    configs, scaler = module_configs()
    outcome, detail = configs.apply("scaler", text, 5)
    assert outcome is Outcome.FAILED
    assert why in detail and "version 0 keeps running" in detail
    assert scaler.factor == 2 and not scaler.refresh.isset()
    assert configs.versions == {"scaler": 0}


def test_an_older_or_foreign_refresh_is_skipped() -> None:
    configs, _ = module_configs()
    configs.apply("scaler", '{"factor": 3}', 8)
    assert configs.apply("scaler", '{"factor": 4}', 7)[0] is Outcome.SKIPPED
    assert configs.apply("other", "{}", 9)[0] is Outcome.SKIPPED


def test_actions_apply_the_allow_list_and_name_what_this_process_cannot_do() -> None:
    actions = ControlActions(["make_snapshots", "refresh_module_config"], "worker")

    def broken(message: ControlMessage, offset: int) -> tuple[Outcome, str]:
        raise RuntimeError("boom")

    actions.handle(ControlAction.REFRESH_MODULE_CONFIG, broken)
    run = actions.run
    assert run(ControlMessage(ControlAction.PING), 0) == (Outcome.APPLIED, "pong")
    assert run(ControlMessage(ControlAction.MAKE_SNAPSHOTS), 1) == (
        Outcome.SKIPPED,
        "make_snapshots is not available in this process (worker)",
    )
    assert run(ControlMessage(ControlAction.REFRESH_ON_ENTITY_CREATION), 2)[0] is Outcome.FAILED
    assert run(ControlMessage(ControlAction.REFRESH_MODULE_CONFIG), 3) == (
        Outcome.FAILED,
        "RuntimeError: boom",
    )
    assert run(ControlMessage(ControlAction.UNKNOWN), 4)[0] is Outcome.SKIPPED


def test_acks_round_trip() -> None:
    ack = ControlAck(
        "r1",
        "worker",
        AckKind.ACK,
        12,
        "ping",
        Outcome.APPLIED,
        "pong",
        {"m": 13},
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert AckCodec().decode(AckCodec().encode(ack)) == ack


def test_live_replicas_are_those_heard_recently_and_not_leaving() -> None:
    now = datetime.now(UTC)
    acks = [
        ControlAck("old", "worker", AckKind.HEARTBEAT, at=now - timedelta(minutes=5)),
        ControlAck("a", "worker", AckKind.HEARTBEAT, at=now),
        ControlAck("b", "snapshots", AckKind.HEARTBEAT, at=now),
        ControlAck("b", "snapshots", AckKind.LEAVING, at=now),
    ]
    assert live_replicas(acks, now - timedelta(seconds=15)) == {"a": "worker"}


def refresh(factor: int) -> ControlMessage:
    return ControlMessage(
        ControlAction.REFRESH_MODULE_CONFIG,
        {"module": "scaler", "config": json.dumps({"factor": factor})},
    )


def test_catch_up_applies_only_the_latest_config_that_loads_then_follows_new_messages() -> None:
    configs, scaler = module_configs()
    topic = ControlTopic.holding(
        [refresh(3), ControlMessage(ControlAction.PING), refresh(4), refresh(-1)]
    )
    actions = ControlActions(["refresh_module_config"], "worker")
    actions.handle(ControlAction.REFRESH_MODULE_CONFIG, refresh_module_config(configs))
    sink = AckSink()
    listener = ControlListener(
        source=topic, acks=sink, ack_topic="acks", actions=actions, configs=configs, replica="r1"
    )
    listener.start()
    assert scaler.factor == 4 and configs.versions == {"scaler": 3}
    assert [(a.kind, a.offset, a.outcome) for a in sink.acks] == [
        (AckKind.ACK, 3, Outcome.FAILED),
        (AckKind.ACK, 2, Outcome.APPLIED),
        (AckKind.HEARTBEAT, 4, Outcome.UNKNOWN),
    ]
    codec = ControlCodec()
    topic.records += [
        InputRecord("c", 0, 4, None, codec.encode(ControlMessage(ControlAction.PING)), 0),
        InputRecord("c", 0, 5, None, codec.encode(refresh(9)), 0),
    ]
    assert listener.poll() == 2
    assert scaler.factor == 9 and configs.versions == {"scaler": 6}
    assert sink.acks[-1].config_versions == {"scaler": 6}
    listener.close()
    assert sink.acks[-1].kind is AckKind.LEAVING


def test_a_plain_function_becomes_a_handler() -> None:
    actions = ControlActions(["make_snapshots"], "snapshots")
    actions.handle(ControlAction.MAKE_SNAPSHOTS, report(lambda: "run 7", "snapshot run started"))
    assert actions.run(ControlMessage(ControlAction.MAKE_SNAPSHOTS), 0) == (
        Outcome.APPLIED,
        "snapshot run started: run 7",
    )
