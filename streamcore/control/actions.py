"""What a process does for each control action, and the actions every process shares.

``ControlActions`` maps an action to a handler ``(message, offset) -> (Outcome, detail)``.
Each process registers what it can do; an action without a handler is acknowledged as
*skipped, not available in this process* (e.g. ``make_snapshots`` on an ingestion
worker), so the sender still hears from every replica. Only actions in ``control.yml``'s
``allowed_actions`` run (``ping``, streamcore's own, always does); a handler that raises
is acknowledged as failed with the error.

Handlers run on the thread that runs the process's hooks (the listener's caller).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from streamcore.control.acks import Outcome
from streamcore.control.modules import ModuleConfigs
from streamcore.model.control import ControlAction, ControlMessage
from streamcore.model.datapoint import DataPointTask

log = logging.getLogger(__name__)

Handler = Callable[[ControlMessage, int], tuple[Outcome, str]]
ALWAYS_ALLOWED = frozenset({ControlAction.PING})


class ControlActions:
    """The handlers of one process; ``run`` applies the allow-list and the error policy."""

    def __init__(self, allowed: Iterable[str], role: str) -> None:
        self.role = role
        self.allowed = {ControlAction(name) for name in allowed} | ALWAYS_ALLOWED
        if ControlAction.REFRESH_MODULE_CONFIG in self.allowed:  # its undo goes with it
            self.allowed.add(ControlAction.RESET_MODULE_CONFIG)
        self._handlers: dict[ControlAction, Handler] = {ControlAction.PING: _pong}

    def handle(self, action: ControlAction, handler: Handler) -> None:
        """Let this process carry out ``action`` with ``handler`` (replacing any other)."""
        self._handlers[action] = handler

    def run(self, message: ControlMessage, offset: int) -> tuple[Outcome, str]:
        action = message.action
        if action is ControlAction.UNKNOWN:
            return Outcome.SKIPPED, "unknown action (sent by a newer streamcore?)"
        if action not in self.allowed:
            return Outcome.FAILED, f"{action.value} is not in control.yml's allowed_actions"
        handler = self._handlers.get(action)
        if handler is None:
            return Outcome.SKIPPED, f"{action.value} is not available in this process ({self.role})"
        try:
            return handler(message, offset)
        except Exception as exc:
            log.exception("control action %s (offset %d) failed", action.value, offset)
            return Outcome.FAILED, f"{type(exc).__name__}: {exc}"


def report(action: Callable[[], object], done: str) -> Handler:
    """A handler calling ``action()``; applied with ``done`` (and what it returned, if
    anything), failed with the error if it raises. For ``make_snapshots`` and the like."""

    def handler(_message: ControlMessage, _offset: int) -> tuple[Outcome, str]:
        result = action()
        return Outcome.APPLIED, done if result is None else f"{done}: {result}"

    return handler


def _pong(_message: ControlMessage, _offset: int) -> tuple[Outcome, str]:
    return Outcome.APPLIED, "pong"


def refresh_module_config(
    configs: ModuleConfigs, applied: Callable[[str, int], None] | None = None
) -> Handler:
    """The ``refresh_module_config`` handler: payload ``module`` and ``config`` (JSON).
    ``applied(module, version)`` is called once the module runs the new version (the
    lifecycle records it for the next snapshot run: ``streamcore.state.refreshes``)."""

    def handler(message: ControlMessage, offset: int) -> tuple[Outcome, str]:
        module = message.payload.get("module")
        text = message.payload.get("config")
        if not module or text is None:
            return Outcome.FAILED, "refresh_module_config needs 'module' and 'config'"
        outcome, detail = configs.apply(module, text, offset + 1, message.payload.get("file_hash"))
        if outcome is Outcome.APPLIED and applied is not None:
            applied(module, offset + 1)
        return outcome, detail

    return handler


def reset_module_config(
    configs: ModuleConfigs, applied: Callable[[str, int], None] | None = None
) -> Handler:
    """The ``reset_module_config`` handler: payload ``module``; back to the module's file."""

    def handler(message: ControlMessage, offset: int) -> tuple[Outcome, str]:
        module = message.payload.get("module")
        if not module:
            return Outcome.FAILED, "reset_module_config needs 'module'"
        outcome, detail = configs.reset(module, offset + 1)
        if outcome is Outcome.APPLIED and applied is not None:
            applied(module, offset + 1)
        return outcome, detail

    return handler


class CreationHooks(Protocol):
    def run_entity_creation(
        self, etype: str, eid: Any, task: DataPointTask
    ) -> list[DataPointTask]: ...


class EntityCreationRefresh:
    """``refresh_on_entity_creation``: re-run an entity type's ``on_entity_creation``
    hooks for every stored entity of the type, as DP³ does, with the synthetic empty
    task ``DataPointTask(etype, eid, [])``; the derived tasks go to the input topic.

    DP³ splits the entities between its worker processes; here exactly one replica
    claims the message (``claim``, a Cassandra LWT) and runs it over all of them, the
    others acknowledge it as skipped.
    """

    def __init__(
        self,
        hooks: CreationHooks,
        etypes: Iterable[str],
        eids: Callable[[str], list[Any]],
        claim: Callable[[str], bool],
        emit: Callable[[list[DataPointTask]], int],
    ) -> None:
        self._hooks = hooks
        self._etypes = set(etypes)
        self._eids = eids
        self._claim = claim
        self._emit = emit

    def __call__(self, message: ControlMessage, offset: int) -> tuple[Outcome, str]:
        etype = message.payload.get("etype")
        if not etype or etype not in self._etypes:
            return Outcome.FAILED, f"unknown entity type {etype!r}"
        if not self._claim(f"control-{offset}"):
            return Outcome.SKIPPED, "another replica runs it"
        derived: list[DataPointTask] = []
        eids = self._eids(etype)
        for eid in eids:
            empty = DataPointTask(etype=etype, eid=eid, data_points=[])
            derived.extend(self._hooks.run_entity_creation(etype, eid, empty))
        sent = self._emit(derived)
        return Outcome.APPLIED, f"re-ran for {len(eids)} {etype} entities; {sent} tasks derived"


class SnapshotRunStart:
    """``make_snapshots``: the replica whose ``start(slot)`` wins the claim of
    ``control:<offset>`` starts a run (``start`` returns its time); every other replica
    acknowledges the message as skipped. So one message starts one run, however many
    snapshot workers and schedulers handle it."""

    def __init__(self, start: Callable[[str], datetime | None]) -> None:
        self._start = start

    def __call__(self, _message: ControlMessage, offset: int) -> tuple[Outcome, str]:
        run = self._start(f"control:{offset}")
        if run is None:
            return Outcome.SKIPPED, "another replica started the run"
        return Outcome.APPLIED, f"snapshot run {run.isoformat()} started"
