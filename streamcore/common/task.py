"""``dp3.common.task``: ``DataPointTask`` as DP³ modules build it, and ``task_context``.

DP³ modules write ``DataPointTask(etype=..., eid=..., data_points=[{"etype": ..., "attr":
..., "v": ...}])``: data-points as dicts, checked against the model set by
``task_context(model_spec)``. This ``DataPointTask`` is streamcore's own (a subclass, so
the hook engine accepts it) that also takes dicts; inside ``task_context`` it is validated
at once (``InvalidDataPointError``), elsewhere when the worker receives it, as every task is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from streamcore.model.datapoint import DataPoint
from streamcore.model.datapoint import DataPointTask as _Task
from streamcore.model.modelspec import ModelSpec

_context: ContextVar[ModelSpec | None] = ContextVar("dp3_task_context", default=None)


@contextmanager
def task_context(
    model_spec: ModelSpec, *, allow_empty_data_point_task: bool = False
) -> Iterator[None]:
    """Validate tasks built inside the block against ``model_spec`` (as DP³ does).

    ``allow_empty_data_point_task`` skips validation, since streamcore's model refuses
    empty tasks (DP³ uses it for the synthetic tasks of refresh runs).
    """
    token = _context.set(None if allow_empty_data_point_task else model_spec)
    try:
        yield
    finally:
        _context.reset(token)


class DataPointTask(_Task):
    """streamcore's ``DataPointTask`` accepting DP³'s dict data-points (keywords only, as
    DP³'s pydantic model)."""

    __slots__ = ()

    def __init__(
        self,
        *,
        etype: str,
        eid: Any,
        data_points: list[DataPoint | Mapping[str, Any]] | None = None,
        tags: list[str] | None = None,
        ttl_tokens: dict[str, datetime] | None = None,
        delete: bool = False,
    ) -> None:
        points = [_data_point(etype, eid, dp) for dp in data_points or ()]
        super().__init__(etype, eid, points, list(tags or ()), ttl_tokens, delete)
        model_spec = _context.get()
        if model_spec is not None:
            model_spec.validate_task(self)


def _data_point(etype: str, eid: Any, dp: DataPoint | Mapping[str, Any]) -> DataPoint:
    if isinstance(dp, DataPoint):
        return dp
    fields = dict(dp)
    fields.setdefault("etype", etype)
    fields.setdefault("eid", eid)
    return DataPoint(**fields)


__all__ = ["DataPointTask", "task_context"]
