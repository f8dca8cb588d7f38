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

Every hook call is wrapped once: timed, reported to the ``HookObserver`` (metrics), run
under the ``HookBudget`` (if any) and guarded by one error policy:

- a hook that raises, or returns something other than its contract allows
  (``_hook_failed``), is reported with ``failed=True`` and logged with module, hook, entity
  type and attribute (rate-limited per hook by ``HookFailureLog``); processing goes on
  without its output;
- a hook that runs past its time budget (``_timed_out``) is interrupted, reported with
  ``failed=True`` and to ``timed_out``, logged once, and fails the task: the engine raises
  ``HookTimeoutError`` (a ``DataPointError``: the worker dead-letters the task). No
  fallback here: a hook that hangs on some input would otherwise cost a budget per task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Protocol

from streamcore.errors import HookTimeoutError
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.budget import HookBudget, OverBudget
from streamcore.module.hooklog import HookFailureLog
from streamcore.module.hooks import HookKind, HookRegistration

log = logging.getLogger(__name__)


class HookObserver(Protocol):
    """Told about every hook call: how long it took, whether it failed, how many tasks
    it returned; and, besides, of every call interrupted over its time budget. Called on
    the worker's thread; must be cheap and must not raise."""

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

    def timed_out(self, module: str, hook: str) -> None: ...


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

    Built by ``CallbackRegistrar.ingestion_hooks(observer, budget)`` after all modules
    loaded. Hooks of one kind and target run in registration order.
    """

    def __init__(
        self,
        registrations: Iterable[HookRegistration],
        observer: HookObserver | None = None,
        budget: HookBudget | None = None,
        failures: HookFailureLog | None = None,
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
        self.budget = budget
        self._call = budget.call if budget is not None and budget.seconds > 0 else _plain
        self._failures = failures or HookFailureLog()

    def run_task_start(self, task: DataPointTask) -> None:
        """Call every ``on_task_start`` hook with ``task``; return values are ignored."""
        for hook in self._task_start:
            start = perf_counter()
            try:
                self._call(hook.callback, task)
            except OverBudget as over:
                raise self._timed_out(hook, task.etype, None, over, start) from None
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
                allowed = self._call(hook.callback, eid, task)
                if not isinstance(allowed, bool):
                    raise HookResultError(f"returned {allowed!r}, expected True or False")
            except OverBudget as over:
                raise self._timed_out(hook, etype, None, over, start) from None
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
        call = self._call
        for hook in hooks:
            start = perf_counter()
            try:
                tasks = _derived_tasks(call(hook.callback, *args))
            except OverBudget as over:
                raise self._timed_out(hook, etype, attr, over, start) from None
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

        The failure is reported to the observer with ``failed=True`` and logged with
        module, hook, entity type and attribute (the first with its traceback when the hook
        raised; then at most a line per interval, see ``HookFailureLog``). The hook's output
        is dropped and the kind's fallback returned (``_FALLBACK``); the task and the other
        hooks go on, so one faulty module never stops a worker or loses other modules' work.
        """
        seconds = perf_counter() - start
        target = f"{etype}/{attr}" if attr else etype
        traceback = not isinstance(exc, HookResultError)
        self._failures.failed(hook.module, hook.name, hook.kind, target, exc, traceback)
        if self._observer is not None:
            self._observer.observe(hook.module, hook.kind, etype, attr, seconds, True, 0)
        return _FALLBACK[hook.kind]

    def _timed_out(
        self, hook: _Hook, etype: str, attr: str | None, over: OverBudget, start: float
    ) -> HookTimeoutError:
        """The policy for a hook interrupted over its budget: report (a failure and a
        timeout), log one line saying where it was interrupted, fail the task."""
        seconds = perf_counter() - start
        target = f"{etype}/{attr}" if attr else etype
        if self._observer is not None:
            self._observer.observe(hook.module, hook.kind, etype, attr, seconds, True, 0)
            self._observer.timed_out(hook.module, hook.kind)
        log.error(
            "Hook %s (%s) of module %s interrupted on %s: %s%s; the task fails",
            hook.name,
            hook.kind,
            hook.module,
            target,
            over,
            f", at {over.where}" if over.where else "",
        )
        return HookTimeoutError(hook.module, hook.name, hook.kind, over.budget, target)


def _plain(fn: Callable[..., Any], *args: Any) -> Any:
    """A hook call without a budget."""
    return fn(*args)


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
