"""ModuleHarness: DP³'s ingestion order without servers, derived tasks followed, strictness."""

from __future__ import annotations

from typing import Any

import pytest

from streamcore import BaseModule, CallbackRegistrar, DataPoint, DataPointTask, PlatformConfig
from streamcore.errors import InvalidDataPointError
from streamcore.module import HookKind
from streamcore.testing import HookFailed, ModuleHarness

MODEL: dict[str, Any] = {
    "ip": {
        "entity": {"id": "ip", "name": "IP", "snapshot": True},
        "attribs": {
            "a": {"name": "a", "type": "plain", "data_type": "string"},
            "b": {"name": "b", "type": "plain", "data_type": "string"},
        },
    },
}


class Recorder(BaseModule):
    """Records hook calls; ``a`` derives ``b``; ``deny`` in the config denies creation."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        super().__init__(platform_config, module_config, registrar)
        self.calls: list[tuple[str, Any]] = []
        registrar.register_task_hook("on_task_start", lambda t: self.calls.append(("start", t.eid)))
        registrar.register_allow_entity_creation_hook(self.allow, "ip")
        registrar.register_on_entity_creation_hook(self.created, "ip")
        registrar.register_on_new_attr_hook(self.on_a, "ip", "a")
        registrar.register_on_new_attr_hook(self.on_b, "ip", "b")

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.deny = set(module_config.get("deny", []))
        self.fail = module_config.get("fail", False)

    def allow(self, eid: Any, task: DataPointTask) -> bool:
        self.calls.append(("allow", eid))
        return eid not in self.deny

    def created(self, eid: Any, task: DataPointTask) -> None:
        self.calls.append(("created", eid))

    def on_a(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        self.calls.append(("a", dp.v))
        if self.fail:
            raise RuntimeError("hook broke")
        return [DataPointTask("ip", eid, [DataPoint("ip", eid, "b", dp.v + "!")])]

    def on_b(self, eid: Any, dp: DataPoint) -> Any:
        self.calls.append(("b", dp.v))
        return "not a list" if dp.v == "bad!" else None


def task(eid: str, value: str) -> DataPointTask:
    return DataPointTask("ip", eid, [DataPoint("ip", eid, "a", value)])


def harness(**config: Any) -> tuple[ModuleHarness, Recorder]:
    h = ModuleHarness.for_model(MODEL)
    module = h.load(Recorder, config)
    assert isinstance(module, Recorder)
    return h, module


def test_hooks_run_in_dp3_order_and_derived_tasks_recurse() -> None:
    h, module = harness()
    run = h.send(task("x", "v"))
    assert module.calls == [
        ("start", "x"),
        ("allow", "x"),
        ("created", "x"),
        ("a", "v"),
        ("start", "x"),  # the derived task, processed like any other; x exists now
        ("b", "v!"),
    ]
    assert run.created == [("ip", "x")]
    assert run.datapoint(attr="b").v == "v!"
    assert [t.eid for t in run.processed] == ["x", "x"]
    assert h.registered(HookKind.ON_NEW_ATTR, attr="a")[0].module == "test_harness"
    assert len(h.registered("on_new_attr")) == 2


def test_denied_entities_are_not_created() -> None:
    h, module = harness(deny=["y"])
    run = h.send([task("y", "v"), DataPointTask("ip", "y", delete=True)])
    assert [t.eid for t in run.denied] == ["y"]
    assert run.created == [] and ("ip", "y") not in h.entities
    assert ("a", "v") not in module.calls
    assert run.deleted == [("ip", "y")]


def test_strict_runs_raise_on_a_failing_hook_with_its_exception() -> None:
    h, _ = harness(fail=True)
    with pytest.raises(HookFailed, match="hook broke") as info:
        h.send(task("x", "v"))
    assert isinstance(info.value.__cause__, RuntimeError)


def test_lenient_runs_behave_like_the_worker() -> None:
    h, _ = harness()
    run = h.send(task("x", "bad"), strict=False)
    (failure,) = run.failures
    assert "on_b" in failure.message and "returned str" in failure.message
    assert failure.exc is None
    with pytest.raises(HookFailed, match="returned str"):
        h.send(task("x", "bad"))


def test_invalid_tasks_fail_the_test() -> None:
    h, _ = harness()
    with pytest.raises(InvalidDataPointError):
        h.send(DataPointTask("ip", "x", [DataPoint("ip", "x", "nope", 1)]))


def test_endless_derivation_is_stopped() -> None:
    class Loop(BaseModule):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            args[2].register_on_new_attr_hook(self.again, "ip", "a")

        def again(self, eid: Any, dp: DataPoint) -> list[DataPointTask]:
            return [task(eid, "v")]

    h = ModuleHarness.for_model(MODEL)
    h.max_tasks = 50
    h.load(Loop)
    with pytest.raises(HookFailed, match="more than 50 tasks"):
        h.send(task("x", "v"))


def test_result_lookups_fail_with_what_was_there() -> None:
    h, _ = harness()
    run = h.send(task("x", "v"))
    with pytest.raises(AssertionError, match="derived: .*'b'"):
        run.datapoint(attr="a")
    with pytest.raises(AssertionError, match="unexpected"):
        run.assert_no_datapoints(attr="b")
    assert run.task(eid="x").data_points[0].v == "v!"
