"""``DataPointTask`` <-> bytes, and the control and dead-letter messages.

``TaskEncoder`` expects a task already checked by ``ModelSpec.validate_task`` (canonical
values); ``TaskDecoder`` checks what it decodes against the model, because bytes on a topic
are input like any other. Both keep per-attribute converters compiled at construction.
"""

from __future__ import annotations

from typing import Any, Protocol

from streamcore.codec.avro import AvroCodec
from streamcore.codec.binary import Payload, TaskWriter
from streamcore.codec.binary import series_writer as binary_series_writer
from streamcore.codec.binary import value_writer as binary_value_writer
from streamcore.codec.framing import Framing
from streamcore.codec.reader import read_task
from streamcore.codec.schemas import SchemaRegistry, default_registry
from streamcore.codec.wire import (
    NULL,
    Writer,
    compile_writer,
    eid_writer,
    series_writer,
    unwrap,
)
from streamcore.errors import DecodeError, InvalidDataPointError, RawRecord
from streamcore.model.control import ControlAction, ControlMessage, DeadLetter
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecClassic, AttrSpecTimeseries

TASK_SCHEMA = "streamcore.DataPointTask"
CONTROL_SCHEMA = "streamcore.ControlMessage"
DEAD_LETTER_SCHEMA = "streamcore.DeadLetter"
# The DataPointTask schema ``codec.binary`` writes and ``codec.reader`` reads; any other
# schema falls back to fastavro (slower, always right).
BINARY_FINGERPRINT = bytes.fromhex("5fd731dc80e3bca4")


def _value_writers(model: ModelSpec) -> dict[str, dict[str, Writer]]:
    eid_types = {etype: spec.id_data_type.root for etype, spec in model.entities.items()}
    writers: dict[str, dict[str, Writer]] = {}
    for (etype, attr), spec in model.attributes.items():
        if isinstance(spec, AttrSpecTimeseries):
            writer = series_writer({name: s.data_type for name, s in spec.series.items()})
        elif isinstance(spec, AttrSpecClassic):
            writer = compile_writer(spec.data_type, eid_types)
        writers.setdefault(etype, {})[attr] = writer
    return writers


def _binary_writer(model: ModelSpec) -> TaskWriter:
    eid_types = {etype: spec.id_data_type.root for etype, spec in model.entities.items()}
    values: dict[str, dict[str, Payload]] = {etype: {} for etype in model.entities}
    for (etype, attr), spec in model.attributes.items():
        if isinstance(spec, AttrSpecTimeseries):
            writer = binary_series_writer({name: s.data_type for name, s in spec.series.items()})
        elif isinstance(spec, AttrSpecClassic):
            writer = binary_value_writer(spec.data_type, eid_types)
        values[etype][attr] = writer
    return TaskWriter(values, eid_types)


class TaskEncoder:
    """Validated ``DataPointTask`` -> single-object Avro bytes.

    ``encode`` uses the compiled binary writer (``codec.binary``); ``encode_reference``
    goes through fastavro and the schema file, and is what tests compare it with.
    """

    def __init__(
        self,
        model: ModelSpec,
        registry: SchemaRegistry | None = None,
        framing: Framing | None = None,
    ) -> None:
        self.codec = AvroCodec(registry or default_registry(), TASK_SCHEMA, framing)
        self._values = _value_writers(model)
        self._eids = {
            etype: eid_writer(spec.id_data_type.root) for etype, spec in model.entities.items()
        }
        self._binary = (
            _binary_writer(model) if self.codec.schema.fingerprint == BINARY_FINGERPRINT else None
        )

    def to_datum(self, task: DataPointTask) -> dict[str, Any]:
        """The task as an Avro datum of the current schema."""
        writers = self._values[task.etype]
        return {
            "etype": task.etype,
            "eid": self._eids[task.etype](task.eid),
            "data_points": [
                {
                    "attr": dp.attr,
                    "v": NULL if dp.v is None else writers[dp.attr](dp.v),
                    "t1": dp.t1,
                    "t2": dp.t2,
                    "c": dp.c,
                    "src": dp.src,
                }
                for dp in task.data_points
            ],
            "tags": task.tags,
            "ttl_tokens": task.ttl_tokens,
            "delete": task.delete,
        }

    def encode(self, task: DataPointTask) -> bytes:
        if self._binary is None:  # a schema the binary writer was not written for
            return self.encode_reference(task)
        return self.codec.header + self._binary.write(task)

    def encode_reference(self, task: DataPointTask) -> bytes:
        return self.codec.encode(self.to_datum(task))


