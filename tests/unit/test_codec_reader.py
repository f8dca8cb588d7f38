"""The compiled task reader must return exactly what fastavro + ``unwrap`` return."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from streamcore.codec import TaskDecoder, TaskEncoder
from streamcore.codec.binary import long_bytes, string_bytes
from streamcore.config.samples import every_kind_tasks, example_model
from streamcore.errors import DecodeError

T = datetime(2024, 5, 1, 12, tzinfo=UTC)
BEFORE_EPOCH = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _same(data: bytes) -> None:
    """repr, not ==: 1 == 1.0 == True, and the reader must get the types right too."""
    decoder = TaskDecoder(example_model())
    assert decoder._compiled, "the shipped schema is the one the reader targets"
    assert repr(decoder.read(data)) == repr(decoder.read_reference(data))


def _point(attr: str, v: Any, **extra: Any) -> dict[str, Any]:
    return {"attr": attr, "v": v, "t1": None, "t2": None, "c": None, "src": None, **extra}


def _datum(points: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "etype": "ip",
        "eid": ("string", "192.0.2.1"),
        "data_points": points,
        "tags": [],
        "ttl_tokens": None,
        "delete": False,
        **extra,
    }


LINK = "streamcore.Link"
JSON = "streamcore.Json"
TIME = "streamcore.Timestamp"

# Shapes the binary writer never makes but another writer of the schema may.
DATUMS = [
    _datum([]),
    _datum([_point("x", ("null", None)), _point("y", ("bytes", b"\x00\xff"))]),
    _datum(
        [
            _point("b", ("boolean", True), t1=T, t2=BEFORE_EPOCH, c=0.5, src="ž"),
            _point("n", ("long", -(2**63)), t1=BEFORE_EPOCH, t2=BEFORE_EPOCH),
            _point("d", ("double", 1.0), t1=T, t2=T),
            _point("t", (TIME, {"t": BEFORE_EPOCH})),
        ],
        eid=("long", 2**40),
        tags=["a", "", "ü"],
        ttl_tokens={"base": T, "b": BEFORE_EPOCH},
        delete=True,
    ),
    _datum(
        [
            _point(
                "j",
                (JSON, {"v": ("map", {"a": {"v": ("array", [{"v": ("long", 1)}, {"v": None}])}})}),
            ),
            _point("j0", (JSON, {"v": ("array", [])})),
            _point("js", (JSON, {"v": ("bytes", b"x")})),
            _point(
                "l",
                (LINK, {"eid": ("long", 5), "data": (LINK, {"eid": "x", "data": ("null", None)})}),
            ),
            _point("lt", (LINK, {"eid": "y", "data": (TIME, {"t": T})})),
            _point("lj", (LINK, {"eid": "z", "data": (JSON, {"v": ("map", {})})})),
            _point(
                "a",
                ("array", [("null", None), ("double", 2.5), (TIME, {"t": T}), (JSON, {"v": 1})]),
            ),
            _point(
                "m",
                (
                    "map",
                    {
                        "s": ("array", [("string", "a"), (LINK, {"eid": 1, "data": None})]),
                        "e": ("array", []),
                        "n": ("null", None),
                        "t": (TIME, {"t": T}),
                    },
                ),
            ),
        ]
    ),
]


def test_every_kind_reads_as_fastavro_reads_it() -> None:
    model = example_model()
    encoder = TaskEncoder(model)
    for task in every_kind_tasks():
        _same(encoder.encode(model.validate_task(task)))


@pytest.mark.parametrize("index", range(len(DATUMS)))
def test_other_writers_shapes_read_as_fastavro_reads_them(index: int) -> None:
    _same(TaskEncoder(example_model()).codec.encode(DATUMS[index]))


def test_negative_block_counts_carry_a_size() -> None:
    """Avro lets a writer prefix a block with -count and its byte size."""
    encoder = TaskEncoder(example_model())
    header = encoder.codec.header
    point = string_bytes("asn") + b"\x04" + long_bytes(7) + b"\x00" * 4
    tags = string_bytes("a") + string_bytes("bc")
    body = b"".join(
        [
            string_bytes("ip"),
            b"\x00" + string_bytes("192.0.2.1"),
            long_bytes(-1) + long_bytes(len(point)) + point + b"\x00",
            long_bytes(-2) + long_bytes(len(tags)) + tags + b"\x00",
            b"\x00",  # ttl_tokens null
            b"\x00",  # delete false
        ]
    )
    _same(header + body)
    assert TaskDecoder(example_model()).read(header + body).tags == ["a", "bc"]


def test_truncated_or_damaged_payloads_raise_decode_error() -> None:
    model = example_model()
    decoder = TaskDecoder(model)
    data = TaskEncoder(model).encode(model.validate_task(every_kind_tasks()[0]))
    for end in range(10, len(data)):
        with pytest.raises(DecodeError, match="corrupt Avro payload"):
            decoder.read(data[:end])
    with pytest.raises(DecodeError, match="trailing bytes"):
        decoder.read(data + b"\x00")
    rng = random.Random(7)
    agreed = 0
    for _ in range(2000):
        damaged = bytearray(data)
        damaged[rng.randrange(10, len(data))] = rng.randrange(256)
        try:
            fast = repr(decoder.read(bytes(damaged)))
        except DecodeError:
            continue  # only DecodeError may escape
        try:
            reference = repr(decoder.read_reference(bytes(damaged)))
        except DecodeError:
            continue
        assert fast == reference
        agreed += 1
    assert agreed > 100
