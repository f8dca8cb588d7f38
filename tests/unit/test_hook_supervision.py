"""The hook engines under supervision: an over-budget ingestion hook fails its task with
``HookTimeoutError``; an over-budget snapshot hook is dropped and the run goes on; failure
logs are rate-limited per hook while the metrics count every failure; /healthz sees a hook
stuck past its budgets."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from streamcore.errors import DataPointError, HookTimeoutError
from streamcore.metrics import Health, HookMetrics, Metrics
from streamcore.model import DataPoint, DataPointTask
from streamcore.module import CallbackRegistrar
from streamcore.module.budget import HookBudget
from streamcore.module.hooklog import HookFailureLog
from streamcore.snapshot.hooks import SnapshotHooks
from streamcore.testing.config import model_spec_from_dicts

MODEL = model_spec_from_dicts(
    {
        "ip": {
            "entity": {"id": "ip", "name": "IP", "snapshot": True},
            "attribs": {
                "a": {"name": "a", "type": "plain", "data_type": "string"},
                "b": {"name": "b", "type": "plain", "data_type": "string"},
            },
        },
    }
)
BUDGET = 0.05


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def dp(eid: str = "x", attr: str = "a") -> DataPoint:
    return DataPoint("ip", eid, attr, "v")


def sleepy(eid: Any, *_: Any) -> list[DataPointTask]:
    if eid == "slow":
        time.sleep(5)
    return [DataPointTask("ip", eid, [dp(eid, "b")])]


@pytest.mark.parametrize("kind", ["on_task_start", "allow", "create", "new_attr"])
def test_an_over_budget_ingestion_hook_fails_the_task(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    registrar = CallbackRegistrar(MODEL)
    with registrar.module_scope("sleeper"):
        if kind == "on_task_start":
            registrar.register_task_hook("on_task_start", lambda t: sleepy(t.eid))
        elif kind == "allow":
            registrar.register_allow_entity_creation_hook(lambda e, t: bool(sleepy(e)), "ip")
        elif kind == "create":
            registrar.register_on_entity_creation_hook(sleepy, "ip")
        else:
            registrar.register_on_new_attr_hook(sleepy, "ip", "a")
    metrics = Metrics(CollectorRegistry())
    hooks = registrar.ingestion_hooks(HookMetrics(metrics), HookBudget(BUDGET))

    def run(eid: str) -> Any:
        task = DataPointTask("ip", eid, [dp(eid)])
        return {
            "on_task_start": lambda: hooks.run_task_start(task),
            "allow": lambda: hooks.allow_creation("ip", eid, task),
            "create": lambda: hooks.run_entity_creation("ip", eid, task),
            "new_attr": lambda: hooks.run_new_attr("ip", eid, dp(eid)),
        }[kind]()

    run("fast")  # the neighbours are unaffected
    with caplog.at_level(logging.ERROR), pytest.raises(HookTimeoutError) as caught:
        run("slow")
    run("fast")
    error = caught.value
    assert isinstance(error, DataPointError) and error.reason == "hook_timeout"
    hook = {"on_task_start": "on_task_start", "allow": "allow_entity_creation"}.get(
        kind, "on_entity_creation" if kind == "create" else "on_new_attr"
    )
    assert error.module == "sleeper" and error.kind == hook and error.budget == BUDGET
    assert "sleeper" in str(error) and hook in str(error) and "0.05 s" in str(error)
    (line,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    text = line.getMessage()
    assert "sleeper" in text and hook in text and "interrupted" in text and "sleepy" in text
    assert "test_hook_supervision.py" in text  # where it was stuck
    assert line.exc_info is None  # one line, no traceback
    labels = {"module": "sleeper", "hook": hook}
    assert sample(metrics, "streamcore_hook_timeouts_total", **labels) == 1
    attr = "a" if kind == "new_attr" else ""
    counted = {**labels, "etype": "ip", "attr": attr}
    assert sample(metrics, "streamcore_hook_failures_total", **counted) == 1
    assert sample(metrics, "streamcore_hook_calls_total", **counted) == 3


def test_without_a_budget_hooks_run_plain() -> None:
    registrar = CallbackRegistrar(MODEL)
    registrar.register_on_new_attr_hook(lambda e, d: time.sleep(0.1), "ip", "a")
    assert registrar.ingestion_hooks(budget=HookBudget(0)).run_new_attr("ip", "x", dp()) == []


def test_hook_failures_are_logged_at_a_bounded_rate_and_counted_exactly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registrar = CallbackRegistrar(MODEL)

    def broken(eid: Any, dp: DataPoint) -> None:
        raise RuntimeError(f"broken on {eid}")

    with registrar.module_scope("bad"):
        registrar.register_on_new_attr_hook(broken, "ip", "a")
        registrar.register_on_new_attr_hook(lambda e, d: "not a list", "ip", "b")
    clock = Clock()
    metrics = Metrics(CollectorRegistry())
    hooks = registrar.ingestion_hooks(
        HookMetrics(metrics), HookBudget(10), HookFailureLog(interval=60, clock=clock)
    )
    with caplog.at_level(logging.ERROR):
        for i in range(1000):  # one failure a second, for 1000 s
            assert hooks.run_new_attr("ip", f"e{i}", dp(f"e{i}")) == []
            clock.now += 1
        hooks.run_new_attr("ip", "x", dp(attr="b"))
    labels = {"module": "bad", "hook": "on_new_attr", "etype": "ip", "attr": "a"}
    assert sample(metrics, "streamcore_hook_failures_total", **labels) == 1000
    lines = [r for r in caplog.records if "broken" in r.getMessage()]
    # the first in full, then one a minute: at 60 s, 120 s, ... 960 s
    assert len(lines) == 1 + 16
    first, *summaries = lines
    assert first.exc_info is not None and "broken on e0" in first.getMessage()
    assert all(r.exc_info is None for r in summaries)
    assert "60 more failures since" in summaries[0].getMessage()
    assert "latest on ip/a: broken on e60" in summaries[0].getMessage()
    assert "broken on e960" in summaries[-1].getMessage()
    # another hook has its own allowance: its first failure is logged
    (other,) = [r for r in caplog.records if "returned str" in r.getMessage()]
    assert other.exc_info is None  # a broken contract: no traceback to show


def test_an_over_budget_correlation_hook_is_dropped_and_the_snapshot_goes_on() -> None:
    registrar = CallbackRegistrar(MODEL)

    def correlate(etype: str, values: dict[str, Any]) -> list[DataPointTask]:
        if values["eid"] == "slow":
            time.sleep(5)
        values["b"] = "seen"
        return [DataPointTask("ip", values["eid"], [dp(values["eid"], "b")])]

    with registrar.module_scope("corr"):
        registrar.register_correlation_hook(correlate, "ip", [["a"]], [["b"]])
    metrics = Metrics(CollectorRegistry())
    hooks = SnapshotHooks(registrar.registry, HookMetrics(metrics), HookBudget(BUDGET))
    entities: dict[tuple[str, Any], dict[str, Any]] = {
        ("ip", eid): {"eid": eid} for eid in ("one", "slow", "two")
    }
    emitted: list[Any] = []
    hooks.run_correlation(entities, lambda key: {}, lambda key, tasks: emitted.append(key))
    assert emitted == [("ip", "one"), ("ip", "two")]
    assert entities[("ip", "one")]["b"] == "seen" and "b" not in entities[("ip", "slow")]
    assert (hooks.failures, hooks.timeouts) == (1, 1)
    timeouts = {"module": "corr", "hook": "correlation_hook"}
    assert sample(metrics, "streamcore_hook_timeouts_total", **timeouts) == 1


def test_healthz_fails_while_a_hook_is_stuck_past_its_budgets() -> None:
    health = Health(liveness_seconds=120)
    since: list[float | None] = [None]
    health.watch_busy("a hook call", lambda: since[0], limit_seconds=30)
    assert health.alive() is None  # idle
    since[0] = time.monotonic() - 10
    assert health.alive() is None  # running, within the limit
    since[0] = time.monotonic() - 45
    problem = health.alive()
    assert problem is not None and "a hook call" in problem and "30 s" in problem


def test_a_budget_tells_when_its_running_call_started() -> None:
    budget = HookBudget(10)
    health = Health()
    health.watch_busy("a hook call", budget.busy_since, limit_seconds=0.01)
    seen: list[str | None] = []

    def slow_hook() -> None:
        time.sleep(0.05)
        seen.append(health.alive())

    budget.call(slow_hook)
    assert seen[0] is not None and "a hook call" in seen[0]
    assert health.alive() is None
