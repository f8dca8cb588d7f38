"""``IngestionHooks``: runs the modules' ingestion hooks for the ingestion worker.

Pure code: the worker owns state and Kafka and calls, for each task, in DP³'s order:

1. ``run_task_start(task)`` for every task, deletes included;
2. for a task that is not a delete and whose entity does not exist yet:
   ``allow_creation(etype, eid, task)`` (False: drop the task), then
   ``run_entity_creation(etype, eid, task)``;
3. after the task's data-points are applied: ``run_new_attr(etype, eid, dp)`` for each
   data-point (``has_new_attr_hooks`` lets the worker skip attributes nobody watches).

The returned ``DataPointTask`` lists are the derived tasks; the worker validates them
against the model and feeds them back into ingestion.

Every hook call is wrapped once: timed, reported to the ``HookObserver`` (metrics), and
guarded by one error policy (``_hook_failed``): a hook that raises, or returns something
other than its contract allows, is logged with module, hook, entity type and attribute,
reported with ``failed=True``, and processing goes on without its output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Protocol

from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.hooks import HookKind, HookRegistration

log = logging.getLogger(__name__)


class HookObserver(Protocol):
    """Told about every hook call: how long it took, whether it failed, how many tasks
    it returned. Called on the worker's thread; must be cheap and must not raise."""

    def observe(  # noqa: PLR0917 (the worker calls it positionally, a hot path)
        self,
        module: str,
        hook: str,
        etype: str,
        attr: str | None,
        seconds: float,
        failed: bool,
        emitted: int,
    ) -> None: ...


class HookResultError(Exception):
    """A hook returned something its kind does not allow (handled as a hook failure)."""


@dataclass(frozen=True, slots=True)
class _Hook:
    callback: Callable[..., Any]
    module: str
    kind: HookKind  # a StrEnum: reported to the observer as DP³'s name
    name: str


# What a failed hook counts as, per kind: the error policy's fallback values.
# A failing allow_entity_creation hook raises no objection (DP³ lets the entity be created:
# an admission filter that crashes must not silently drop all new entities' data).
_FALLBACK: dict[HookKind, Any] = {
    HookKind.ON_TASK_START: None,
    HookKind.ALLOW_ENTITY_CREATION: True,
    HookKind.ON_ENTITY_CREATION: (),
    HookKind.ON_NEW_ATTR: (),
}

# How registrations are indexed for the hot path, per kind.
_KEY: dict[HookKind, Callable[[HookRegistration], Any]] = {
    HookKind.ON_TASK_START: lambda reg: None,
    HookKind.ALLOW_ENTITY_CREATION: lambda reg: reg.entity,
    HookKind.ON_ENTITY_CREATION: lambda reg: reg.entity,
    HookKind.ON_NEW_ATTR: lambda reg: (reg.entity, reg.attr),
}


