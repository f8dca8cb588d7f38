"""``SnapshotHooks``: runs the modules' snapshot-time hooks for the snapshot worker.

Pure code over the ``HookRegistry``: the worker owns state and Kafka and calls

1. ``run_init()`` when it starts working on a run, ``run_finalize()`` when the run is done
   (every worker that took part in a run calls both once, as DP³'s broadcast does);
2. per entity: ``run_timeseries(etype, attr, history)`` for each timeseries attribute
   with hooks;
3. per group of loaded entities: ``run_correlation(entities, masters)``: each correlation
   hook, in the registry's dependency order, on every entity of its type, so a hook runs
   after every hook writing what it reads, on linked entities too.

Error policy (one place, ``_failed``): a hook that raises, or returns something other
than None or a list of ``DataPointTask``, is logged with module, hook and entity type
(rate-limited per hook, ``HookFailureLog``), reported to the ``HookObserver`` with
``failed=True`` and counted in ``failures``; its output is dropped and the run goes on
with the other hooks and entities.

A hook running past the ``HookBudget`` is interrupted and handled by the same policy,
besides being reported to ``timed_out``, counted in ``timeouts`` and logged on its own line
(every time: each costs a budget): a slow correlation hook can't freeze a snapshot worker,
and the entity's snapshot goes ahead without the hook's returned tasks. As for a hook that
raises, changes it had already made to the entity's values in place stay in the snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

from streamcore.model.datapoint import DataPointTask
from streamcore.module.budget import HookBudget, OverBudget
from streamcore.module.dispatch import HookObserver, HookResultError
from streamcore.module.hooklog import HookFailureLog
from streamcore.module.hooks import HookKind, HookRegistration
from streamcore.module.registry import HookRegistry

log = logging.getLogger(__name__)

EntityKey = tuple[str, Any]
Emit = Callable[[EntityKey | None, list[DataPointTask]], None]
"""Receives the tasks a hook returned, with the entity it ran on (None for run hooks)."""


class SnapshotHooks:
    def __init__(
        self,
        registry: HookRegistry,
        observer: HookObserver | None = None,
        budget: HookBudget | None = None,
        failures: HookFailureLog | None = None,
    ) -> None:
        self._init = registry.hooks(HookKind.SNAPSHOT_INIT)
        self._finalize = registry.hooks(HookKind.SNAPSHOT_FINALIZE)
        self._timeseries: dict[tuple[str, str], list[HookRegistration]] = {}
        for reg in registry.hooks(HookKind.TIMESERIES):
            assert reg.entity is not None and reg.attr is not None
            self._timeseries.setdefault((reg.entity, reg.attr), []).append(reg)
        self.correlation = registry.correlation_hooks()
        self.master_record_types = frozenset(
            reg.entity
            for reg in self.correlation
            if reg.kind is HookKind.CORRELATION_WITH_MASTER_RECORD
        )
        self._observer = observer
        self.budget = budget
        self._budget = budget if budget is not None and budget.seconds > 0 else None
        self._log = failures or HookFailureLog()
        self.failures = 0
        self.timeouts = 0

    def timeseries_attrs(self, etype: str) -> list[str]:
        return [attr for (hooked, attr) in self._timeseries if hooked == etype]

    def run_init(self) -> list[DataPointTask]:
        return self._run_plain(self._init)

    def run_finalize(self) -> list[DataPointTask]:
        return self._run_plain(self._finalize)

    def _run_plain(self, hooks: list[HookRegistration]) -> list[DataPointTask]:
        tasks: list[DataPointTask] = []
        for reg in hooks:
            tasks.extend(self._call(reg, "", None))
        return tasks

    def run_timeseries(
        self, etype: str, attr: str, history: list[dict[str, Any]]
    ) -> list[DataPointTask]:
        tasks: list[DataPointTask] = []
        for reg in self._timeseries.get((etype, attr), ()):
            tasks.extend(self._call(reg, etype, attr, etype, attr, history))
        return tasks

    def run_correlation(
        self,
        entities: dict[EntityKey, dict[str, Any]],
        masters: Callable[[EntityKey], dict[str, Any]],
        emit: Emit,
    ) -> None:
        """Every correlation hook on every entity of its type in ``entities``, in order."""
        by_type: dict[str, list[tuple[EntityKey, dict[str, Any]]]] = {}
        for key, values in entities.items():
            by_type.setdefault(key[0], []).append((key, values))
        for reg in self.correlation:
            assert reg.entity is not None
            with_master = reg.kind is HookKind.CORRELATION_WITH_MASTER_RECORD
            for key, values in by_type.get(reg.entity, ()):
                args = (reg.entity, values, masters(key)) if with_master else (reg.entity, values)
                tasks = self._call(reg, reg.entity, None, *args)
                if tasks:
                    emit(key, tasks)

    def _call(
        self, reg: HookRegistration, etype: str, attr: str | None, *args: Any
    ) -> list[DataPointTask]:
        start = perf_counter()
        try:
            if self._budget is None:
                tasks = _tasks(reg.callback(*args))
            else:
                tasks = _tasks(self._budget.call(reg.callback, *args))
        except Exception as exc:  # OverBudget included: the same policy
            self._failed(reg, etype, attr, exc, start)
            return []
        if self._observer is not None:
            seconds = perf_counter() - start
            self._observer.observe(reg.module, reg.kind, etype, attr, seconds, False, len(tasks))
        return tasks

    def _failed(
        self, reg: HookRegistration, etype: str, attr: str | None, exc: Exception, start: float
    ) -> None:
        """The error policy for every snapshot hook: log, report, count, carry on.

        A timeout is logged on a line of its own, every time (each cost a budget); other
        failures through the rate-limited ``HookFailureLog``."""
        self.failures += 1
        target = f"{etype}/{attr}" if attr else etype or "(run)"
        if isinstance(exc, OverBudget):
            self.timeouts += 1
            log.error(
                "Snapshot hook %s (%s) of module %s interrupted on %s: %s%s; output dropped",
                reg.name,
                reg.kind,
                reg.module,
                target,
                exc,
                f", at {exc.where}" if exc.where else "",
            )
        else:
            traceback = not isinstance(exc, HookResultError)
            self._log.failed(reg.module, reg.name, reg.kind, target, exc, traceback)
        if self._observer is not None:
            seconds = perf_counter() - start
            self._observer.observe(reg.module, reg.kind, etype, attr, seconds, True, 0)
            if isinstance(exc, OverBudget):
                self._observer.timed_out(reg.module, reg.kind)


def _tasks(result: Any) -> list[DataPointTask]:
    if result is None:
        return []
    if isinstance(result, list) and all(isinstance(t, DataPointTask) for t in result):
        return result
    raise HookResultError(
        f"returned {type(result).__name__} {result!r:.80}, expected None or a list of DataPointTask"
    )
