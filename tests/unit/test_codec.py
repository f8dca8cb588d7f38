"""Avro encoding: round trips, the single-object header, and schema evolution."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from streamcore.codec import (
    MAGIC,
    SCHEMAS_DIR,
    AvroCodec,
    ControlCodec,
    DeadLetterCodec,
    Schema,
    SchemaRegistry,
    TaskDecoder,
    TaskEncoder,
)
from streamcore.config.samples import every_kind_tasks, example_model
from streamcore.errors import DecodeError, InvalidDataPointError, RawRecord
from streamcore.model import ControlAction, ControlMessage, DeadLetter


def _validated() -> list[Any]:
    model = example_model()
    return [model.validate_task(task) for task in every_kind_tasks()]


def test_every_kind_round_trips_unchanged() -> None:
    model = example_model()
    encoder, decoder = TaskEncoder(model), TaskDecoder(model)
    for task in _validated():
        expected = copy.deepcopy(task)
        data = encoder.encode(task)
        assert data[:2] == MAGIC and data[2:10] == encoder.codec.schema.fingerprint
        assert decoder.decode(data) == expected


def test_json_maps_never_turn_into_records() -> None:
    """A dict shaped like a record ({"v": ...}, {"t": ...}) stays a dict."""
    model = example_model()
    task = model.validate_task(every_kind_tasks()[0])
    task.data_points = [d for d in task.data_points if d.attr == "raw_whois"]
    task.data_points[0].v = {"v": {"t": 1}, "eid": "x"}
    assert TaskDecoder(model).decode(TaskEncoder(model).encode(task)).data_points[0].v == {
        "v": {"t": 1},
        "eid": "x",
    }


def test_values_are_typed_in_avro_not_json_text() -> None:
    model = example_model()
    task = model.validate_task(every_kind_tasks()[0])
    datum = TaskEncoder(model).to_datum(task)
    by_attr = {d["attr"]: d["v"] for d in datum["data_points"]}
    assert by_attr["asn"] == ("long", 2852)
    assert by_attr["open_ports"] == ("array", [("long", 22), ("long", 80), ("long", 443)])
    assert by_attr["first_seen"][0] == "streamcore.Timestamp"
    assert by_attr["device"] == (
        "streamcore.Link",
        {"eid": ("string", "aa:bb:cc:00:11:22"), "data": ("null", None)},
    )


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "bad header"),
        (b'{"json": 1}', "bad header"),
        (MAGIC + b"\x00" * 8 + b"\x00", "unknown schema"),
    ],
)
def test_undecodable_bytes_raise_decode_error_with_the_record(data: bytes, fragment: str) -> None:
    record = RawRecord("t", 3, 42, b"k", data)
    with pytest.raises(DecodeError) as info:
        TaskDecoder(example_model()).decode(data, record)
    assert fragment in str(info.value)
    assert info.value.record is record


def test_truncated_and_foreign_payloads() -> None:
    model = example_model()
    good = TaskEncoder(model).encode(_validated()[0])
    with pytest.raises(DecodeError, match="corrupt Avro payload"):
        TaskDecoder(model).decode(good[:-5])
    with pytest.raises(DecodeError, match="trailing bytes"):
        TaskDecoder(model).decode(good + b"\x00")
    control = ControlCodec().encode(ControlMessage(ControlAction.MAKE_SNAPSHOTS))
    with pytest.raises(DecodeError, match="a streamcore.ControlMessage message"):
        TaskDecoder(model).decode(control)


def test_decoded_tasks_are_validated_against_the_model() -> None:
    model = example_model()
    encoder = TaskEncoder(model)
    task = _validated()[0]
    data = encoder.codec.encode(
        {**encoder.to_datum(task), "data_points": [{"attr": "asn", "v": ("string", "x")}]}
    )
    record = RawRecord("t", 0, 1, None, data)
    with pytest.raises(InvalidDataPointError, match="attribute 'asn', value 'x'") as info:
        TaskDecoder(model).decode(data, record)
    assert info.value.record is record


def test_control_and_dead_letter_round_trip() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    message = ControlMessage(ControlAction.REFRESH_MODULE_CONFIG, {"module": "ports"}, now)
    assert ControlCodec().decode(ControlCodec().encode(message)) == message
    letter = DeadLetter("undecodable", "bad header", "app.input", 2, 77, b"ip:1", b"\x00", now)
    assert DeadLetterCodec().decode(DeadLetterCodec().encode(letter)) == letter


# --- schema evolution -------------------------------------------------------------------


def _current_json(name: str) -> dict[str, Any]:
    with (SCHEMAS_DIR / f"{name}.avsc").open() as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def _evolved_task_schema() -> dict[str, Any]:
    """A plausible v2: a new task field with a default, a new data-point field with a
    default, and a field removed that had a default (``tags``)."""
    schema = _current_json("datapoint_task")
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "tags"]
    schema["fields"].append({"name": "priority", "type": "int", "default": 0})
    dp_fields = schema["fields"][2]["type"]["items"]["fields"]
    dp_fields.append({"name": "origin", "type": ["null", "string"], "default": None})
    return schema


def _registry(current: dict[str, Any], *others: dict[str, Any]) -> SchemaRegistry:
    registry = SchemaRegistry()
    for other in others:
        registry.add(Schema.from_json(other), current=False)
    registry.add(Schema.from_json(current), current=True)
    return registry


def test_old_reader_reads_new_writer() -> None:
    model = example_model()
    v1, v2 = _current_json("datapoint_task"), _evolved_task_schema()
    new_writer = AvroCodec(_registry(v2), "streamcore.DataPointTask")
    task = _validated()[0]
    expected = copy.deepcopy(task)
    datum = TaskEncoder(model).to_datum(task)
    datum.pop("tags")
    datum["priority"] = 7
    data = new_writer.encode(datum)
    old_reader = TaskDecoder(model, _registry(v1, v2))  # knows v2 as a writer schema
    decoded = old_reader.decode(data)
    expected.tags = []  # dropped by the new writer: the old reader fills its default
    assert decoded == expected


def test_new_reader_reads_old_writer() -> None:
    model = example_model()
    v1, v2 = _current_json("datapoint_task"), _evolved_task_schema()
    data = TaskEncoder(model).encode(_validated()[0])  # written with v1
    new_reader = AvroCodec(_registry(v2, v1), "streamcore.DataPointTask")
    datum = new_reader.decode(data)
    assert datum["priority"] == 0
    assert all(dp["origin"] is None for dp in datum["data_points"])
    assert "tags" not in datum


def test_unknown_control_action_reads_as_unknown() -> None:
    v1 = _current_json("control_message")
    v2 = copy.deepcopy(v1)
    v2["fields"][0]["type"]["symbols"].append("compact_state")
    writer = AvroCodec(_registry(v2), "streamcore.ControlMessage")
    data = writer.encode({"action": "compact_state", "payload": {}, "issued_at": None})
    assert ControlCodec(_registry(v1, v2)).decode(data).action is ControlAction.UNKNOWN


def test_incompatible_change_is_refused_at_decode() -> None:
    """A field added without a default can't be read from old data: DecodeError, not junk."""
    v1 = _current_json("dead_letter")
    v2 = copy.deepcopy(v1)
    v2["fields"].append({"name": "attempts", "type": "int"})
    letter = DeadLetter("r", "m", "t", 0, 0, None, None, datetime(2024, 1, 1, tzinfo=UTC))
    data = DeadLetterCodec().encode(letter)
    with pytest.raises(DecodeError, match="corrupt Avro payload"):
        AvroCodec(_registry(v2, v1), "streamcore.DeadLetter").decode(data)


def test_shipped_registry_knows_every_schema() -> None:
    registry = SchemaRegistry.from_directory(SCHEMAS_DIR)
    assert set(registry.current) == {
        "streamcore.DataPointTask",
        "streamcore.ControlMessage",
        "streamcore.ControlAck",
        "streamcore.DeadLetter",
        "streamcore.Snapshot",
        "streamcore.SnapshotTask",
    }