class IngestionHooks:
    """The ingestion hooks of one worker, indexed by kind and (entity type, attribute).

    Built by ``CallbackRegistrar.ingestion_hooks(observer)`` after all modules loaded.
    Hooks of one kind and target run in registration order.
    """

    def __init__(
        self, registrations: Iterable[HookRegistration], observer: HookObserver | None = None
    ) -> None:
        tables: dict[HookKind, dict[Any, list[_Hook]]] = {kind: {} for kind in _KEY}
        for reg in registrations:
            key_of = _KEY.get(reg.kind)
            if key_of is not None:
                hook = _Hook(reg.callback, reg.module, reg.kind, reg.name)
                tables[reg.kind].setdefault(key_of(reg), []).append(hook)
        frozen = {kind: {k: tuple(v) for k, v in table.items()} for kind, table in tables.items()}
        self._task_start = frozen[HookKind.ON_TASK_START].get(None, ())
        self._allow = frozen[HookKind.ALLOW_ENTITY_CREATION]
        self._create = frozen[HookKind.ON_ENTITY_CREATION]
        self._new_attr = frozen[HookKind.ON_NEW_ATTR]
        self._observer = observer

    def run_task_start(self, task: DataPointTask) -> None:
        """Call every ``on_task_start`` hook with ``task``; return values are ignored."""
        for hook in self._task_start:
            start = perf_counter()
            try:
                hook.callback(task)
            except Exception as exc:
                self._hook_failed(hook, task.etype, None, exc, start)
                continue
            self._observe(hook, task.etype, None, start, 0)

    def allow_creation(self, etype: str, eid: Any, task: DataPointTask) -> bool:
        """Whether every ``allow_entity_creation`` hook of ``etype`` allows creating ``eid``.

        Stops at the first hook returning False. A hook must return a bool; one that
        raises or returns anything else counts as allowing (see ``_FALLBACK``).
        """
        for hook in self._allow.get(etype, ()):
            start = perf_counter()
            try:
                allowed = hook.callback(eid, task)
                if not isinstance(allowed, bool):
                    raise HookResultError(f"returned {allowed!r}, expected True or False")
            except Exception as exc:
                allowed = self._hook_failed(hook, etype, None, exc, start)
            else:
                self._observe(hook, etype, None, start, 0)
            if not allowed:
                log.debug("Creation of %s/%s prevented by %s", etype, eid, hook.name)
                return False
        return True

    def run_entity_creation(self, etype: str, eid: Any, task: DataPointTask) -> list[DataPointTask]:
        """Call the ``on_entity_creation`` hooks of ``etype``; the tasks they derived."""
        hooks = self._create.get(etype)
        return self._run_deriving(hooks, etype, None, eid, task) if hooks else []

    def run_new_attr(self, etype: str, eid: Any, dp: DataPoint) -> list[DataPointTask]:
        """Call the ``on_new_attr`` hooks of ``etype``/``dp.attr``; the tasks they derived."""
        hooks = self._new_attr.get((etype, dp.attr))
        return self._run_deriving(hooks, etype, dp.attr, eid, dp) if hooks else []

    def has_new_attr_hooks(self, etype: str, attr: str) -> bool:
        """Whether any ``on_new_attr`` hook watches ``etype``/``attr``."""
        return (etype, attr) in self._new_attr

    def _run_deriving(
        self, hooks: tuple[_Hook, ...], etype: str, attr: str | None, *args: Any
    ) -> list[DataPointTask]:
        derived: list[DataPointTask] = []
        for hook in hooks:
            start = perf_counter()
            try:
                tasks = _derived_tasks(hook.callback(*args))
            except Exception as exc:
                derived.extend(self._hook_failed(hook, etype, attr, exc, start))
                continue
            self._observe(hook, etype, attr, start, len(tasks))
            for task in tasks:
                task.derived_by = hook.module
            derived.extend(tasks)
        return derived

    def _observe(self, hook: _Hook, etype: str, attr: str | None, start: float, n: int) -> None:
        if self._observer is not None:
            seconds = perf_counter() - start
            self._observer.observe(hook.module, hook.kind, etype, attr, seconds, False, n)

    def _hook_failed(
        self, hook: _Hook, etype: str, attr: str | None, exc: Exception, start: float
    ) -> Any:
        """The error policy, for every ingestion hook: log, report, carry on.

        The failure is logged with module, hook, entity type and attribute (with the
        traceback when the hook raised) and reported to the observer with
        ``failed=True``. The hook's output is dropped and the kind's fallback returned
        (``_FALLBACK``); the task and the other hooks go on, so one faulty module never
        stops a worker or loses other modules' work.
        """
        seconds = perf_counter() - start
        target = f"{etype}/{attr}" if attr else etype
        log.error(
            "Hook %s (%s) of module %s failed on %s: %s",
            hook.name,
            hook.kind,
            hook.module,
            target,
            exc,
            exc_info=None if isinstance(exc, HookResultError) else exc,
        )
        if self._observer is not None:
            self._observer.observe(hook.module, hook.kind, etype, attr, seconds, True, 0)
        return _FALLBACK[hook.kind]


def _derived_tasks(result: Any) -> list[DataPointTask]:
    """A deriving hook's result as a task list; ``HookResultError`` if it is neither None
    nor a list of ``DataPointTask``."""
    if result is None:
        return []
    if not isinstance(result, list):
        raise HookResultError(
            f"returned {type(result).__name__}, expected None or a list of DataPointTask"
        )
    for item in result:
        if not isinstance(item, DataPointTask):
            raise HookResultError(
                f"returned a list holding {type(item).__name__} {item!r:.80}, "
                "expected only DataPointTask"
            )
    return result