class TaskCheck(Protocol):
    """What decoding checks beyond the model (``streamcore.limits.TaskValidator``)."""

    def check_message(self, size: int) -> None: ...
    def validate(self, task: DataPointTask) -> DataPointTask: ...


class TaskDecoder:
    """Bytes -> validated ``DataPointTask``; errors carry the raw record for dead-lettering.

    Messages written with the schema ``codec.reader`` was compiled for are read by it,
    when that schema is also the current one; others (older writers, schema resolution) go
    through fastavro (``read_reference``, which tests compare the compiled reader with).
    With a ``check``, the message size is checked before decoding and the task by
    ``check.validate`` (limits and expiry too); without, by the model alone.
    """

    def __init__(
        self,
        model: ModelSpec,
        registry: SchemaRegistry | None = None,
        check: TaskCheck | None = None,
        framing: Framing | None = None,
    ) -> None:
        self.codec = AvroCodec(registry or default_registry(), TASK_SCHEMA, framing)
        self.model = model
        self._check = check
        self._validate = check.validate if check is not None else model.validate_task
        self._compiled = self.codec.schema.fingerprint == BINARY_FINGERPRINT

    def decode(self, data: bytes, record: RawRecord | None = None) -> DataPointTask:
        try:
            if self._check is not None:
                self._check.check_message(len(data))
            return self._validate(self.read(data, record))
        except InvalidDataPointError as exc:
            raise type(exc)(str(exc), record) from None

    def read(self, data: bytes, record: RawRecord | None = None) -> DataPointTask:
        """The task as written, not yet validated against the model."""
        header = self.codec.header if self._compiled else b""
        if not (header and data.startswith(header)):
            return self.read_reference(data, record)
        try:
            task, end = read_task(data, len(header))
        except Exception as exc:  # truncated or corrupt input raises many types
            raise DecodeError(f"corrupt Avro payload: {exc}", record) from exc
        if end != len(data):
            raise DecodeError("trailing bytes after the Avro payload", record)
        return task

    def read_reference(self, data: bytes, record: RawRecord | None = None) -> DataPointTask:
        """``read`` through fastavro and the schema files (any known writer schema)."""
        datum = self.codec.decode(data, record)
        try:
            etype = datum["etype"]
            eid = datum["eid"]
            return DataPointTask(
                etype=etype,
                eid=eid,
                data_points=[
                    DataPoint(
                        etype,
                        eid,
                        dp["attr"],
                        unwrap(dp["v"]),
                        dp["t1"],
                        dp["t2"],
                        dp["c"],
                        dp["src"],
                    )
                    for dp in datum["data_points"]
                ],
                tags=datum["tags"],
                ttl_tokens=datum["ttl_tokens"],
                delete=datum["delete"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DecodeError(f"not a DataPointTask: {exc}", record) from exc


class ControlCodec:
    """``ControlMessage`` <-> bytes."""

    def __init__(self, registry: SchemaRegistry | None = None) -> None:
        self.codec = AvroCodec(registry or default_registry(), CONTROL_SCHEMA)

    def encode(self, message: ControlMessage) -> bytes:
        return self.codec.encode(
            {
                "action": message.action.value,
                "payload": message.payload,
                "issued_at": message.issued_at,
            }
        )

    def decode(self, data: bytes, record: RawRecord | None = None) -> ControlMessage:
        datum = self.codec.decode(data, record)
        return ControlMessage(ControlAction(datum["action"]), datum["payload"], datum["issued_at"])


class DeadLetterCodec:
    """``DeadLetter`` <-> bytes."""

    def __init__(self, registry: SchemaRegistry | None = None) -> None:
        self.codec = AvroCodec(registry or default_registry(), DEAD_LETTER_SCHEMA)

    def encode(self, letter: DeadLetter) -> bytes:
        return self.codec.encode(
            {
                "reason": letter.reason,
                "message": letter.message,
                "topic": letter.topic,
                "partition": letter.partition,
                "offset": letter.offset,
                "key": letter.key,
                "value": letter.value,
                "timestamp": letter.timestamp,
            }
        )

    def decode(self, data: bytes, record: RawRecord | None = None) -> DeadLetter:
        d = self.codec.decode(data, record)
        return DeadLetter(
            d["reason"],
            d["message"],
            d["topic"],
            d["partition"],
            d["offset"],
            d["key"],
            d["value"],
            d["timestamp"],
        )
