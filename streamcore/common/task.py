"""``dp3.common.task``: ``DataPointTask`` as DP³ modules build it, and ``task_context``.

DP³ modules write ``DataPointTask(etype=..., eid=..., data_points=[{"etype": ..., "attr":
..., "v": ...}])``. As in DP³, every such task is validated against a model when it is
built, and a bad one raises pydantic's ``ValidationError`` (a ``ValueError``): the model is
the one set by ``task_context(model_spec)``, else the application's (set by the module
loader when DP³ compatibility is on, ``use_model_spec``); with neither, construction fails
as DP³'s does ("Missing `model_spec` in context"). Data-points become DP³'s per-kind
classes (``dp3.common.datapoint``). The class is a subclass of streamcore's task, so the
hook engine takes it unchanged.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from streamcore.common._absent import absent
from streamcore.common.datapoint import (
    KIND_CLASSES,
    TimeseriesValue,
    _error,
    _json_default,
)
from streamcore.errors import InvalidDataPointError
from streamcore.model.datapoint import DataPoint
from streamcore.model.datapoint import DataPointTask as _Task
from streamcore.model.modelspec import ModelSpec

_context: ContextVar[tuple[ModelSpec, bool] | None] = ContextVar("dp3_task_context", default=None)
_application_model: list[ModelSpec] = []


def HASH(key: str) -> int:  # noqa: N802 (DP³'s name)
    """The last 4 hex digits of the key's MD5, as an int: DP³'s routing hash."""
    return int(hashlib.md5(key.encode("utf8")).hexdigest()[-4:], 16)  # noqa: S324


@contextmanager
def task_context(
    model_spec: ModelSpec, *, allow_empty_data_point_task: bool = False
) -> Iterator[None]:
    """Validate tasks built inside the block against ``model_spec``; with
    ``allow_empty_data_point_task`` a task may have no data-points (DP³'s synthetic tasks)."""
    token = _context.set((model_spec, allow_empty_data_point_task))
    try:
        yield
    finally:
        _context.reset(token)


def use_model_spec(model_spec: ModelSpec | None) -> None:
    """The model tasks built outside ``task_context`` are validated against (the loader sets
    the application's when DP³ compatibility is on; None forgets it)."""
    _application_model[:] = [] if model_spec is None else [model_spec]


class Task(ABC):
    """A message for the platform: DP³'s abstract base of tasks (``routing_key``,
    ``hashed_routing_key``, ``as_message``)."""

    __slots__ = ()

    @abstractmethod
    def routing_key(self) -> str:
        """The key that decides which worker gets the task."""

    def hashed_routing_key(self) -> int:
        return HASH(self.routing_key())

    @abstractmethod
    def as_message(self) -> str:
        """The task as the JSON message DP³ sends."""


class DataPointTask(_Task, Task):
    """streamcore's ``DataPointTask`` built and checked the DP³ way (keywords only)."""

    __slots__ = ()

    def __init__(
        self,
        *,
        etype: str,
        eid: Any,
        data_points: list[DataPoint | Mapping[str, Any]] | None = None,
        tags: list[Any] | None = None,
        ttl_tokens: dict[str, datetime] | None = None,
        delete: bool = False,
    ) -> None:
        model_spec, allow_empty = _model()
        points = [_data_point(etype, eid, dp) for dp in data_points or ()]
        super().__init__(etype, eid, points, list(tags or ()), ttl_tokens, delete)
        try:
            if allow_empty and not points and not ttl_tokens and not delete:
                if etype not in model_spec:
                    raise InvalidDataPointError(f"Invalid etype '{etype}'")
                self.eid = model_spec.parse_eid(etype, eid)
            else:
                model_spec.validate_task(self)
        except (InvalidDataPointError, ValueError) as exc:
            raise _error(str(exc)) from None
        self.data_points = [_as_kind(model_spec, dp) for dp in self.data_points]

    def hashed_routing_key(self) -> int:
        return HASH(self.routing_key())

    def model_dump(self, *, exclude_defaults: bool = False, **_: Any) -> dict[str, Any]:
        """DP³'s pydantic dump: the task's fields, data-points as dicts."""
        dumped: dict[str, Any] = {
            "etype": self.etype,
            "eid": self.eid,
            "data_points": [dp.model_dump() for dp in self.data_points],
            "tags": list(self.tags),
            "ttl_tokens": self.ttl_tokens,
            "delete": self.delete,
        }
        if exclude_defaults:
            defaults: dict[str, Any] = {
                "data_points": [],
                "tags": [],
                "ttl_tokens": None,
                "delete": False,
            }
            dumped = {k: v for k, v in dumped.items() if defaults.get(k, object()) != v}
        return dumped

    def model_dump_json(self, **kwargs: Any) -> str:
        return json.dumps(self.model_dump(**kwargs), default=_json_default, separators=(",", ":"))

    def as_message(self) -> str:
        """DP³'s message: defaults and unset data-point fields left out."""
        message = self.model_dump(exclude_defaults=True)
        message["data_points"] = [
            {k: v for k, v in dp.items() if v is not None} for dp in message.get("data_points", [])
        ]
        if not message["data_points"]:
            del message["data_points"]
        return json.dumps(message, default=_json_default, separators=(",", ":"))


def parse_data_point_task(task: str | bytes, model_spec: ModelSpec) -> DataPointTask:
    """A task from its JSON message (``as_message``), validated against ``model_spec``."""
    with task_context(model_spec):
        return DataPointTask(**json.loads(task))


def _model() -> tuple[ModelSpec, bool]:
    context = _context.get()
    if context is not None:
        return context
    if _application_model:
        return _application_model[0], False
    raise _error("Missing `model_spec` in context (build tasks inside task_context)")


def _data_point(etype: str, eid: Any, dp: DataPoint | Mapping[str, Any]) -> DataPoint:
    if isinstance(dp, DataPoint):
        return dp
    if not isinstance(dp, Mapping):
        raise _error(f"a data-point must be a dict, got {type(dp).__name__}")
    fields = dict(dp)
    if "attr" not in fields:
        raise _error("data-point without 'attr'")
    fields.setdefault("etype", etype)
    fields.setdefault("eid", eid)
    try:
        return DataPoint(**fields)
    except TypeError as exc:
        raise _error(str(exc)) from None


def _as_kind(model_spec: ModelSpec, dp: DataPoint) -> DataPoint:
    """The validated data-point as its attribute kind's DP³ class."""
    if type(dp) in KIND_CLASSES.values():
        return dp
    kind = KIND_CLASSES[model_spec.attr(str(dp.etype), dp.attr).type]
    typed = object.__new__(kind)
    DataPoint.__init__(typed, **DataPoint.model_dump(dp))
    if kind is KIND_CLASSES["timeseries"] and isinstance(typed.v, dict):
        typed.v = TimeseriesValue(typed.v)
    return typed


_INTERNAL = (
    "instanciate_dps",
    "validate_data_points",
    "ValidatedDataPoint",
    "SnapshotMessageType",
    "get_discriminator_value",
    "EntityTuple",
    "Snapshot",
    "EntityTuplesAdapter",
    "validate_entities",
    "parse_eids_from_cache",
    "parse_eid_tuples_from_cache",
)
_WHY = (
    "DP³'s pydantic validators and snapshot queue messages; streamcore validates with "
    "ModelSpec.validate_task and runs snapshots by itself"
)

__getattr__ = absent(
    __name__,
    dict.fromkeys(_INTERNAL, _WHY),
)

__all__ = [
    "HASH",
    "DataPointTask",
    "Task",
    "parse_data_point_task",
    "task_context",
    "use_model_spec",
]
