"""``dp3.testing.assertions``: partial-match assertions on what hooks emitted."""

from __future__ import annotations

import unittest
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from streamcore.model.datapoint import DataPoint, DataPointTask

_UNSET: Any = object()


class ModuleAssertions(unittest.TestCase):
    """Assertions matching only the fields given (nested dicts partially too)."""

    def assert_no_tasks(self, tasks: Iterable[DataPointTask]) -> None:
        self.assertEqual([], list(tasks))

    def assert_no_datapoints(self, tasks: Iterable[DataPointTask]) -> None:
        self.assertEqual([], list(self.iter_datapoints(tasks)))

    def assert_task_emitted(
        self,
        tasks: Iterable[DataPointTask],
        *,
        etype: Any = _UNSET,
        eid: Any = _UNSET,
        data_points: Any = _UNSET,
        tags: Any = _UNSET,
        ttl_tokens: Any = _UNSET,
        delete: Any = _UNSET,
    ) -> DataPointTask:
        """The first task whose given fields match; fails listing the emitted tasks."""
        expected = _selected(
            etype=etype,
            eid=eid,
            data_points=data_points,
            tags=tags,
            ttl_tokens=ttl_tokens,
            delete=delete,
        )
        task_list = list(tasks)
        for task in task_list:
            if self._partial_match(dump_value(task), expected):
                return task
        self.fail(f"No emitted task matched {expected!r}. Emitted tasks: {dump_value(task_list)!r}")

    def assert_datapoint(
        self,
        tasks: Iterable[DataPointTask],
        *,
        etype: Any = _UNSET,
        eid: Any = _UNSET,
        attr: Any = _UNSET,
        src: Any = _UNSET,
        v: Any = _UNSET,
        c: Any = _UNSET,
        t1: Any = _UNSET,
        t2: Any = _UNSET,
    ) -> DataPoint:
        """The first emitted data-point whose given fields match."""
        expected = _selected(etype=etype, eid=eid, attr=attr, src=src, v=v, c=c, t1=t1, t2=t2)
        datapoints = list(self.iter_datapoints(tasks))
        for dp in datapoints:
            if self._partial_match(dump_value(dp), expected):
                return dp
        self.fail(
            f"No emitted datapoint matched {expected!r}. "
            f"Emitted datapoints: {dump_value(datapoints)!r}"
        )

    def assert_record_contains(self, record: dict[str, Any], **expected: Any) -> None:
        if not self._partial_match(record, expected):
            self.fail(f"Record {record!r} does not contain expected values {expected!r}")

    def assert_record_attr(self, record: dict[str, Any], attr: str, expected: Any) -> None:
        if attr not in record:
            self.fail(f"Record {record!r} does not contain attribute {attr!r}")
        if not self._partial_match(record[attr], expected):
            self.fail(
                f"Record attribute {attr!r} value {record[attr]!r} "
                f"does not match expected value {expected!r}"
            )

    def assert_record_unchanged(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.assertEqual(dump_value(before), dump_value(after))

    assertNoTasks = assert_no_tasks  # noqa: N815 (unittest-style aliases, as DP³)
    assertNoDatapoints = assert_no_datapoints  # noqa: N815
    assertTaskEmitted = assert_task_emitted  # noqa: N815
    assertDatapoint = assert_datapoint  # noqa: N815
    assertRecordContains = assert_record_contains  # noqa: N815
    assertRecordAttr = assert_record_attr  # noqa: N815
    assertRecordUnchanged = assert_record_unchanged  # noqa: N815

    @staticmethod
    def iter_datapoints(tasks: Iterable[DataPointTask]) -> Iterator[DataPoint]:
        for task in tasks:
            yield from task.data_points

    @classmethod
    def _partial_match(cls, actual: Any, expected: Any) -> bool:
        actual, expected = dump_value(actual), dump_value(expected)
        if isinstance(expected, dict):
            return isinstance(actual, dict) and all(
                key in actual and cls._partial_match(actual[key], value)
                for key, value in expected.items()
            )
        return bool(actual == expected)


def _selected(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not _UNSET}


def dump_value(value: Any) -> Any:
    """Tasks, data-points and pydantic models as plain containers, recursively."""
    if isinstance(value, BaseModel | DataPoint):
        return dump_value(value.model_dump())
    if isinstance(value, DataPointTask):
        return dump_value(
            {
                "etype": value.etype,
                "eid": value.eid,
                "data_points": value.data_points,
                "tags": value.tags,
                "ttl_tokens": value.ttl_tokens,
                "delete": value.delete,
            }
        )
    if isinstance(value, list):
        return [dump_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(dump_value(item) for item in value)
    if isinstance(value, dict):
        return {key: dump_value(item) for key, item in value.items()}
    return value


__all__ = ["ModuleAssertions", "dump_value"]
