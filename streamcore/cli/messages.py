"""Topic messages decoded for people (``streamcore tail``): one line, or one JSON object.

A message that does not decode is shown as such (with its partition and offset), never
skipped silently: ``tail`` is a debugging tool and the odd message is often the point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streamcore.cli.output import cell, to_json
from streamcore.codec.framing import Framing
from streamcore.kafka.consumer import InputRecord
from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec


class MessageDecoder:
    """Decodes the records of one topic role: ``input``, ``dead_letter`` or ``snapshots``."""

    def __init__(self, role: str, model: ModelSpec, framing: Framing | None = None) -> None:
        """``framing``: the topic's (``kafka.registry.topic_framing``), if not single-object."""
        from streamcore.codec.tasks import DeadLetterCodec, TaskDecoder
        from streamcore.snapshot.messages import SnapshotCodec

        self.role = role
        self._tasks = TaskDecoder(model, framing=framing)
        self._letters = DeadLetterCodec()
        self._snapshots = SnapshotCodec(framing=framing)

    def fields(self, record: InputRecord) -> dict[str, Any]:
        """The message as a JSON-able dict, with where it sits in the topic."""
        where: dict[str, Any] = {
            "partition": record.partition,
            "offset": record.offset,
            "timestamp": datetime.fromtimestamp(record.timestamp_ms / 1000, UTC),
        }
        try:
            return where | self._decode(record.value or b"")
        except Exception as exc:  # any undecodable payload is shown, not dropped
            return where | {"error": f"undecodable: {exc}"}

    def _decode(self, value: bytes) -> dict[str, Any]:
        if self.role == "input":
            return task_fields(self._tasks.read(value))
        if self.role == "dead_letter":
            letter = self._letters.decode(value)
            fields: dict[str, Any] = {
                "reason": letter.reason,
                "message": letter.message,
                "source": {
                    "topic": letter.topic,
                    "partition": letter.partition,
                    "offset": letter.offset,
                    "key": letter.key.decode("utf-8", "replace") if letter.key else None,
                    "timestamp": letter.timestamp,
                },
            }
            try:  # the original task, when it was one that still decodes
                fields["original"] = task_fields(self._tasks.read(letter.value or b""))
            except Exception:
                fields["original"] = None
            return fields
        snapshot = self._snapshots.decode(value)
        return {
            "etype": snapshot.etype,
            "eid": snapshot.eid,
            "time": snapshot.time,
            "values": snapshot.values,
        }

    def line(self, record: InputRecord, out: str) -> str:
        """``out`` ``json``: one JSON object; otherwise one human-readable line."""
        fields = self.fields(record)
        if out == "json":
            return to_json(fields)
        head = f"{cell(fields['timestamp'])} p{record.partition}@{record.offset}"
        if "error" in fields:
            return f"{head} {fields['error']}"
        if self.role == "input":
            return f"{head} {task_line(fields)}"
        if self.role == "dead_letter":
            source = fields["source"]
            return (
                f"{head} {fields['reason']}: {fields['message']} "
                f"(from {source['topic']} p{source['partition']}@{source['offset']}, "
                f"key {source['key']})"
            )
        return f"{head} {fields['etype']} {fields['eid']} at {cell(fields['time'])}: " + cell(
            fields["values"]
        )


def task_fields(task: DataPointTask) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "etype": task.etype,
        "eid": task.eid,
        "data_points": [
            {
                k: v
                for k, v in (
                    ("attr", dp.attr),
                    ("v", dp.v),
                    ("t1", dp.t1),
                    ("t2", dp.t2),
                    ("c", dp.c),
                    ("src", dp.src),
                )
                if v is not None
            }
            for dp in task.data_points
        ],
    }
    if task.tags:
        fields["tags"] = task.tags
    if task.ttl_tokens:
        fields["ttl_tokens"] = task.ttl_tokens
    if task.delete:
        fields["delete"] = True
    return fields


def task_line(fields: dict[str, Any]) -> str:
    parts = [f"{dp['attr']}={cell(dp.get('v'))}" for dp in fields["data_points"]]
    if fields.get("delete"):
        parts.append("DELETE")
    if fields.get("ttl_tokens"):
        parts.append(f"ttl {cell(fields['ttl_tokens'])}")
    return f"{fields['etype']} {fields['eid']}: " + "; ".join(parts)
