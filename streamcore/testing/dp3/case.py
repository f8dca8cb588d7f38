"""``dp3.testing.case``: ``DP3ModuleTestCase``, a unittest base class for module tests.

Lifecycle (``setUp``): resolve the configuration directory (``config_dir`` or
``$DP3_CONFIG_DIR``), read it, build the model and the ``PlatformConfig``, make a
``TestCallbackRegistrar`` and construct ``module_class`` with it and its configuration
(``module_config``, else ``modules.<module file name>``). Tests then build data-points
with ``make_*``, call hooks with ``run_*`` and check with the assertions.
"""

from __future__ import annotations

import copy
import unittest
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from streamcore.common.config import HierarchicalDict
from streamcore.common.task import DataPointTask, task_context
from streamcore.common.utils import get_func_name
from streamcore.config import PlatformConfig
from streamcore.model.datapoint import DataPoint
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecTimeseries
from streamcore.module.base import BaseModule
from streamcore.testing.dp3.assertions import ModuleAssertions
from streamcore.testing.dp3.config import (
    CONFIG_DIR_ENV,
    build_model_spec,
    build_platform_config,
    get_module_config,
    load_config,
    resolve_config_dir,
)
from streamcore.testing.dp3.registrar import HookRegistration, TestCallbackRegistrar

ModuleT = TypeVar("ModuleT", bound=BaseModule)


