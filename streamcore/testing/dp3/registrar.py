"""``dp3.testing.registrar``: streamcore's registrar, keeping DP³-shaped registrations and
running hooks directly.

Every registration goes through streamcore's ``CallbackRegistrar`` (the checks production
makes, the correlation dependency order) and is also recorded as a DP³ ``HookRegistration``
(``kind`` is DP³'s test kind name: ``"task"``, ``"on_new_attr"``, ``"correlation"``,
``"scheduler"`` ...). The ``run_*`` methods call the registered hooks directly, inside
``task_context``, letting exceptions through (DP³'s test semantics).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from streamcore.common.task import DataPointTask, task_context
from streamcore.common.utils import get_func_name
from streamcore.model.datapoint import DataPoint
from streamcore.model.modelspec import ModelSpec
from streamcore.model.primitives import parse_duration
from streamcore.module.hooks import ON_NEW_HOOK_BY_ATTR_TYPE, HookKind
from streamcore.module.hooks import HookRegistration as _Registration
from streamcore.module.registrar import CallbackRegistrar

_KIND_NAMES = {
    HookKind.ON_TASK_START: "task",
    HookKind.ALLOW_ENTITY_CREATION: "allow_entity_creation",
    HookKind.ON_ENTITY_CREATION: "on_entity_creation",
    HookKind.ON_NEW_ATTR: "on_new_attr",
    HookKind.TIMESERIES: "timeseries",
    HookKind.CORRELATION: "correlation",
    HookKind.CORRELATION_WITH_MASTER_RECORD: "correlation_with_master_record",
    HookKind.SNAPSHOT_INIT: "snapshot_init",
    HookKind.SNAPSHOT_FINALIZE: "snapshot_finalize",
    HookKind.PERIODIC_UPDATE: "periodic_update",
    HookKind.PERIODIC_EID_UPDATE: "periodic_eid_update",
}


@dataclass
class HookRegistration:
    """A callback registration a module made, as DP³'s test registrar records it."""

    kind: str
    hook: Callable[..., Any]
    entity: str | None = None
    attr: str | None = None
    hook_type: str | None = None
    hook_id: str | None = None
    entity_type: str | None = None
    attr_type: str | None = None
    depends_on: list[list[str]] = field(default_factory=list)
    may_change: list[list[str]] = field(default_factory=list)
    refresh: Any = None
    period: Any = None
    deprecated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class TestCallbackRegistrar(CallbackRegistrar):
    """Registrar for module unit tests; ``registrations`` lists what was registered."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        model_spec: ModelSpec,
        log: logging.Logger | None = None,
        update_batch_period: Any = None,
    ) -> None:
        # DP³'s test registrar checks updater periods only against a configured batch period.
        period = (
            timedelta(0) if update_batch_period is None else parse_duration(update_batch_period)
        )
        super().__init__(model_spec, period)
        self.log = log or logging.getLogger(self.__class__.__name__)
        self.update_batch_period = update_batch_period
        self.registrations: list[HookRegistration] = []
        self._scheduler_jobs: list[HookRegistration] = []

    # -- recording ---------------------------------------------------------------------

    def _add(self, kind: HookKind, hook: Callable[..., Any], **context: Any) -> None:
        super()._add(kind, hook, **context)
        self.registrations.append(self._record(_Registration(kind, hook, "test", **context)))

    def _record(self, reg: _Registration) -> HookRegistration:
        name = _KIND_NAMES[reg.kind]
        if reg.kind is HookKind.ON_TASK_START:
            return HookRegistration(name, reg.callback, hook_type="on_task_start")
        if reg.kind is HookKind.ON_NEW_ATTR:
            attr_type = self.model_spec.attr(str(reg.entity), str(reg.attr)).t
            hook_type = ON_NEW_HOOK_BY_ATTR_TYPE[attr_type]
            return HookRegistration(
                name, reg.callback, entity=reg.entity, attr=reg.attr, hook_type=hook_type
            )
        if reg.kind in (HookKind.ALLOW_ENTITY_CREATION, HookKind.ON_ENTITY_CREATION):
            return HookRegistration(name, reg.callback, entity=reg.entity)
        if reg.kind is HookKind.TIMESERIES:
            return HookRegistration(name, reg.callback, entity_type=reg.entity, attr_type=reg.attr)
        if reg.kind in (HookKind.CORRELATION, HookKind.CORRELATION_WITH_MASTER_RECORD):
            hook_id = get_func_name(reg.callback)
            return HookRegistration(
                name,
                reg.callback,
                hook_id=hook_id,
                entity_type=reg.entity,
                depends_on=[list(p) for p in reg.depends_on],
                may_change=[list(p) for p in reg.may_change],
            )
        if reg.kind in (HookKind.PERIODIC_UPDATE, HookKind.PERIODIC_EID_UPDATE):
            return HookRegistration(
                name, reg.callback, hook_id=reg.hook_id, entity_type=reg.entity, period=reg.period
            )
        return HookRegistration(name, reg.callback)

    @contextmanager
    def _amend(self, **fields: Any) -> Iterator[None]:
        """Set ``fields`` on the first registration recorded inside the block."""
        start = len(self.registrations)
        yield
        if len(self.registrations) > start:
            for key, value in fields.items():
                setattr(self.registrations[start], key, value)

    @contextmanager
    def _all_deprecated(self) -> Iterator[None]:
        start = len(self.registrations)
        yield
        for reg in self.registrations[start:]:
            reg.deprecated = True

    # -- registration methods whose DP³ record holds more than streamcore keeps ----------

    def scheduler_register(self, func: Callable[..., Any], **kwargs: Any) -> int:
        job_id = super().scheduler_register(func, **kwargs)
        schedule = {
            name: kwargs.get(name)
            for name in ("year", "month", "day", "week", "day_of_week", "hour", "minute")
        }
        schedule["second"] = kwargs.get("second")
        schedule["timezone"] = kwargs.get("timezone", "UTC")
        schedule["misfire_grace_time"] = kwargs.get("misfire_grace_time", 1)
        self._add_job_record(func, kwargs, job_id, {"schedule": schedule})
        return job_id

    def scheduler_register_once(self, func: Callable[..., Any], **kwargs: Any) -> int:
        job_id = super().scheduler_register_once(func, **kwargs)
        grace = kwargs.get("misfire_grace_time", 60)
        extra = {"schedule": None, "misfire_grace_time": grace, "one_time": True}
        self._add_job_record(func, kwargs, job_id, extra)
        return job_id

    def _add_job_record(
        self, func: Callable[..., Any], kwargs: dict[str, Any], job_id: int, extra: dict[str, Any]
    ) -> None:
        reg = HookRegistration(
            kind="scheduler",
            hook=func,
            extra={
                "func_args": list(kwargs.get("func_args") or []),
                "func_kwargs": dict(kwargs.get("func_kwargs") or {}),
                **extra,
                "job_id": job_id,
            },
        )
        self.registrations.append(reg)
        self._scheduler_jobs.append(reg)

    def register_on_entity_creation_hook(
        self,
        hook: Callable[..., Any],
        entity: str,
        refresh: Any = None,
        may_change: list[list[str]] | None = None,
    ) -> None:
        with self._amend(refresh=refresh, may_change=copy.deepcopy(may_change or [])):
            super().register_on_entity_creation_hook(hook, entity, refresh, may_change)

    def register_on_new_attr_hook(
        self,
        hook: Callable[..., Any],
        entity: str,
        attr: str,
        refresh: Any = None,
        may_change: list[list[str]] | None = None,
    ) -> None:
        with self._amend(refresh=refresh, may_change=copy.deepcopy(may_change or [])):
            super().register_on_new_attr_hook(hook, entity, attr, refresh, may_change)

    def register_entity_hook(self, hook_type: str, hook: Callable[..., Any], entity: str) -> None:
        with self._all_deprecated():
            super().register_entity_hook(hook_type, hook, entity)

    def register_attr_hook(
        self, hook_type: str, hook: Callable[..., Any], entity: str, attr: str
    ) -> None:
        with self._all_deprecated():
            super().register_attr_hook(hook_type, hook, entity, attr)

    def register_periodic_update_hook(
        self, hook: Callable[..., Any], hook_id: str, entity_type: str, period: Any
    ) -> None:
        with self._amend(period=period):
            super().register_periodic_update_hook(hook, hook_id, entity_type, period)

    def register_periodic_eid_update_hook(
        self, hook: Callable[..., Any], hook_id: str, entity_type: str, period: Any
    ) -> None:
        with self._amend(period=period):
            super().register_periodic_eid_update_hook(hook, hook_id, entity_type, period)

    # -- runners -----------------------------------------------------------------------

    def _hooks(
        self, kind: HookKind, entity: str | None = None, attr: str | None = None
    ) -> list[Any]:
        return [
            reg
            for reg in self.registry.hooks(kind)
            if (entity is None or reg.entity == entity) and (attr is None or reg.attr == attr)
        ]

    def run_task_hooks(self, hook_type: str, task: DataPointTask) -> None:
        for reg in self._hooks(HookKind(hook_type)):
            reg.callback(task)

    def run_allow_entity_creation(self, entity: str, eid: Any, task: DataPointTask) -> bool:
        return all(
            reg.callback(eid, task) for reg in self._hooks(HookKind.ALLOW_ENTITY_CREATION, entity)
        )

    def run_on_entity_creation(
        self, entity: str, eid: Any, task: DataPointTask
    ) -> list[DataPointTask]:
        hooks = self._hooks(HookKind.ON_ENTITY_CREATION, entity)
        return self._collect(reg.callback for reg in hooks)(eid, task)

    def run_on_new_attr(
        self, entity: str, attr: str, eid: Any, dp: DataPoint
    ) -> list[DataPointTask]:
        hooks = self._hooks(HookKind.ON_NEW_ATTR, entity, attr)
        return self._collect(reg.callback for reg in hooks)(eid, dp)

    def run_timeseries_hook(
        self, entity_type: str, attr_type: str, attr_history: list[dict[str, Any]]
    ) -> list[DataPointTask]:
        hooks = self._hooks(HookKind.TIMESERIES, entity_type, attr_type)
        return self._collect(reg.callback for reg in hooks)(entity_type, attr_type, attr_history)

    def run_correlation_hooks(
        self, entity_type: str, record: dict[str, Any], master_record: dict[str, Any] | None = None
    ) -> list[DataPointTask]:
        eid = _record_eid(record)
        return self.run_correlation_hooks_for_entities(
            {(entity_type, eid): record}, {(entity_type, eid): master_record or {}}
        )

    def run_correlation_hooks_for_entities(
        self,
        entities: dict[tuple[str, Any], dict[str, Any]],
        master_records: dict[tuple[str, Any], dict[str, Any]] | None = None,
    ) -> list[DataPointTask]:
        """Every entity's correlation hooks, in production's dependency order."""
        master_records = master_records or {}
        for etype, _ in entities:
            self._entity(etype)
        for record in entities.values():
            _record_eid(record)
        types = {etype for etype, _ in entities}
        tasks: list[DataPointTask] = []
        with task_context(self.model_spec):
            for reg in self.registry.correlation_hooks():
                if reg.entity not in types:
                    continue
                for key, record in entities.items():
                    if key[0] != reg.entity:
                        continue
                    if reg.kind is HookKind.CORRELATION_WITH_MASTER_RECORD:
                        result = reg.callback(reg.entity, record, master_records.get(key, {}))
                    else:
                        result = reg.callback(reg.entity, record)
                    if result:
                        tasks.extend(result)
        return tasks

    def run_snapshot_init_hooks(self) -> list[DataPointTask]:
        return self._collect(reg.callback for reg in self._hooks(HookKind.SNAPSHOT_INIT))()

    def run_snapshot_finalize_hooks(self) -> list[DataPointTask]:
        return self._collect(reg.callback for reg in self._hooks(HookKind.SNAPSHOT_FINALIZE))()

    def run_periodic_update(
        self,
        entity_type: str,
        eid: Any,
        master_record: dict[str, Any],
        hook_id: str | None = None,
    ) -> list[DataPointTask]:
        hooks = self._periodic(HookKind.PERIODIC_UPDATE, entity_type, hook_id)
        return self._collect(reg.callback for reg in hooks)(entity_type, eid, master_record)

    def run_periodic_eid_update(
        self, entity_type: str, eid: Any, hook_id: str | None = None
    ) -> list[DataPointTask]:
        hooks = self._periodic(HookKind.PERIODIC_EID_UPDATE, entity_type, hook_id)
        return self._collect(reg.callback for reg in hooks)(entity_type, eid)

    def get_scheduler_job(
        self, job: int | str | Callable[..., Any] | HookRegistration
    ) -> HookRegistration:
        """A scheduler job by id, registration, callable or callable name (``ValueError``)."""
        if isinstance(job, int):
            for reg in self._scheduler_jobs:
                if reg.extra["job_id"] == job:
                    return reg
            raise ValueError(f"No scheduler job has id {job!r}.")
        if isinstance(job, HookRegistration):
            if job.kind != "scheduler":
                raise ValueError(f"Registration kind '{job.kind}' is not a scheduler job.")
            return job
        matches = [reg for reg in self._scheduler_jobs if callable_matches(reg.hook, job)]
        if len(matches) != 1:
            what = "No scheduler job matches" if not matches else "Multiple scheduler jobs match"
            raise ValueError(f"{what} {job!r}.")
        return matches[0]

    def run_scheduler_job(self, job: int | str | Callable[..., Any] | HookRegistration) -> Any:
        reg = self.get_scheduler_job(job)
        return reg.hook(*reg.extra["func_args"], **reg.extra["func_kwargs"])

    def _periodic(self, kind: HookKind, entity_type: str, hook_id: str | None) -> list[Any]:
        return [
            reg
            for reg in self._hooks(kind, entity_type)
            if hook_id is None or reg.hook_id == hook_id
        ]

    def _collect(self, callbacks: Any) -> Callable[..., list[DataPointTask]]:
        """Call each callback with the arguments in ``task_context``; the tasks returned."""
        hooks = list(callbacks)

        def run(*args: Any) -> list[DataPointTask]:
            tasks: list[DataPointTask] = []
            with task_context(self.model_spec):
                for hook in hooks:
                    result = hook(*args)
                    if isinstance(result, list):
                        tasks.extend(result)
            return tasks

        return run


def _record_eid(record: dict[str, Any]) -> Any:
    if "eid" not in record:
        raise ValueError("Correlation hook records must contain an 'eid' field.")
    return record["eid"]


def callable_matches(func: Callable[..., Any], expected: str | Callable[..., Any]) -> bool:
    """``func`` is ``expected``, or its DP³ name is or ends with ``.expected``."""
    if callable(expected):
        return func == expected
    name = get_func_name(func)
    return name == expected or name.endswith(f".{expected}")


__all__ = ["HookRegistration", "TestCallbackRegistrar"]
