"""``HarnessRun``: what one ``ModuleHarness.send`` did, with partial-match look-ups.

Look-ups match on the fields given only (``run.datapoint(attr="label")`` matches any value)
and fail with an ``AssertionError`` listing what was there, so they read as assertions in
pytest and unittest alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from streamcore.model.datapoint import DataPoint, DataPointTask


class HookFailed(AssertionError):
    """A hook raised or returned something invalid while the harness ran (strict mode)."""


@dataclass(frozen=True)
class Failure:
    """One failed hook call: the engine's log message and the exception, if one was raised."""

    message: str
    exc: BaseException | None


@dataclass
class HarnessRun:
    """Tasks processed (the sent ones first), derived, denied; entities created/deleted."""

    processed: list[DataPointTask] = field(default_factory=list)
    derived: list[DataPointTask] = field(default_factory=list)
    denied: list[DataPointTask] = field(default_factory=list)
    created: list[tuple[str, Any]] = field(default_factory=list)
    deleted: list[tuple[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def datapoints(self, **fields: Any) -> list[DataPoint]:
        """Derived data-points whose given fields (etype, eid, attr, v, src, t1, t2, c) match."""
        return [
            dp
            for task in self.derived
            for dp in task.data_points
            if all(getattr(dp, key) == value for key, value in fields.items())
        ]

    def datapoint(self, **fields: Any) -> DataPoint:
        """The first derived data-point matching ``fields``; ``AssertionError`` if none."""
        found = self.datapoints(**fields)
        if not found:
            emitted = [dp for task in self.derived for dp in task.data_points]
            raise AssertionError(f"no derived data-point matches {fields!r}; derived: {emitted!r}")
        return found[0]

    def task(self, **fields: Any) -> DataPointTask:
        """The first derived task whose given fields (etype, eid, tags, delete, ...) match."""
        for task in self.derived:
            if all(getattr(task, key) == value for key, value in fields.items()):
                return task
        raise AssertionError(f"no derived task matches {fields!r}; derived: {self.derived!r}")

    def assert_no_datapoints(self, **fields: Any) -> None:
        """``AssertionError`` if any derived data-point matches ``fields``."""
        found = self.datapoints(**fields)
        if found:
            raise AssertionError(f"unexpected derived data-points matching {fields!r}: {found!r}")


class FailureCapture(logging.Handler):
    """Collects the engines' hook-failure log records (with the hooks' exceptions), so a
    harness run can raise them instead of logging them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failures: list[Failure] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.failures.append(Failure(record.getMessage(), exc))
