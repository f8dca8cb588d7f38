"""CallbackRegistrar: DP³'s registration methods, checked against the model when called."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from streamcore.errors import (
    DuplicateHookError,
    HookRegistrationError,
    HookTargetKindError,
    ModuleError,
    UnknownHookTargetError,
)
from streamcore.model import DataPointTask, ModelSpec
from streamcore.module import CallbackRegistrar, HookKind, SharedFlag
from streamcore.testing.config import model_spec_from_dicts

OBS = {"type": "observations", "history_params": {"max_age": "1d"}}

MODEL: dict[str, Any] = {
    "ip": {
        "entity": {"id": "ip", "name": "IP", "id_data_type": "ipv4", "snapshot": True},
        "attribs": {
            "hostname": {"name": "h", "data_type": "string", **OBS},
            "label": {"name": "l", "type": "plain", "data_type": "string"},
            "score": {"name": "s", "type": "plain", "data_type": "float"},
            "device": {"name": "d", "data_type": "link<device>", **OBS},
            "traffic": {
                "name": "t",
                "type": "timeseries",
                "timeseries_type": "irregular",
                "series": {"bytes": {"data_type": "int"}},
            },
        },
    },
    "device": {
        "entity": {"id": "device", "name": "Device", "snapshot": True},
        "attribs": {"os": {"name": "os", "type": "plain", "data_type": "string"}},
    },
}


@pytest.fixture
def model() -> ModelSpec:
    return model_spec_from_dicts(MODEL)


@pytest.fixture
def registrar(model: ModelSpec) -> CallbackRegistrar:
    return CallbackRegistrar(model)


def hook(*_args: Any) -> list[DataPointTask]:
    return []


def other_hook(*_args: Any) -> list[DataPointTask]:
    return []


def test_ingestion_hooks_are_recorded_in_order_with_their_context(
    registrar: CallbackRegistrar,
) -> None:
    with registrar.module_scope("mod"):
        registrar.register_task_hook("on_task_start", hook)
        registrar.register_allow_entity_creation_hook(hook, "ip")
        registrar.register_on_entity_creation_hook(hook, entity="ip")
        registrar.register_on_new_attr_hook(hook, "ip", "hostname")
    kinds = [(r.kind, r.entity, r.attr, r.module) for r in registrar.registry.registrations]
    assert kinds == [
        (HookKind.ON_TASK_START, None, None, "mod"),
        (HookKind.ALLOW_ENTITY_CREATION, "ip", None, "mod"),
        (HookKind.ON_ENTITY_CREATION, "ip", None, "mod"),
        (HookKind.ON_NEW_ATTR, "ip", "hostname", "mod"),
    ]


def test_module_name_outside_a_scope_is_the_defining_python_module(
    registrar: CallbackRegistrar,
) -> None:
    registrar.register_task_hook("on_task_start", hook)
    assert registrar.registry.registrations[0].module == __name__


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.register_task_hook("on_task_end", hook), "Hook type 'on_task_end'"),
        (lambda r: r.register_allow_entity_creation_hook(hook, "host"), "Entity 'host'"),
        (lambda r: r.register_on_entity_creation_hook(hook, "host"), "Entity 'host'"),
        (lambda r: r.register_on_new_attr_hook(hook, "ip", "nope"), "ip/nope"),
        (lambda r: r.register_on_new_attr_hook(hook, "host", "a"), "Entity 'host'"),
        (lambda r: r.register_timeseries_hook(hook, "ip", "nope"), "ip/nope"),
        (lambda r: r.register_correlation_hook(hook, "host", [], []), "Entity 'host'"),
        (lambda r: r.register_correlation_hook(hook, "ip", [["nope"]], []), "ip->nope"),
        (lambda r: r.register_correlation_hook(hook, "ip", [], [["label", "x"]]), "not a link"),
        (lambda r: r.register_correlation_hook(hook, "ip", [["device", "x"]], []), "'x'"),
        (lambda r: r.register_periodic_update_hook(hook, "h", "host", "1d"), "Entity 'host'"),
    ],
)
def test_unknown_targets_are_refused(registrar: CallbackRegistrar, call: Any, message: str) -> None:
    with pytest.raises(UnknownHookTargetError, match=message) as info:
        call(registrar)
    assert isinstance(info.value, ModuleError)
    assert isinstance(info.value, ValueError)  # what DP³ modules catch
    assert registrar.registry.registrations == []


def test_timeseries_hook_on_a_non_timeseries_attribute_is_refused(
    registrar: CallbackRegistrar,
) -> None:
    registrar.register_timeseries_hook(hook, "ip", "traffic")
    with pytest.raises(HookTargetKindError, match="'ip.label' is not a timeseries, but plain"):
        registrar.register_timeseries_hook(hook, "ip", "label")


@pytest.mark.parametrize(
    "register",
    [
        lambda r, h: r.register_task_hook("on_task_start", h),
        lambda r, h: r.register_allow_entity_creation_hook(h, "ip"),
        lambda r, h: r.register_on_entity_creation_hook(h, "ip"),
        lambda r, h: r.register_on_new_attr_hook(h, "ip", "label"),
        lambda r, h: r.register_timeseries_hook(h, "ip", "traffic"),
        lambda r, h: r.register_correlation_hook(h, "ip", [["label"]], [["score"]]),
        lambda r, h: r.register_snapshot_init_hook(h),
        lambda r, h: r.register_snapshot_finalize_hook(h),
    ],
)
def test_the_same_callback_twice_in_the_same_context_is_a_duplicate(
    registrar: CallbackRegistrar, register: Any
) -> None:
    register(registrar, hook)
    register(registrar, other_hook)
    with registrar.module_scope("mod"), pytest.raises(DuplicateHookError, match="mod: hook"):
        register(registrar, hook)


def test_the_same_callback_in_other_contexts_is_fine(registrar: CallbackRegistrar) -> None:
    registrar.register_on_new_attr_hook(hook, "ip", "label")
    registrar.register_on_new_attr_hook(hook, "ip", "hostname")
    registrar.register_on_entity_creation_hook(hook, "ip")
    registrar.register_on_entity_creation_hook(hook, "device")
    registrar.register_allow_entity_creation_hook(hook, "ip")
    assert len(registrar.registry.registrations) == 5


def test_bound_methods_of_one_object_are_duplicates(registrar: CallbackRegistrar) -> None:
    class Module:
        def on_label(self, eid: Any, dp: Any) -> None:
            return None

    module = Module()
    registrar.register_on_new_attr_hook(module.on_label, "ip", "label")
    registrar.register_on_new_attr_hook(Module().on_label, "ip", "label")  # another object
    with pytest.raises(DuplicateHookError):
        registrar.register_on_new_attr_hook(module.on_label, "ip", "label")
    assert registrar.registry.registrations[0].module == "Module"


def test_not_callable_is_refused(registrar: CallbackRegistrar) -> None:
    with pytest.raises(HookRegistrationError, match="not callable"):
        registrar.register_task_hook("on_task_start", "hook")  # type: ignore[arg-type]


def test_deprecated_forms_warn_and_register(registrar: CallbackRegistrar) -> None:
    with pytest.warns(DeprecationWarning):
        registrar.register_entity_hook("on_entity_creation", hook, "ip")
    with pytest.warns(DeprecationWarning):
        registrar.register_attr_hook("on_new_observation", hook, "ip", "hostname")
    with pytest.warns(DeprecationWarning), pytest.raises(UnknownHookTargetError):
        registrar.register_attr_hook("on_new_plain", hook, "ip", "hostname")
    kinds = [r.kind for r in registrar.registry.registrations]
    assert kinds == [HookKind.ON_ENTITY_CREATION, HookKind.ON_NEW_ATTR]


def test_refresh_needs_may_change(registrar: CallbackRegistrar) -> None:
    with pytest.raises(HookRegistrationError, match="'may_change' must be specified"):
        registrar.register_on_entity_creation_hook(hook, "ip", refresh=SharedFlag())


def test_refresh_adds_a_correlation_rerun_and_a_finalize_unset(
    registrar: CallbackRegistrar,
) -> None:
    flag = SharedFlag()
    derived = DataPointTask("ip", "1.2.3.4", [])

    def on_label(eid: Any, task: DataPointTask) -> list[DataPointTask]:
        from streamcore.model import DataPoint

        assert task.data_points == []  # a synthetic, empty task
        return [DataPointTask("ip", eid, [DataPoint("ip", eid, "score", 0.5)]), derived]

    registrar.register_on_new_attr_hook(
        on_label, "ip", "label", refresh=flag, may_change=[["score"]]
    )
    (rerun,) = registrar.registry.correlation_hooks("ip")
    assert rerun.depends_on == (("label",),) and rerun.may_change == (("score",),)
    assert rerun.name.endswith("on_label")
    record: dict[str, Any] = {"eid": "1.2.3.4"}
    assert rerun.callback("ip", record) == []  # flag not set: nothing to do
    flag.set()
    assert len(rerun.callback("ip", record)) == 2
    assert record == {"eid": "1.2.3.4", "score": 0.5}
    (finalize,) = registrar.registry.hooks(HookKind.SNAPSHOT_FINALIZE)
    assert finalize.callback() == []
    assert not flag.isset()


def test_periodic_hooks(registrar: CallbackRegistrar) -> None:
    registrar.register_periodic_update_hook(hook, "refresh", "ip", "1d")
    registrar.register_periodic_eid_update_hook(hook, "refresh", "ip", timedelta(hours=1))
    registrar.register_periodic_update_hook(other_hook, "refresh", "ip", "2d")  # other thread
    with pytest.raises(DuplicateHookError, match="Hook ID refresh already registered for ip"):
        registrar.register_periodic_update_hook(other_hook, "refresh", "ip", 86400)
    with pytest.raises(HookRegistrationError, match="at least the update batch period"):
        registrar.register_periodic_update_hook(hook, "fast", "ip", "1m")
    with pytest.raises(HookRegistrationError, match="expected a duration"):
        registrar.register_periodic_update_hook(hook, "bad", "ip", "daily")
    periods = [(r.kind, r.hook_id, r.period) for r in registrar.registry.periodic_hooks()]
    assert periods == [
        (HookKind.PERIODIC_UPDATE, "refresh", timedelta(days=1)),
        (HookKind.PERIODIC_EID_UPDATE, "refresh", timedelta(hours=1)),
        (HookKind.PERIODIC_UPDATE, "refresh", timedelta(days=2)),
    ]


def test_scheduler_register_returns_job_ids_and_checks_fields(
    registrar: CallbackRegistrar,
) -> None:
    calls: list[Any] = []
    first = registrar.scheduler_register(
        calls.append, func_args=["tick"], minute="*/10", second=0, day_of_week="mon-fri"
    )
    second = registrar.scheduler_register_once(calls.append, func_kwargs={})
    assert (first, second) == (1, 2)
    jobs = registrar.registry.scheduled_jobs
    assert jobs[0].fields == {"minute": "*/10", "second": 0, "day_of_week": "mon-fri"}
    assert jobs[1].once
    jobs[0].run()
    assert calls == ["tick"]


@pytest.mark.parametrize(
    "fields",
    [
        {"minute": 60},
        {"hour": "25"},
        {"minute": "*/x"},
        {"day_of_week": "funday"},
        {"month": "jan-foo"},
        {"second": 1.5},
        {"timezone": "Mars/Olympus"},
    ],
)
def test_scheduler_register_refuses_bad_fields(
    registrar: CallbackRegistrar, fields: dict[str, Any]
) -> None:
    with pytest.raises(HookRegistrationError, match="scheduler_register"):
        registrar.scheduler_register(hook, **fields)


def test_scheduler_accepts_apscheduler_forms(registrar: CallbackRegistrar) -> None:
    registrar.scheduler_register(hook, day="last", month="jan,jul", hour="1-5/2", year=2030)
    registrar.scheduler_register(hook, day="2nd fri", timezone="Europe/Prague")
    assert len(registrar.registry.scheduled_jobs) == 2
