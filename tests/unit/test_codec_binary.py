"""The compiled binary writer must produce exactly fastavro's bytes for the schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streamcore.codec import TaskDecoder, TaskEncoder
from streamcore.codec.binary import long_bytes
from streamcore.config.samples import dp, every_kind_tasks, example_model
from streamcore.model import DataPointTask


def _edge_tasks() -> list[DataPointTask]:
    t = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)  # negative micros
    return [
        DataPointTask(
            "ip",
            "0.0.0.0",
            [
                dp("open_ports", [], t1=t),
                dp("open_ports", [0, -1, 63, 64, -65, 2**31 - 1], t1=t, src=""),
                dp("bytes_total", -(2**63)),
                dp("note", "žluťoučký kůň 🐴", src="ünï"),
                dp("raw_whois", {}),
                dp("raw_whois", []),
                dp("extra", "plain string"),
                dp("extra", None),
                dp("last_conn", {"port": 1, "proto": "udp", "note": "x"}, t1=t, c=0.0),
                dp("rep_score", -0.0, t1=t),
            ],
            tags=["a", "b"],
            ttl_tokens={},
        ),
        DataPointTask("person", -5, ttl_tokens={"x": t, "y": t}),
    ]


def test_long_encoding_matches_the_spec() -> None:
    assert [long_bytes(n) for n in (0, -1, 1, -64, 64, 8192)] == [
        b"\x00",
        b"\x01",
        b"\x02",
        b"\x7f",
        b"\x80\x01",
        b"\x80\x80\x01",
    ]


def test_binary_writer_is_byte_identical_to_fastavro() -> None:
    model = example_model()
    encoder = TaskEncoder(model)
    assert encoder._binary is not None, "the shipped schema is the one the writer targets"
    tasks = every_kind_tasks() + _edge_tasks()
    for task in tasks:
        model.validate_task(task)
        assert encoder.encode(task) == encoder.encode_reference(task), task.etype
        assert TaskDecoder(model).decode(encoder.encode(task)) == task


@pytest.mark.parametrize("per_task", [1, 7])
def test_binary_writer_handles_many_points(per_task: int) -> None:
    model = example_model()
    encoder = TaskEncoder(model)
    t = datetime(2024, 1, 1, tzinfo=UTC)
    task = DataPointTask(
        "ip", "10.0.0.1", [dp("hostname", f"h{i}", t1=t, c=0.5, src="s") for i in range(per_task)]
    )
    model.validate_task(task)
    assert encoder.encode(task) == encoder.encode_reference(task)
