"""A hand-compiled Avro binary reader for ``DataPointTask``: the worker's hot path.

The mirror of ``codec.binary``: fastavro's generic reader costs ~8 µs per data-point here
(schema walks, union resolution, a dict per record that ``wire.unwrap`` then takes apart).
This reader walks the bytes of the current ``datapoint_task.avsc`` directly and builds
the ``DataPointTask`` with values already unwrapped (times as UTC datetimes, ``Link``
objects, plain JSON). For every valid payload it returns what fastavro + ``unwrap`` return
(a unit test holds it to that); corrupt payloads raise (``IndexError``, ``ValueError``,
``struct.error``, ``UnicodeDecodeError``), which the decoder turns into ``DecodeError``.
If the schema changes, this file must change with it; the test fails until it does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.model.primitives import EPOCH

_DOUBLE = struct.Struct("<d").unpack_from

Read = Callable[[bytes, int], tuple[Any, int]]


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    """Avro ``long``: base-128 varint, then zig-zag."""
    b = data[pos]
    pos += 1
    n = b & 0x7F
    shift = 7
    while b & 0x80:
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
    return (n >> 1) ^ -(n & 1), pos


def read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    size = data[pos]
    if size < 0x80:  # one-byte length: most strings here (inlined read_long)
        size = (size >> 1) ^ -(size & 1)
        pos += 1
    else:
        size, pos = read_long(data, pos)
    end = pos + size
    if size < 0 or end > len(data):
        raise ValueError(f"expected {size} bytes at {pos}, the payload ends at {len(data)}")
    return data[pos:end], end


def read_string(data: bytes, pos: int) -> tuple[str, int]:
    raw, pos = read_bytes(data, pos)
    return raw.decode(), pos


def read_time(data: bytes, pos: int) -> tuple[datetime, int]:
    """``timestamp-micros`` as fastavro converts it (epoch + timedelta, UTC)."""
    micros, pos = read_long(data, pos)
    return EPOCH + timedelta(microseconds=micros), pos


def _bool(data: bytes, pos: int) -> tuple[bool, int]:
    return data[pos] != 0, pos + 1


def _double(data: bytes, pos: int) -> tuple[float, int]:
    return _DOUBLE(data, pos)[0], pos + 8


def _null(data: bytes, pos: int) -> tuple[None, int]:
    return None, pos


def _blocks(data: bytes, pos: int) -> tuple[int, int]:
    """The item count of the next array/map block (a negative count carries a byte size)."""
    count, pos = read_long(data, pos)
    if count < 0:
        count = -count
        _, pos = read_long(data, pos)
    return count, pos


def _array(item: Read) -> Read:
    def read(data: bytes, pos: int) -> tuple[list[Any], int]:
        out: list[Any] = []
        count, pos = _blocks(data, pos)
        while count:
            for _ in range(count):
                value, pos = item(data, pos)
                out.append(value)
            count, pos = _blocks(data, pos)
        return out, pos

    return read


def _map(item: Read) -> Read:
    def read(data: bytes, pos: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        count, pos = _blocks(data, pos)
        while count:
            for _ in range(count):
                key, pos = read_string(data, pos)
                out[key], pos = item(data, pos)
            count, pos = _blocks(data, pos)
        return out, pos

    return read


def _union(branches: list[Read]) -> Read:
    def read(data: bytes, pos: int) -> tuple[Any, int]:
        index = data[pos]
        if index < 0x80:  # inlined read_long of a one-byte branch index
            index = (index >> 1) ^ -(index & 1)
            pos += 1
        else:
            index, pos = read_long(data, pos)
        if index < 0:
            raise ValueError(f"union branch {index}")
        return branches[index](data, pos)

    return read


_EID = _union([read_string, read_long])
_SCALARS: list[Read] = [_null, _bool, read_long, _double, read_string, read_bytes, read_time]
# Json's ``v``: scalars, then arrays and maps of nested Json (their bare ``v``).
_JSON_BRANCHES: list[Read] = _SCALARS[:6]
_JSON = _union(_JSON_BRANCHES)
_JSON_BRANCHES += [_array(_JSON), _map(_JSON)]
# Scalar union: ..., Timestamp, Link, Json (Link holds a scalar, so it is filled in after).
_SCALAR_BRANCHES: list[Read] = [*_SCALARS, _null, _JSON]
_SCALAR = _union(_SCALAR_BRANCHES)


def _link(data: bytes, pos: int) -> tuple[Link, int]:
    eid, pos = _EID(data, pos)
    value, pos = _SCALAR(data, pos)
    return Link(eid, value), pos


_SCALAR_BRANCHES[7] = _link
_SCALAR_ARRAY = _array(_SCALAR)
_VALUE = _union(
    [
        *_SCALARS,
        _JSON,
        _link,
        _SCALAR_ARRAY,
        _map(_union([*_SCALAR_BRANCHES, _SCALAR_ARRAY])),
    ]
)
_TIME = _union([_null, read_time])
_DOUBLE_OR_NULL = _union([_null, _double])
_STRINGS = _array(read_string)
_TOKENS = _union([_null, _map(read_time)])
_SRC = _union([_null, read_string])


def read_task(data: bytes, pos: int) -> tuple[DataPointTask, int]:
    """The task whose Avro body starts at ``pos``; returns it and the position after it.

    Data-points carry the task's ``etype`` and ``eid`` (as the reference decoder does).
    Equal consecutive times are one datetime object (fastavro's are equal, not the same),
    which lets validation skip parsing ``t2`` again (its ``t2 is t1`` shortcut).
    """
    etype, pos = read_string(data, pos)
    eid, pos = _EID(data, pos)
    points: list[DataPoint] = []
    last_micros: int | None = None
    last_time: datetime | None = None
    count, pos = _blocks(data, pos)
    while count:
        for _ in range(count):
            attr, pos = read_string(data, pos)
            v, pos = _VALUE(data, pos)
            times: list[datetime | None] = []
            for _ in range(2):
                branch = data[pos]
                if branch == 0:  # null
                    times.append(None)
                    pos += 1
                    continue
                branch, pos = (1, pos + 1) if branch == 2 else read_long(data, pos)
                if branch != 1:
                    raise ValueError(f"time union branch {branch}")
                micros, pos = read_long(data, pos)
                if micros != last_micros:
                    last_micros = micros
                    last_time = EPOCH + timedelta(microseconds=micros)
                times.append(last_time)
            if data[pos] == 0:  # null (most c and src), without a call
                c, pos = None, pos + 1
            else:
                c, pos = _DOUBLE_OR_NULL(data, pos)
            if data[pos] == 0:
                src, pos = None, pos + 1
            else:
                src, pos = _SRC(data, pos)
            points.append(DataPoint(etype, eid, attr, v, times[0], times[1], c, src))
        count, pos = _blocks(data, pos)
    tags, pos = _STRINGS(data, pos)
    tokens, pos = _TOKENS(data, pos)
    delete, pos = _bool(data, pos)
    return DataPointTask(etype, eid, points, tags, tokens, delete), pos
