"""Re-running creation and attribute hooks after a module's configuration changed.

``register_on_entity_creation_hook(..., refresh=self.refresh, may_change=...)`` and the
``on_new_attr`` equivalent also register, as in DP³, a correlation hook and a snapshot
finalize hook:

1. while the module's refresh flag is set (the control action ``refresh_module_config``
   sets it), every snapshot run calls the original hook once per entity, with a synthetic
   empty ``DataPointTask(etype, eid, [])`` instead of the original task or data-point;
2. plain values of the entity's own returned data-points are written into the snapshot
   record being built, and the returned tasks are fed back into ingestion;
3. the run's finalize step unsets the flag, so the recomputation happens once.

Hooks using ``refresh`` must therefore be able to derive their results without the
original input (from the entity id or from state they read themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrType
from streamcore.module.flag import SharedFlag


class RefreshRun:
    """The correlation hook ``(etype, record) -> tasks`` wrapping a refreshable hook."""

    def __init__(self, model_spec: ModelSpec, flag: SharedFlag, hook: Callable[..., Any]) -> None:
        self._model_spec = model_spec
        self._flag = flag
        self.__wrapped__ = hook

    def __call__(self, etype: str, record: dict[str, Any]) -> list[DataPointTask]:
        if not self._flag.isset():
            return []
        eid = record["eid"]
        result = self.__wrapped__(eid, DataPointTask(etype=etype, eid=eid, data_points=[]))
        tasks = result if isinstance(result, list) else []
        write_plain_values(self._model_spec, tasks, record)
        return tasks

    def __repr__(self) -> str:
        return f"RefreshRun({self.__wrapped__!r})"


class UnsetFlag:
    """The snapshot finalize hook clearing a module's refresh flag after a run."""

    def __init__(self, flag: SharedFlag) -> None:
        self._flag = flag

    def __call__(self) -> list[DataPointTask]:
        self._flag.unset()
        return []

    def __repr__(self) -> str:
        return f"UnsetFlag({self._flag!r})"


def write_plain_values(
    model_spec: ModelSpec, tasks: list[DataPointTask], record: dict[str, Any]
) -> None:
    """Copy the plain values the hook derived for this entity into its snapshot record."""
    eid = record["eid"]
    for task in tasks:
        if not isinstance(task, DataPointTask) or task.eid != eid:
            continue
        for dp in task.data_points:
            spec = model_spec.attributes.get((dp.etype or task.etype, dp.attr))
            if spec is not None and spec.t == AttrType.PLAIN:
                record[dp.attr] = dp.v
