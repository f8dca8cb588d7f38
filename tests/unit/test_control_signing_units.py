"""Signed control messages: the signature, refusals in catch-up and live, replays, counters."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from control_fakes import AckSink, ControlTopic
from prometheus_client import CollectorRegistry

from streamcore.codec.tasks import ControlCodec
from streamcore.config.platform import PlatformConfig
from streamcore.control.acks import AckKind, Outcome
from streamcore.control.actions import ControlActions, refresh_module_config
from streamcore.control.listener import ControlListener
from streamcore.control.modules import ModuleConfigs
from streamcore.control.signing import SIGNATURE_HEADER, ControlSignature, ReplayGuard
from streamcore.errors import StreamcoreError
from streamcore.kafka.consumer import Headers
from streamcore.metrics import ControlMetrics, Metrics
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.module.base import BaseModule
from streamcore.settings import ControlSettings

TOPIC = "app.control"
SECRET = "a shared key"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Filter(BaseModule):
    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.prefix = module_config.get("prefix_filter", "10.0.0.0/8")


def refresh(prefix: str, minute: int) -> ControlMessage:
    return ControlMessage(
        ControlAction.REFRESH_MODULE_CONFIG,
        {"module": "filter", "config": json.dumps({"prefix_filter": prefix})},
        T0 + timedelta(minutes=minute),
    )


def listener(
    topic: ControlTopic, metrics: Metrics, secret: str | None = SECRET
) -> tuple[Any, AckSink, Filter]:
    platform = PlatformConfig.model_construct(app_name="t", config_base_path=".")
    module = Filter(platform, {}, registrar=None)  # type: ignore[arg-type]
    configs = ModuleConfigs(platform, {"filter": module}, {"filter": {}})
    actions = ControlActions(["refresh_module_config"], "worker")
    actions.handle(ControlAction.REFRESH_MODULE_CONFIG, refresh_module_config(configs))
    sink = AckSink()
    replica = ControlListener(
        source=topic,
        acks=sink,
        ack_topic="acks",
        actions=actions,
        configs=configs,
        replica="r1",
        observer=ControlMetrics(metrics),
        signature=ControlSignature(secret, TOPIC) if secret else None,
    )
    return replica, sink, module


def refused(metrics: Metrics, reason: str) -> float:
    value = metrics.registry.get_sample_value(
        "streamcore_control_refused_total", {"reason": reason}
    )
    return value or 0.0


def signed(
    message: ControlMessage, secret: str = SECRET, topic: str = TOPIC
) -> tuple[bytes, Headers]:
    value = ControlCodec().encode(message)
    return value, ControlSignature(secret, topic).headers(value)


def test_a_signature_verifies_only_for_its_value_key_and_topic() -> None:
    signature = ControlSignature(SECRET, TOPIC)
    value = b"message bytes"
    headers = signature.headers(value)
    assert headers[0][0] == SIGNATURE_HEADER
    assert signature.refusal(value, headers) is None
    assert signature.refusal(value, [(k, v.decode()) for k, v in headers]) is None  # type: ignore[union-attr]
    assert signature.refusal(value + b"!", headers) == "bad_signature"
    assert signature.refusal(value, None) == "unsigned"
    assert signature.refusal(value, [("other", b"x")]) == "unsigned"
    assert ControlSignature("another key", TOPIC).refusal(value, headers) == "bad_signature"
    assert ControlSignature(SECRET, "other.control").refusal(value, headers) == "bad_signature"
    assert signature.refusal(value, headers + headers) == "bad_signature"  # one signature only


def test_an_empty_secret_is_an_error_and_no_secret_means_no_signature() -> None:
    with pytest.raises(StreamcoreError, match="empty"):
        ControlSignature("", TOPIC)
    assert ControlSignature.from_settings(ControlSettings(), TOPIC) is None
    assert ControlSignature.from_settings(ControlSettings(secret=SECRET), TOPIC) is not None


def test_forgeries_are_refused_live_counted_and_acknowledged_as_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics(CollectorRegistry())
    topic = ControlTopic()
    replica, sink, module = listener(topic, metrics)
    replica.start()
    assert module.prefix == "10.0.0.0/8"

    opened = refresh("0.0.0.0/0", 1)
    topic.append(ControlCodec().encode(opened), None)  # unsigned
    topic.append(*signed(opened, secret="guessed"))  # wrongly signed
    topic.append(ControlCodec().encode(opened), [(SIGNATURE_HEADER, b"hmac-sha256=00")])
    with caplog.at_level(logging.INFO):
        assert replica.poll() == 3
    assert module.prefix == "10.0.0.0/8"
    assert refused(metrics, "unsigned") == 1
    assert refused(metrics, "bad_signature") == 2
    acks = [(a.offset, a.outcome, a.detail) for a in sink.acks if a.kind is AckKind.ACK]
    assert acks == [
        (0, Outcome.FAILED, "refused: unsigned"),
        (1, Outcome.FAILED, "refused: bad_signature"),
        (2, Outcome.FAILED, "refused: bad_signature"),
    ]
    # Logged once for the episode, not once per forgery.
    assert len([r for r in caplog.records if "refused the message" in r.getMessage()]) == 1

    topic.append(*signed(refresh("192.168.0.0/16", 2)))
    replica.poll()
    assert module.prefix == "192.168.0.0/16"
    assert replica.configs.versions == {"filter": 4}
    assert "3 control messages refused" in caplog.text


def test_refused_messages_are_left_out_of_the_catch_up_replay() -> None:
    """A new replica runs the latest *signed* config, whatever was forged after it."""
    topic = ControlTopic()
    topic.append(*signed(refresh("192.168.0.0/16", 1)))
    topic.append(ControlCodec().encode(refresh("0.0.0.0/0", 2)), None)
    topic.append(*signed(refresh("0.0.0.0/0", 3), secret="guessed"))
    metrics = Metrics(CollectorRegistry())
    replica, sink, module = listener(topic, metrics)
    replica.start()
    assert module.prefix == "192.168.0.0/16"
    assert replica.configs.versions == {"filter": 1}
    assert refused(metrics, "unsigned") == 1 and refused(metrics, "bad_signature") == 1
    # Catch-up acknowledges only what it applied (live replicas acknowledged the rest).
    assert [(a.offset, a.outcome) for a in sink.acks if a.kind is AckKind.ACK] == [
        (0, Outcome.APPLIED)
    ]


def test_a_copy_of_an_old_signed_message_is_refused_as_a_replay() -> None:
    topic = ControlTopic()
    old = signed(refresh("0.0.0.0/0", 1))
    topic.append(*old)
    topic.append(*signed(refresh("192.168.0.0/16", 2)))
    topic.append(*old)  # re-appended by someone who can write the topic
    metrics = Metrics(CollectorRegistry())
    replica, _, module = listener(topic, metrics)
    replica.start()
    assert module.prefix == "192.168.0.0/16"
    assert refused(metrics, "replayed") == 1
    topic.append(*old)
    replica.poll()
    assert module.prefix == "192.168.0.0/16"
    assert refused(metrics, "replayed") == 2


def test_the_replay_guard_is_per_action_and_subject_and_spares_ping() -> None:
    guard = ReplayGuard()
    assert guard.refusal(refresh("a", 5)) is None
    assert guard.refusal(refresh("a", 5)) == "replayed"
    other = ControlMessage(ControlAction.REFRESH_ON_ENTITY_CREATION, {"etype": "ip"}, T0)
    assert guard.refusal(other) is None
    ping = ControlMessage(ControlAction.PING, {}, T0)
    assert guard.refusal(ping) is None and guard.refusal(ping) is None
    assert guard.refusal(ControlMessage(ControlAction.MAKE_SNAPSHOTS)) == "replayed"  # no time


def test_without_a_secret_unsigned_messages_apply_and_a_warning_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    topic = ControlTopic()
    topic.append(ControlCodec().encode(refresh("192.168.0.0/16", 1)), None)
    metrics = Metrics(CollectorRegistry())
    replica, _, module = listener(topic, metrics, secret=None)
    with caplog.at_level(logging.WARNING):
        replica.start()
    assert module.prefix == "192.168.0.0/16"
    assert "not authenticated" in caplog.text and "STREAMCORE_CONTROL__SECRET" in caplog.text
