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
than None or a list of ``DataPointTask``, is logged with module, hook and entity type,
reported to the ``HookObserver`` with ``failed=True`` and counted in ``failures``; its
output is dropped and the run goes on with the other hooks and entities.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

from streamcore.model.datapoint import DataPointTask
from streamcore.module.dispatch import HookObserver, HookResultError
from streamcore.module.hooks import HookKind, HookRegistration
from streamcore.module.registry import HookRegistry

log = logging.getLogger(__name__)

EntityKey = tuple[str, Any]
Emit = Callable[[EntityKey | None, list[DataPointTask]], None]
"""Receives the tasks a hook returned, with the entity it ran on (None for run hooks)."""


class SnapshotHooks:
    def __init__(self, registry: HookRegistry, observer: HookObserver | None = None) -> None:
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
        self.failures = 0

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
            tasks = _tasks(reg.callback(*args))
        except Exception as exc:
            self._failed(reg, etype, attr, exc, start)
            return []
        if self._observer is not None:
            seconds = perf_counter() - start
            self._observer.observe(reg.module, reg.kind, etype, attr, seconds, False, len(tasks))
        return tasks

    def _failed(
        self, reg: HookRegistration, etype: str, attr: str | None, exc: Exception, start: float
    ) -> None:
        """The error policy for every snapshot hook: log, report, count, carry on."""
        self.failures += 1
        log.error(
            "Snapshot hook %s of module %s failed on %s: %s",
            reg.name,
            reg.module,
            f"{etype}/{attr}" if attr else etype or "(run)",
            exc,
            exc_info=None if isinstance(exc, HookResultError) else exc,
        )
        if self._observer is not None:
            seconds = perf_counter() - start
            self._observer.observe(reg.module, reg.kind, etype, attr, seconds, True, 0)


def _tasks(result: Any) -> list[DataPointTask]:
    if result is None:
        return []
    if isinstance(result, list) and all(isinstance(t, DataPointTask) for t in result):
        return result
    raise HookResultError(
        f"returned {type(result).__name__} {result!r:.80}, expected None or a list of DataPointTask"
    )
