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
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Any

import orjson

from streamcore.codec.avro import AvroCodec
from streamcore.codec.binary import long_bytes, string_bytes
from streamcore.codec.framing import Framing
from streamcore.codec.schemas import SchemaRegistry, default_registry
from streamcore.errors import RawRecord
from streamcore.model.primitives import value_text
from streamcore.state.encoding import eid_text, jsonable

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TASK_SCHEMA = "streamcore.SnapshotTask"
SNAPSHOT_SCHEMA = "streamcore.Snapshot"


@dataclass(frozen=True, slots=True)
class SnapshotTask:
    run: datetime
    task: int
    tasks: int
    refresh: tuple[str, ...] = ()
    """Modules whose ``refresh=`` hooks re-run for this task's entities."""


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
    if type(value) is IPv4Address:  # most of what orjson hands back: ids, addresses
        return value_text(value)
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
        return self.codec.encode(
            {"run": task.run, "task": task.task, "tasks": task.tasks, "refresh": list(task.refresh)}
        )

    def decode(self, data: bytes, record: RawRecord | None = None) -> SnapshotTask:
        datum = self.codec.decode(data, record)
        refresh = tuple(datum.get("refresh") or ())
        return SnapshotTask(datum["run"], datum["task"], datum["tasks"], refresh)


_SNAPSHOT_FIELDS = [
    ("etype", "string"),
    ("eid", "string"),
    ("time", ("long", "timestamp-millis")),
    ("values", "string"),
]


class SnapshotCodec:
    """``encode`` writes the Avro bytes itself (one per entity of a run, where fastavro's
    per-call overhead dominated) as long as the current ``Snapshot`` schema is the one it
    was written for; any other schema goes through fastavro. Decoding is fastavro's."""

    def __init__(
        self, registry: SchemaRegistry | None = None, framing: Framing | None = None
    ) -> None:
        self.codec = AvroCodec(registry or default_registry(), SNAPSHOT_SCHEMA, framing)
        self._direct = _field_types(self.codec.schema.parsed) == _SNAPSHOT_FIELDS
        self._time: tuple[datetime, bytes] | None = None

    def encode(self, etype: str, eid: Any, time: datetime, values_text: str) -> bytes:
        if not self._direct:
            datum = {"etype": etype, "eid": eid_text(eid), "time": time, "values": values_text}
            return self.codec.encode(datum)
        if self._time is None or self._time[0] != time:
            self._time = time, long_bytes(_millis(time))
        return b"".join(
            (
                self.codec.header,
                string_bytes(etype),
                string_bytes(eid_text(eid)),
                self._time[1],
                string_bytes(values_text),
            )
        )

    def decode(self, data: bytes, record: RawRecord | None = None) -> PublishedSnapshot:
        datum = self.codec.decode(data, record)
        return PublishedSnapshot(
            datum["etype"], datum["eid"], datum["time"], json.loads(datum["values"])
        )


def _field_types(schema: Any) -> list[tuple[str, Any]]:
    """A record schema's fields as ``(name, type or (type, logicalType))``."""
    fields = []
    for item in schema.get("fields", ()):
        kind = item["type"]
        if isinstance(kind, dict):
            kind = (kind.get("type"), kind.get("logicalType"))
        fields.append((item["name"], kind))
    return fields


def _millis(time: datetime) -> int:
    aware = time if time.tzinfo else time.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)
