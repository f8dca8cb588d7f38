"""Example module: counts every task a worker sees (hook ``on_task_start``).

Task-level bookkeeping is what ``on_task_start`` is for: it runs first, for every task,
deletes included, and its return value is ignored. The counts live in this worker's
memory only; every ``log_every`` tasks they are logged.

Configuration (``config/modules/task_counter.yml``):
    log_every: log the counts after this many tasks (default 10000)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from streamcore import BaseModule, CallbackRegistrar, DataPointTask, PlatformConfig


class TaskCounter(BaseModule):
    """Counts tasks by entity type, deletes and data-point source."""

    def __init__(
        self,
        platform_config: PlatformConfig,
        module_config: dict[str, Any],
        registrar: CallbackRegistrar,
    ) -> None:
        self.by_etype: Counter[str] = Counter()
        self.by_src: Counter[str] = Counter()
        self.deletes = 0
        self.total = 0
        super().__init__(platform_config, module_config, registrar)
        registrar.register_task_hook("on_task_start", self.count)

    def load_config(self, config: PlatformConfig, module_config: dict[str, Any]) -> None:
        self.log_every = int(module_config.get("log_every", 10_000))

    def count(self, task: DataPointTask) -> None:
        self.total += 1
        self.by_etype[task.etype] += 1
        if task.delete:
            self.deletes += 1
        for dp in task.data_points:
            self.by_src[dp.src or "-"] += 1
        if self.log_every and self.total % self.log_every == 0:
            self.log.info("%d tasks: %s", self.total, dict(self.by_etype))