class DP3ModuleTestCase(ModuleAssertions, unittest.TestCase, Generic[ModuleT]):
    """Base class for unit tests of DP³ secondary modules (see the module docstring)."""

    config_dir: str | None = None
    config_env_var: str = CONFIG_DIR_ENV
    module_class: type[ModuleT]
    module_name: str | None = None
    module_config: dict[str, Any] | None = None
    app_name: str = "test"
    process_index: int = 0
    num_processes: int = 1
    module: ModuleT

    def setUp(self) -> None:
        super().setUp()
        self.config_base_path = self.resolve_config_dir()
        self.config = self.load_config()
        self.model_spec = self.make_model_spec(self.config)
        self.platform_config = self.make_platform_config()
        self.registrar = self.make_registrar()
        self.module = self.make_module(self.module_class, self.get_module_config(), self.registrar)

    def resolve_config_dir(self) -> str:
        return resolve_config_dir(self.config_dir, self.config_env_var)

    def load_config(self) -> HierarchicalDict:
        return load_config(self.config_base_path, self.config_env_var)

    def make_model_spec(self, config: HierarchicalDict) -> ModelSpec:
        return build_model_spec(config)

    def make_platform_config(self) -> PlatformConfig:
        return build_platform_config(
            self.config,
            self.model_spec,
            self.config_base_path,
            app_name=self.app_name,
            process_index=self.process_index,
            num_processes=self.num_processes,
            env_var=self.config_env_var,
        )

    def get_module_config(self) -> dict[str, Any]:
        if self.module_config is not None:
            return copy.deepcopy(self.module_config)
        return copy.deepcopy(get_module_config(self.config, self.get_module_name()))

    def get_module_name(self) -> str | None:
        if self.module_name is not None:
            return self.module_name
        return self.module_class.__module__.split(".")[-1]

    def make_registrar(self) -> TestCallbackRegistrar:
        period = self.config.get("updater.update_batch_period", None)
        return TestCallbackRegistrar(self.model_spec, update_batch_period=period)

    def make_module(
        self,
        module_class: type[ModuleT],
        module_config: dict[str, Any],
        registrar: TestCallbackRegistrar,
    ) -> ModuleT:
        return module_class(self.platform_config, module_config, registrar)

    # -- building tasks and data-points --------------------------------------------------

    def make_task(  # noqa: PLR0917 (DP³'s signature)
        self,
        etype: str,
        eid: Any,
        data_points: list[Any] | None = None,
        tags: list[Any] | None = None,
        ttl_tokens: dict[str, Any] | None = None,
        delete: bool = False,
    ) -> DataPointTask:
        """A task validated against the model (``ValidationError`` if invalid)."""
        with task_context(self.model_spec):
            return DataPointTask(
                etype=etype,
                eid=eid,
                data_points=data_points or [],
                tags=tags or [],
                ttl_tokens=ttl_tokens,
                delete=delete,
            )

    def _make_datapoint(
        self, etype: str, eid: Any, attr: str, v: Any, src: str = "test", **fields: Any
    ) -> DataPoint:
        point = {"etype": etype, "eid": eid, "attr": attr, "src": src, "v": v, **fields}
        return self.make_task(etype, eid, [point]).data_points[0]

    def make_plain_datapoint(
        self, etype: str, eid: Any, attr: str, v: Any, src: str = "test", **fields: Any
    ) -> DataPoint:
        return self._make_datapoint(etype, eid, attr, v, src=src, **fields)

    def make_observation_datapoint(  # noqa: PLR0917 (DP³'s signature)
        self,
        etype: str,
        eid: Any,
        attr: str,
        v: Any,
        src: str = "test",
        t1: datetime | None = None,
        t2: datetime | None = None,
        c: float = 1.0,
        **fields: Any,
    ) -> DataPoint:
        data: dict[str, Any] = {"t1": t1 or datetime.now(UTC), "c": c, **fields}
        if t2 is not None:
            data["t2"] = t2
        return self._make_datapoint(etype, eid, attr, v, src=src, **data)

    def make_timeseries_datapoint(  # noqa: PLR0917 (DP³'s signature)
        self,
        etype: str,
        eid: Any,
        attr: str,
        v: Mapping[str, Sequence[Any]],
        src: str = "test",
        t1: datetime | None = None,
        t2: datetime | None = None,
        **fields: Any,
    ) -> DataPoint:
        """A timeseries chunk; for a regular series ``t2`` defaults to ``t1`` plus one
        ``time_step`` per sample, for irregular ones ``t1`` to the first time."""
        spec = self.model_spec.attributes[etype, attr]
        if not isinstance(spec, AttrSpecTimeseries):
            raise ValueError(f"Attribute {etype}/{attr} is not a timeseries attribute.")
        values = dict(v)
        first = {"irregular": "time", "irregular_intervals": "time_first"}.get(spec.timeseries_type)
        if t1 is None and first and values.get(first):
            t1 = values[first][0]
        t1 = t1 or datetime.now(UTC)
        if t2 is None and spec.timeseries_type == "regular":
            step = spec.timeseries_params.time_step
            if step is None:
                raise ValueError(f"Regular timeseries attribute {etype}/{attr} has no time_step.")
            if not values:
                raise ValueError("Timeseries datapoint values cannot be empty.")
            t2 = t1 + len(next(iter(values.values()))) * step
        data: dict[str, Any] = {"t1": t1, **fields}
        if t2 is not None:
            data["t2"] = t2
        return self._make_datapoint(etype, eid, attr, values, src=src, **data)

    # -- running hooks -------------------------------------------------------------------

    def run_task_hooks(self, hook_type: str, task: DataPointTask) -> None:
        self.registrar.run_task_hooks(hook_type, task)

    def run_allow_entity_creation(
        self, entity: str, eid: Any, task: DataPointTask | None = None
    ) -> bool:
        return self.registrar.run_allow_entity_creation(
            entity, eid, task or self._synthetic_task(entity, eid)
        )

    def run_on_entity_creation(
        self, entity: str, eid: Any, task: DataPointTask | None = None
    ) -> list[DataPointTask]:
        return self.registrar.run_on_entity_creation(
            entity, eid, task or self._synthetic_task(entity, eid)
        )

    def _synthetic_task(self, etype: str, eid: Any) -> DataPointTask:
        with task_context(self.model_spec, allow_empty_data_point_task=True):
            return DataPointTask(etype=etype, eid=eid)

    def run_on_new_attr(
        self, entity: str, attr: str, eid: Any, dp: DataPoint
    ) -> list[DataPointTask]:
        return self.registrar.run_on_new_attr(entity, attr, eid, dp)

    def run_correlation_hooks(
        self, entity_type: str, record: dict[str, Any], master_record: dict[str, Any] | None = None
    ) -> list[DataPointTask]:
        return self.registrar.run_correlation_hooks(entity_type, record, master_record)

    def run_periodic_update(
        self, entity_type: str, eid: Any, master_record: dict[str, Any], hook_id: str | None = None
    ) -> list[DataPointTask]:
        return self.registrar.run_periodic_update(entity_type, eid, master_record, hook_id)

    def run_periodic_eid_update(
        self, entity_type: str, eid: Any, hook_id: str | None = None
    ) -> list[DataPointTask]:
        return self.registrar.run_periodic_eid_update(entity_type, eid, hook_id)

    def run_scheduler_job(self, job: int | str | Callable[..., Any] | HookRegistration) -> Any:
        return self.registrar.run_scheduler_job(job)

    # -- registration assertions ---------------------------------------------------------

    def registered(self, kind: str | None = None, **fields: Any) -> list[HookRegistration]:
        """Registrations of ``kind`` whose given fields match (``func``/``hook`` by name)."""
        return [
            reg
            for reg in self.registrar.registrations
            if (kind is None or reg.kind == kind) and self._fields_match(reg, fields)
        ]

    def assert_registered(self, kind: str, **fields: Any) -> HookRegistration:
        matches = self.registered(kind, **fields)
        if not matches:
            self.fail(
                f"No registration matched kind={kind!r}, fields={fields!r}. "
                f"Registered callbacks: {self.registrar.registrations!r}"
            )
        return matches[0]

    def assert_registered_once(self, kind: str, **fields: Any) -> HookRegistration:
        matches = self.registered(kind, **fields)
        if len(matches) != 1:
            self.fail(
                f"Expected one registration matching kind={kind!r}, fields={fields!r}; "
                f"found {len(matches)}: {matches!r}"
            )
        return matches[0]

    def assert_registered_attrs(
        self,
        entity: str,
        expected_attrs: Iterable[str],
        *,
        kind: str = "on_new_attr",
        exact: bool = True,
    ) -> list[HookRegistration]:
        expected = set(expected_attrs)
        matches = self.registered(kind, entity=entity)
        actual = {reg.attr for reg in matches if reg.attr is not None}
        if exact:
            self.assertEqual(expected, actual)
        elif missing := expected - actual:
            self.fail(f"Missing registrations for attributes: {sorted(missing)!r}")
        return [reg for reg in matches if reg.attr in expected]

    def assert_scheduler_registered(self, **fields: Any) -> HookRegistration:
        return self.assert_registered("scheduler", **fields)

    assertRegistered = assert_registered  # noqa: N815 (DP³'s aliases)
    assertRegisteredOnce = assert_registered_once  # noqa: N815
    assertRegisteredAttrs = assert_registered_attrs  # noqa: N815
    assertSchedulerRegistered = assert_scheduler_registered  # noqa: N815

    def _fields_match(self, reg: HookRegistration, fields: dict[str, Any]) -> bool:
        for key, expected in fields.items():
            found, actual = _field(reg, key)
            if not found:
                return False
            if key in {"hook", "func"} and isinstance(expected, str):
                name = get_func_name(actual)
                if name != expected and not name.endswith(f".{expected}"):
                    return False
            elif not self._partial_match(actual, expected):
                return False
        return True


def _field(reg: HookRegistration, key: str) -> tuple[bool, Any]:
    if key == "func":
        return True, reg.hook
    if hasattr(reg, key):
        return True, getattr(reg, key)
    if key in reg.extra:
        return True, reg.extra[key]
    schedule = reg.extra.get("schedule") or {}
    if key in schedule:
        return True, schedule[key]
    return False, None


__all__ = ["DP3ModuleTestCase", "ModuleT"]
