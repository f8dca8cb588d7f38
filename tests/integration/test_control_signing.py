"""Signed control on the real Kafka: a forged refresh_module_config is refused by a running
replica and by one that starts later; a properly signed one (the CLI's) is applied."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from control_support import CONFIG, new_replica, refresh_tagger, serving, tagger
from pydantic import SecretStr
from support import application, wait_for

from streamcore.codec.tasks import ControlCodec
from streamcore.control.signing import ControlSignature
from streamcore.kafka.clients import DeliveryReport, make_producer
from streamcore.kafka.consumer import Headers
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.roles import WorkerReplica
from streamcore.runtime import Runtime
from streamcore.settings import ControlSettings, Settings

SECRET = "integration-control-key"


def forge(runtime: Runtime, prefix: str, headers: Headers | None) -> int:
    """A refresh_module_config written straight to the control topic; its offset."""
    message = ControlMessage(
        ControlAction.REFRESH_MODULE_CONFIG,
        {"module": "tagger", "config": json.dumps({"prefix": prefix})},
        datetime.now(UTC),
    )
    reports: list[DeliveryReport] = []
    producer = make_producer(runtime.settings.kafka, reports.append)
    producer.produce(
        runtime.topic("control"), b"refresh:tagger", ControlCodec().encode(message), headers
    )
    producer.flush(30)
    assert reports[-1].error is None
    return reports[-1].offset


def wrongly_signed(runtime: Runtime) -> Headers:
    """A signature under another key (what a forger without the secret can make)."""
    signature = ControlSignature("a guessed key", runtime.topic("control"))
    message = ControlMessage(ControlAction.REFRESH_MODULE_CONFIG, {"module": "tagger"})
    return signature.headers(ControlCodec().encode(message))


def refused(replica: WorkerReplica, reason: str) -> float:
    return float(replica.metrics.control_refused.labels(reason)._value.get())


def test_forged_refreshes_are_refused_and_a_signed_one_is_applied(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    signed_settings = settings.model_copy(
        update={"control": ControlSettings(secret=SecretStr(SECRET))}
    )
    with application(signed_settings, app_name, keyspace, config=CONFIG) as runtime:
        replica = new_replica(runtime, "replica-a")
        with serving(replica):
            unsigned = forge(runtime, "open-", None)
            wait_for(lambda: replica.listener.next_offset > unsigned)
            assert tagger(replica).prefix == "v0-"
            assert refused(replica, "unsigned") == 1

            bad = forge(runtime, "open-", wrongly_signed(runtime))
            wait_for(lambda: replica.listener.next_offset > bad)
            assert tagger(replica).prefix == "v0-"
            assert refused(replica, "bad_signature") == 1
            assert replica.listener.configs.versions["tagger"] == 0

            result = refresh_tagger(runtime, tmp_path, "v1-")
            assert result.exit_code == 0, result.output
            assert "replica-a (worker): applied" in result.output
            assert tagger(replica).prefix == "v1-"

            # Forged after the signed one: the latest on the topic, still refused.
            late = forge(runtime, "open-", None)
            wait_for(lambda: replica.listener.next_offset > late)
            assert tagger(replica).prefix == "v1-"
            assert refused(replica, "unsigned") == 2

        # A replica starting now replays the topic: only the signed refresh counts.
        newcomer = new_replica(runtime, "replica-b")
        newcomer.listener.start()
        try:
            assert tagger(newcomer).prefix == "v1-"
            assert refused(newcomer, "unsigned") == 2
            assert refused(newcomer, "bad_signature") == 1
        finally:
            newcomer.listener.close()
