"""The records that flow through streamcore: ``DataPoint``, ``DataPointTask`` and ``Link``.

Plain slotted dataclasses, not pydantic models: a worker builds and checks hundreds of
thousands of them a second, and validation against the entity model is compiled once per
attribute (``ModelSpec.validate_task``) rather than re-derived per object. Field names
follow DP³ so ported modules read them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streamcore.model.primitives import value_text


@dataclass(frozen=True, slots=True)
class Link:
    """The value of a ``link<etype>`` or ``link<etype,data>`` attribute (``data`` None if none)."""

    eid: Any
    data: Any = None


@dataclass(slots=True)
class DataPoint:
    """One value of one attribute of one entity, valid from ``t1`` to ``t2``.

    Plain attributes have no times and no confidence; observations and timeseries have
    ``t1`` (``t2`` defaults to ``t1``); observations have a confidence ``c`` (default 1.0).
    """

    etype: str | None
    eid: Any
    attr: str
    v: Any = None
    t1: datetime | None = None
    t2: datetime | None = None
    c: float | None = None
    src: str | None = None

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """The fields as a dict, DP³'s ``model_dump()`` (DP³'s data-points are pydantic
        models and modules call it)."""
        return {
            "etype": self.etype,
            "eid": self.eid,
            "attr": self.attr,
            "src": self.src,
            "v": self.v,
            "c": self.c,
            "t1": self.t1,
            "t2": self.t2,
        }


UNLINK_TAG = "streamcore:unlink"
"""The tag of the platform's *unlink task* (``state/links.py``): a task with this one tag,
``streamcore:unlink <attr> <linked type> <linked id>``, and nothing else."""
PRUNE_TTL_TAG = "streamcore:prune-ttl"
"""The tag of the garbage collector's task asking an entity's worker to drop its expired
TTL tokens (DP³'s ``remove_expired_ttls``): this one tag and nothing else."""


def platform_task(task: DataPointTask) -> str | None:
    """The tag of a platform task (unlink, prune-ttl), None for any other task. Platform
    tasks run no hook and never create an entity."""
    if task.data_points or task.delete or task.ttl_tokens or len(task.tags) != 1:
        return None
    tag = task.tags[0]
    if not isinstance(tag, str):
        return None
    return tag if tag == PRUNE_TTL_TAG or tag.startswith(UNLINK_TAG + " ") else None


@dataclass(slots=True)
class DataPointTask:
    """Everything one message says about one entity: data-points, TTL tokens, or deletion.

    The unit of ordering: all tasks of an entity go to one partition (key ``routing_key``),
    so one worker sees them in order.
    """

    etype: str
    eid: Any
    data_points: list[DataPoint] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    ttl_tokens: dict[str, datetime] | None = None
    delete: bool = False
    derived_by: str | None = field(default=None, compare=False, repr=False)
    """The module whose hook returned this task (set by the hook engine; streamcore's own
    bookkeeping for the derivation chain, not part of DP³'s task)."""

    def routing_key(self) -> str:
        """``"<etype>:<eid>"``; stable once the eid is normalized by validation."""
        return f"{self.etype}:{value_text(self.eid)}"
