"""Hook kinds and the records a registration leaves behind.

Modules name hook kinds with DP³'s strings (``register_task_hook("on_task_start", ...)``);
inside streamcore they are ``HookKind`` members, parsed once at registration, so the
engines dispatch through tables keyed by the enum rather than by comparing strings.

A ``HookRegistration`` is immutable and says everything later stages need: which module
registered which callback, for which entity/attribute, and the extra arguments of the kind
(``refresh``/``may_change`` for creation and attribute hooks, ``depends_on``/``may_change``
for correlation hooks, ``hook_id``/``period`` for updater hooks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from streamcore.errors import UnknownHookTargetError
from streamcore.model.spec import AttrType
from streamcore.module.flag import SharedFlag

AttrPath = tuple[str, ...]
"""A path from an entity type to an attribute, through link attributes: ``("device", "os")``."""


class HookKind(StrEnum):
    """Every hook kind; the values are DP³'s names, so ``HookKind(name)`` parses them."""

    ON_TASK_START = "on_task_start"
    ALLOW_ENTITY_CREATION = "allow_entity_creation"
    ON_ENTITY_CREATION = "on_entity_creation"
    ON_NEW_ATTR = "on_new_attr"
    TIMESERIES = "timeseries_hook"
    CORRELATION = "correlation_hook"
    CORRELATION_WITH_MASTER_RECORD = "correlation_hook_with_master_record"
    SNAPSHOT_INIT = "snapshot_init"
    SNAPSHOT_FINALIZE = "snapshot_finalize"
    PERIODIC_UPDATE = "periodic_update"
    PERIODIC_EID_UPDATE = "periodic_eid_update"

    @classmethod
    def parse(cls, name: str | HookKind, allowed: frozenset[HookKind]) -> HookKind:
        """The kind called ``name`` if in ``allowed``, else ``UnknownHookTargetError``."""
        try:
            kind = cls(name)
        except ValueError:
            kind = None
        if kind is None or kind not in allowed:
            names = ", ".join(sorted(k.value for k in allowed))
            raise UnknownHookTargetError(f"Hook type '{name}' doesn't exist (expected {names}).")
        return kind


TASK_HOOK_KINDS = frozenset({HookKind.ON_TASK_START})
ENTITY_HOOK_KINDS = frozenset({HookKind.ALLOW_ENTITY_CREATION, HookKind.ON_ENTITY_CREATION})
INGESTION_HOOK_KINDS = TASK_HOOK_KINDS | ENTITY_HOOK_KINDS | {HookKind.ON_NEW_ATTR}

ON_NEW_HOOK_BY_ATTR_TYPE: dict[AttrType, str] = {
    AttrType.PLAIN: "on_new_plain",
    AttrType.OBSERVATIONS: "on_new_observation",
    AttrType.TIMESERIES: "on_new_ts_chunk",
}
"""DP³'s per-kind names of ``on_new_attr``, accepted by the deprecated ``register_attr_hook``."""


@dataclass(frozen=True, slots=True)
class HookRegistration:
    """One registered callback and its context.

    Attributes:
        kind: the hook kind
        callback: what the module registered (called as DP³ documents for the kind)
        module: the registering module's name (its file name when loaded by the loader)
        entity: entity type, for every kind bound to one
        attr: attribute, for ``on_new_attr`` and ``timeseries_hook``
        refresh: the module's refresh flag, for creation/attribute hooks that asked for it
        depends_on: attribute paths a correlation hook reads
        may_change: attribute paths a correlation (or refreshable) hook may write
        hook_id: updater hook id (unique per entity type, period and variant)
        period: updater period: every entity of the type is visited once per period
    """

    kind: HookKind
    callback: Callable[..., Any]
    module: str
    entity: str | None = None
    attr: str | None = None
    refresh: SharedFlag | None = None
    depends_on: tuple[AttrPath, ...] = ()
    may_change: tuple[AttrPath, ...] = ()
    hook_id: str | None = None
    period: timedelta | None = None

    @property
    def name(self) -> str:
        """The callback's readable name, e.g. ``FirstSeen.on_created``."""
        return callback_name(self.callback)

    def context(self) -> tuple[Any, ...]:
        """What makes two registrations of one callback the same registration (a duplicate)."""
        return (self.kind, self.entity, self.attr, self.depends_on, self.may_change, self.hook_id)

    def describe(self) -> str:
        """``module.callback (kind entity/attr)`` for messages."""
        target = "/".join(part for part in (self.entity, self.attr) if part)
        where = f" {target}" if target else ""
        return f"{self.module}: {self.name} ({self.kind.value}{where})"


def callback_name(callback: Callable[..., Any]) -> str:
    """A readable name for a callable, looking through ``partial`` and ``__wrapped__``."""
    callback = _unwrap(callback)
    name = getattr(callback, "__qualname__", None) or getattr(callback, "__name__", None)
    return str(name) if name else repr(callback)


def owning_module(callback: Callable[..., Any]) -> str:
    """The module a callback belongs to when no loader scope names it: the class of a bound
    method, else the Python module that defines the function."""
    callback = _unwrap(callback)
    owner = getattr(callback, "__self__", None)
    if owner is not None and not isinstance(owner, type):
        return type(owner).__name__
    return str(getattr(callback, "__module__", None) or "unknown")


def _unwrap(callback: Callable[..., Any]) -> Callable[..., Any]:
    while True:
        if isinstance(callback, partial):
            callback = callback.func
        elif (wrapped := getattr(callback, "__wrapped__", None)) is not None:
            callback = wrapped
        else:
            return callback


def as_paths(paths: list[list[str]] | None) -> tuple[AttrPath, ...]:
    """DP³'s ``list[list[str]]`` attribute paths as hashable tuples."""
    return tuple(tuple(path) for path in paths or ())
