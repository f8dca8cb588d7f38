"""What the ingestion processor needs of the hook engine, and the runner without modules.

Kept out of ``processor.py``, which is compiled (``streamcore/native.py``): tests and the
bench subclass ``NoHooks``, and compiled classes can't be subclassed by interpreted code.
"""

from __future__ import annotations

from typing import Any, Protocol

from streamcore.model.datapoint import DataPoint, DataPointTask


class IngestionHookRunner(Protocol):
    """What the processor needs of the hook engine (``streamcore.module.dispatch``)."""

    def run_task_start(self, task: DataPointTask) -> None: ...
    def allow_creation(self, etype: str, eid: Any, task: DataPointTask) -> bool: ...
    def run_entity_creation(
        self, etype: str, eid: Any, task: DataPointTask
    ) -> list[DataPointTask]: ...
    def run_new_attr(self, etype: str, eid: Any, dp: DataPoint) -> list[DataPointTask]: ...


class NoHooks:
    """The hook runner of a platform without modules (and of the bare benchmark loop)."""

    def run_task_start(self, task: DataPointTask) -> None:
        return None

    def allow_creation(self, etype: str, eid: Any, task: DataPointTask) -> bool:
        return True

    def run_entity_creation(self, etype: str, eid: Any, task: DataPointTask) -> list[DataPointTask]:
        return []

    def run_new_attr(self, etype: str, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        return []
