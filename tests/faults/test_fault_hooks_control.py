"""Modules and the control topic misbehave under load.

- A hook that triggers itself for ever, and a hook that hangs 60 s: the first is cut at the
  hop limit, the second at its time budget; both tasks are dead-lettered, the load flows on.
- A forged control message (unsigned, or signed with the wrong key) that would shift every
  echo off its reading: refused by both workers, so every reading keeps its echo.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fault_harness import FaultApp

from streamcore.codec.tasks import ControlCodec, TaskDecoder
from streamcore.control.signing import ControlSignature
from streamcore.kafka.clients import make_producer
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer

pytestmark = [pytest.mark.faults, pytest.mark.timeout(280)]

MAX_HOPS = 10  # WorkerSettings.max_hops, the default
BUDGET_SECONDS = 5


def test_hook_storm_and_hanging_hook_amid_the_load(fault_app: FaultApp) -> None:
    app = fault_app
    app.start_workers(2, {"STREAMCORE_HOOKS__TIME_BUDGET_SECONDS": str(BUDGET_SECONDS)})
    app.send(count=2000, seconds=20)
    app.wait_applied(100)
    with DataPointProducer(app.settings, app.app_name, app.config.model_spec) as producer:
        producer.send(DataPointTask("sensor", "z-loop", [DataPoint("sensor", "z-loop", "loop", 0)]))
        producer.send(DataPointTask("sensor", "z-slow", [DataPoint("sensor", "z-slow", "slow", 1)]))
    outcome = app.settle()

    letters = {letter.reason: letter for letter in app.dead_letters()}
    loops = 0
    decoder = TaskDecoder(app.config.model_spec)
    for value in app.input_records():
        task = decoder.decode(value)
        loops += sum(dp.attr == "loop" for dp in task.data_points)
    outcome.details["loop tasks on the input topic"] = loops
    outcome.details["dead letters"] = {r: letter.message[:160] for r, letter in letters.items()}
    outcome.report()
    outcome.assert_clean()

    assert set(letters) == {"hop_limit", "hook_timeout"}, letters
    assert "exceed max_hops 10" in letters["hop_limit"].message
    assert "storm" in letters["hop_limit"].message  # the chain of modules that derived it
    assert "sleeper" in letters["hook_timeout"].message
    assert loops == MAX_HOPS + 1, "the storm was cut at the hop limit, not later"


def forge(app: FaultApp, shift: int, secret: str | None) -> None:
    """A refresh_module_config for ``echo``, unsigned or signed with ``secret``."""
    message = ControlMessage(
        ControlAction.REFRESH_MODULE_CONFIG,
        {"module": "echo", "config": json.dumps({"shift": shift})},
        datetime.now(UTC),
    )
    value = ControlCodec().encode(message)
    topic = app.topic("control")
    headers = ControlSignature(secret, topic).headers(value) if secret else None
    producer = make_producer(app.settings.kafka, lambda _report: None)
    producer.produce(topic, b"refresh:echo", value, headers=headers)
    assert producer.flush(30) == 0


def test_a_forged_control_message_is_refused_amid_the_load(fault_app: FaultApp) -> None:
    app = fault_app
    workers = app.start_workers(2, {"STREAMCORE_CONTROL__SECRET": "the-real-key"})
    app.send(count=2000, seconds=20)
    app.wait_applied(100)
    forge(app, shift=1_000_000, secret=None)
    app.run_for(2.0)
    forge(app, shift=2_000_000, secret="a-guessed-key")
    outcome = app.settle()
    outcome.report()
    outcome.assert_clean()  # an applied forgery would have moved every later echo: lost > 0
    for worker in workers:
        log = worker.log_file.read_text(errors="replace")
        assert "control: refused the message" in log, worker.tail()
