"""IngestionHooks: DP³'s call order and arguments, one error policy, observer calls."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from streamcore.model import DataPoint, DataPointTask, ModelSpec
from streamcore.module import CallbackRegistrar
from streamcore.testing.config import model_spec_from_dicts

MODEL: dict[str, Any] = {
    "ip": {
        "entity": {"id": "ip", "name": "IP", "snapshot": True},
        "attribs": {
            "a": {"name": "a", "type": "plain", "data_type": "string"},
            "b": {"name": "b", "type": "plain", "data_type": "string"},
        },
    },
}

Observed = tuple[str, str, str, str | None, bool, int]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Observed] = []

    def observe(  # noqa: PLR0917 (HookObserver protocol)
        self,
        module: str,
        hook: str,
        etype: str,
        attr: str | None,
        seconds: float,
        failed: bool,
        emitted: int,
    ) -> None:
        assert seconds >= 0
        self.calls.append((module, hook, etype, attr, failed, emitted))


@pytest.fixture
def model() -> ModelSpec:
    return model_spec_from_dicts(MODEL)


@pytest.fixture
def registrar(model: ModelSpec) -> CallbackRegistrar:
    return CallbackRegistrar(model)


def task(*dps: DataPoint) -> DataPointTask:
    return DataPointTask("ip", "x", list(dps))


def derived(attr: str = "b") -> DataPointTask:
    return task(DataPoint("ip", "x", attr, "v"))


def test_hooks_get_dp3s_arguments_and_their_tasks_are_collected(
    registrar: CallbackRegistrar,
) -> None:
    seen: list[tuple[str, Any]] = []
    out = derived()
    registrar.register_task_hook("on_task_start", lambda t: seen.append(("start", t)))
    registrar.register_allow_entity_creation_hook(
        lambda eid, t: seen.append(("allow", (eid, t))) is None, "ip"
    )
    registrar.register_on_entity_creation_hook(
        lambda eid, t: seen.append(("create", (eid, t))) or [out], "ip"
    )
    registrar.register_on_new_attr_hook(lambda eid, dp: seen.append(("a", (eid, dp))), "ip", "a")
    registrar.register_on_new_attr_hook(lambda eid, dp: [out, out], "ip", "a")
    hooks = registrar.ingestion_hooks()
    dp = DataPoint("ip", "x", "a", "v")
    t = task(dp)
    hooks.run_task_start(t)
    assert hooks.allow_creation("ip", "x", t) is True
    assert hooks.run_entity_creation("ip", "x", t) == [out]
    assert hooks.run_new_attr("ip", "x", dp) == [out, out]
    assert hooks.run_new_attr("ip", "x", DataPoint("ip", "x", "b", "v")) == []
    assert seen == [("start", t), ("allow", ("x", t)), ("create", ("x", t)), ("a", ("x", dp))]
    assert hooks.has_new_attr_hooks("ip", "a")
    assert not hooks.has_new_attr_hooks("ip", "b")
    assert hooks.allow_creation("domain", "x", t) is True  # no hooks: allowed


def test_allow_creation_needs_every_hook_and_stops_at_the_first_no(
    registrar: CallbackRegistrar,
) -> None:
    asked: list[str] = []
    registrar.register_allow_entity_creation_hook(lambda e, t: asked.append("1") or True, "ip")
    registrar.register_allow_entity_creation_hook(lambda e, t: asked.append("2") or False, "ip")
    registrar.register_allow_entity_creation_hook(lambda e, t: asked.append("3") or True, "ip")
    assert registrar.ingestion_hooks().allow_creation("ip", "x", task()) is False
    assert asked == ["1", "2"]


def boom(*_args: Any) -> Any:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (RuntimeError("boom"), "boom"),
        ("nope", "returned str, expected None or a list of DataPointTask"),
        ((derived(),), "returned tuple"),
        ([derived(), {"etype": "ip"}], "holding dict"),
    ],
)
def test_a_failing_hook_is_logged_counted_and_skipped(
    registrar: CallbackRegistrar,
    caplog: pytest.LogCaptureFixture,
    result: Any,
    message: str,
) -> None:
    def bad(eid: Any, dp: Any) -> Any:
        if isinstance(result, Exception):
            raise result
        return result

    good = derived("a")
    with registrar.module_scope("badmod"):
        registrar.register_on_new_attr_hook(bad, "ip", "a")
    with registrar.module_scope("goodmod"):
        registrar.register_on_new_attr_hook(lambda eid, dp: [good], "ip", "a")
    recorder = Recorder()
    hooks = registrar.ingestion_hooks(recorder)
    with caplog.at_level(logging.ERROR, "streamcore.module.dispatch"):
        assert hooks.run_new_attr("ip", "x", DataPoint("ip", "x", "a", 1)) == [good]
    assert recorder.calls == [
        ("badmod", "on_new_attr", "ip", "a", True, 0),
        ("goodmod", "on_new_attr", "ip", "a", False, 1),
    ]
    (record,) = caplog.records
    text = record.getMessage()
    assert "badmod" in text and "on_new_attr" in text and "ip/a" in text and message in text
    assert "bad" in text
    assert (record.exc_info is not None) == isinstance(result, Exception)


def test_failures_of_every_kind_follow_the_policy(registrar: CallbackRegistrar) -> None:
    registrar.register_task_hook("on_task_start", boom)
    registrar.register_allow_entity_creation_hook(boom, "ip")
    registrar.register_allow_entity_creation_hook(lambda e, t: None, "ip")  # not a bool
    registrar.register_on_entity_creation_hook(boom, "ip")
    recorder = Recorder()
    hooks = registrar.ingestion_hooks(recorder)
    t = task()
    hooks.run_task_start(t)
    assert hooks.allow_creation("ip", "x", t) is True  # a failing admission hook: no objection
    assert hooks.run_entity_creation("ip", "x", t) == []
    assert [(c[1], c[4]) for c in recorder.calls] == [
        ("on_task_start", True),
        ("allow_entity_creation", True),
        ("allow_entity_creation", True),
        ("on_entity_creation", True),
    ]


def test_observer_sees_every_successful_call(registrar: CallbackRegistrar) -> None:
    with registrar.module_scope("m"):
        registrar.register_task_hook("on_task_start", lambda t: 42)  # return ignored
        registrar.register_allow_entity_creation_hook(lambda e, t: True, "ip")
        registrar.register_on_entity_creation_hook(lambda e, t: None, "ip")
    recorder = Recorder()
    hooks = registrar.ingestion_hooks(recorder)
    t = task()
    hooks.run_task_start(t)
    hooks.allow_creation("ip", "x", t)
    hooks.run_entity_creation("ip", "x", t)
    assert recorder.calls == [
        ("m", "on_task_start", "ip", None, False, 0),
        ("m", "allow_entity_creation", "ip", None, False, 0),
        ("m", "on_entity_creation", "ip", None, False, 0),
    ]


def test_engine_is_a_snapshot_of_registrations(registrar: CallbackRegistrar) -> None:
    hooks = registrar.ingestion_hooks()
    registrar.register_on_new_attr_hook(lambda e, dp: None, "ip", "a")
    assert not hooks.has_new_attr_hooks("ip", "a")
    assert registrar.ingestion_hooks().has_new_attr_hooks("ip", "a")
