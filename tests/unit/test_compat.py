"""DP³ compatibility: an unchanged DP³ module (tests/dp3_modules) loads and runs."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from streamcore import DataPoint, DataPointTask
from streamcore.errors import ModuleLoadError
from streamcore.module import HookKind, load_modules
from streamcore.module.compat import install_dp3_compat, is_installed, uninstall_dp3_compat
from streamcore.testing import ModuleHarness, model_spec_from_dicts, platform_config_for

DP3_MODULES = Path(__file__).parents[1] / "dp3_modules"
OBS = {"type": "observations", "history_params": {}}
MODEL: dict[str, Any] = {
    "ip": {
        "entity": {"id": "ip", "name": "IP", "id_data_type": "ipv4", "snapshot": True},
        "attribs": {
            "hostname": {"name": "h", "data_type": "string", **OBS},
            "label": {"name": "l", "type": "plain", "data_type": "string"},
        },
    },
}
CONFIG = {
    "processing_core": {"modules_dir": str(DP3_MODULES), "enabled_modules": ["dp3_tagger"]},
    "modules": {"dp3_tagger": {"suffix": ".corp"}},
}
T1 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def compat() -> Iterator[None]:
    assert install_dp3_compat()
    yield
    uninstall_dp3_compat()


def test_dp3_common_paths_are_streamcores(compat: None) -> None:
    from streamcore.common import base_module, task

    assert importlib.import_module("dp3.common.base_module") is base_module
    assert importlib.import_module("dp3.common.task").DataPointTask is task.DataPointTask
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("dp3.worker")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("dp3.common.nothing_like_this")


def test_uninstall_forgets_the_aliases(compat: None) -> None:
    importlib.import_module("dp3.common.config")
    uninstall_dp3_compat()
    assert not is_installed()
    assert not any(name == "dp3" or name.startswith("dp3.") for name in sys.modules)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("dp3.common.config")
    assert install_dp3_compat()  # the fixture uninstalls again


def test_without_compat_a_dp3_module_fails_to_load_clearly() -> None:
    uninstall_dp3_compat()
    platform = platform_config_for(model_spec_from_dicts(MODEL), config=CONFIG)
    with pytest.raises(ModuleLoadError, match="module 'dp3_tagger': import of .* No module"):
        load_modules(platform)


def test_an_unchanged_dp3_module_loads_and_runs(compat: None) -> None:
    platform = platform_config_for(model_spec_from_dicts(MODEL), config=CONFIG)
    registrar, modules = load_modules(platform, dp3_compat=True)
    module = modules["dp3_tagger"]
    assert module.suffix == ".corp"  # type: ignore[attr-defined]
    kinds = [r.kind for r in registrar.registry.registrations]
    assert kinds == [
        HookKind.ON_NEW_ATTR,
        HookKind.ON_ENTITY_CREATION,
        HookKind.CORRELATION,  # the refresh re-run
        HookKind.SNAPSHOT_FINALIZE,
        HookKind.PERIODIC_EID_UPDATE,
    ]
    registrar.registry.scheduled_jobs[0].run()
    assert module.reloads == 1  # type: ignore[attr-defined]

    harness = ModuleHarness(platform)
    harness.load(type(module), {"suffix": ".corp"})
    dp = DataPoint("ip", "10.0.0.1", "hostname", "db.corp", t1=T1, src="test")
    run = harness.send(DataPointTask("ip", "10.0.0.1", [dp]))
    assert run.datapoint(attr="label").v == "internal"
    run = harness.send(DataPointTask("ip", "10.0.0.2", [DataPoint("ip", "10.0.0.2", "label", "x")]))
    assert run.datapoint(attr="label", src="dp3_tagger").v == "new"


def test_dp3_tasks_validate_as_dp3_does(compat: None) -> None:
    """Inside task_context against its model; outside it against the application's model
    (set by the loader), else refused as DP³ refuses it; errors are ValueErrors (DP³)."""
    from dp3.common.task import DataPointTask as Dp3Task
    from dp3.common.task import task_context, use_model_spec

    model = model_spec_from_dicts(MODEL)
    with task_context(model):
        task = Dp3Task(etype="ip", eid="10.0.0.1", data_points=[{"attr": "label", "v": "a"}])
        with pytest.raises(ValueError, match="unknown attribute 'nope'"):
            Dp3Task(etype="ip", eid="10.0.0.1", data_points=[{"attr": "nope", "v": 1}])
    assert isinstance(task, DataPointTask)
    assert str(task.eid) == "10.0.0.1" and task.data_points[0].etype == "ip"
    with pytest.raises(ValueError, match="Missing `model_spec` in context"):
        Dp3Task(etype="ip", eid="x", data_points=[{"attr": "label", "v": "a"}])
    use_model_spec(model)
    try:
        with pytest.raises(ValueError, match="unknown attribute 'nope'"):
            Dp3Task(etype="ip", eid="10.0.0.1", data_points=[{"attr": "nope"}])
        assert Dp3Task(etype="ip", eid="10.0.0.1", data_points=[{"attr": "label", "v": "a"}])
    finally:
        use_model_spec(None)


def test_dp3_module_building_tasks_without_task_context_runs_in_the_engine(
    compat: None,
) -> None:
    """As in DP³'s workers, a hook may build tasks without task_context: the application's
    model validates them; the derived per-kind data-points encode like any other."""
    from dp3.common.base_module import BaseModule as Dp3Base
    from dp3.common.datapoint import DataPointPlainBase
    from dp3.common.task import DataPointTask as Dp3Task

    from streamcore.codec.tasks import TaskEncoder

    class Plain(Dp3Base):
        def __init__(self, platform_config: Any, module_config: dict, registrar: Any) -> None:
            super().__init__(platform_config, module_config, registrar)
            registrar.register_on_new_attr_hook(self.on_hostname, "ip", "hostname")

        def on_hostname(self, eid: Any, dp: Any) -> list[Any]:
            return [Dp3Task(etype="ip", eid=eid, data_points=[{"attr": "label", "v": dp.v}])]

    harness = ModuleHarness(platform_config_for(model_spec_from_dicts(MODEL)))
    harness.load(Plain, {})
    dp = DataPoint("ip", "10.0.0.1", "hostname", "db.corp", t1=T1)
    run = harness.send(DataPointTask("ip", "10.0.0.1", [dp]))
    derived = run.task(etype="ip")
    assert type(derived.data_points[0]) is DataPointPlainBase
    assert run.datapoint(attr="label").v == "db.corp"
    assert TaskEncoder(harness.model_spec).encode(derived)
