"""The snapshot worker's two wire formats: snapshot tasks and published snapshots (Avro).

``SnapshotTask`` messages (topic ``snapshot_tasks``) are keyed by the task number, so the
tasks of a run spread over the partitions and thus over the worker group. ``Snapshot``
messages (topic ``snapshots``) are keyed ``"<etype>:<eid>"`` like input tasks, so one
entity's snapshots stay in order on one partition. Snapshot values are JSON text inside
the Avro record (see ``schemas/snapshot.avsc`` for why).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from streamcore.codec.avro import AvroCodec
from streamcore.codec.schemas import SchemaRegistry, default_registry
from streamcore.errors import RawRecord
from streamcore.state.encoding import eid_text, jsonable

TASK_SCHEMA = "streamcore.SnapshotTask"
SNAPSHOT_SCHEMA = "streamcore.Snapshot"


@dataclass(frozen=True, slots=True)
class SnapshotTask:
    run: datetime
    task: int
    tasks: int


@dataclass(frozen=True, slots=True)
class PublishedSnapshot:
    etype: str
    eid: str
    time: datetime
    values: dict[str, Any]


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def values_json(values: dict[str, Any]) -> str:
    """Snapshot values as JSON (addresses, times and anything a hook put there as text).

    orjson (UTF-8, not ASCII escapes; NaN as null); keys a hook made non-text become text.
    """
    return orjson.dumps(values, default=_fallback, option=_OPTIONS).decode()


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    try:
        return jsonable(value)
    except TypeError:
        return str(value)


class SnapshotTaskCodec:
    def __init__(self, registry: SchemaRegistry | None = None) -> None:
        self.codec = AvroCodec(registry or default_registry(), TASK_SCHEMA)

    def encode(self, task: SnapshotTask) -> bytes:
        return self.codec.encode({"run": task.run, "task": task.task, "tasks": task.tasks})

    def decode(self, data: bytes, record: RawRecord | None = None) -> SnapshotTask:
        datum = self.codec.decode(data, record)
        return SnapshotTask(datum["run"], datum["task"], datum["tasks"])


class SnapshotCodec:
    def __init__(self, registry: SchemaRegistry | None = None) -> None:
        self.codec = AvroCodec(registry or default_registry(), SNAPSHOT_SCHEMA)

    def encode(self, etype: str, eid: Any, time: datetime, values_text: str) -> bytes:
        datum = {"etype": etype, "eid": eid_text(eid), "time": time, "values": values_text}
        return self.codec.encode(datum)

    def decode(self, data: bytes, record: RawRecord | None = None) -> PublishedSnapshot:
        datum = self.codec.decode(data, record)
        return PublishedSnapshot(
            datum["etype"], datum["eid"], datum["time"], json.loads(datum["values"])
        )
