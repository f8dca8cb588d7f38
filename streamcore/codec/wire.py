"""Canonical model values <-> the typed Avro ``Value`` union of ``datapoint_task.avsc``.

Writers are compiled per data type (like the validators) and emit fastavro's tuple
notation ``(branch, value)`` so the union branch is chosen without trial validation (which
is both slow and ambiguous between a map and a record). Reading is model-independent:
``unwrap`` turns records back into datetimes, ``Link`` and plain JSON values; the model's
validators then restore IP/MAC objects and check everything, as for any input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from streamcore.model.datapoint import Link
from streamcore.model.datatypes import DataType, Kind
from streamcore.model.primitives import MACAddress

Writer = Callable[[Any], Any]

TIMESTAMP = "streamcore.Timestamp"
JSON = "streamcore.Json"
LINK = "streamcore.Link"
NULL = ("null", None)


def _tagged(branch: str) -> Writer:
    return lambda value: (branch, value)


def _text(value: Any) -> tuple[str, str]:
    return ("string", str(value))


def _time(value: datetime) -> tuple[str, dict[str, datetime]]:
    return (TIMESTAMP, {"t": value})


def json_value(value: Any) -> tuple[str, Any]:
    """Any JSON-representable value as a ``Json`` record (nested values as nested records)."""
    return (JSON, {"v": _json_inner(value)})


def _json_inner(value: Any) -> tuple[str, Any]:
    if value is None:
        return NULL
    if value is True or value is False:
        return ("boolean", value)
    if isinstance(value, int):
        return ("long", value)
    if isinstance(value, float):
        return ("double", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, bytes):
        return ("bytes", value)
    if isinstance(value, list | tuple):
        return ("array", [{"v": _json_inner(item)} for item in value])
    if isinstance(value, dict):
        return ("map", {key: {"v": _json_inner(item)} for key, item in value.items()})
    raise ValueError(f"{type(value).__name__} can't be written as JSON")


_PRIMITIVE_WRITERS: dict[str, Writer] = {
    "tag": _tagged("boolean"),
    "binary": _tagged("boolean"),
    "string": _tagged("string"),
    "int": _tagged("long"),
    "int64": _tagged("long"),
    "float": _tagged("double"),
    "ipv4": _text,
    "ipv6": _text,
    "mac": _text,
    "time": _time,
    "special": json_value,
    "json": json_value,
}


def eid_writer(id_data_type: str) -> Writer:
    """Entity ids travel as ``long`` (int ids) or their canonical text."""
    return _tagged("long") if id_data_type == "int" else _text


def compile_writer(data_type: DataType, eid_types: dict[str, str]) -> Writer:
    """The wire writer of canonical values of ``data_type`` (``eid_types``: etype -> id type)."""
    kind = data_type.kind
    if kind in (Kind.PRIMITIVE, Kind.CATEGORY):
        return _PRIMITIVE_WRITERS[data_type.name]
    if kind in (Kind.ARRAY, Kind.SET):
        elem = compile_writer(data_type.elem_type, eid_types)
        return lambda value: ("array", [elem(item) for item in value])
    if kind is Kind.DICT:
        fields = {key: compile_writer(t, eid_types) for key, (t, _) in data_type.fields.items()}
        return lambda value: (
            "map",
            {k: NULL if item is None else fields[k](item) for k, item in value.items()},
        )
    eid = eid_writer(eid_types[data_type.get_linked_entity()])
    link_data = data_type.link_data
    if link_data is None:
        return lambda value: (LINK, {"eid": eid(value.eid), "data": NULL})
    data = _scalar_writer(link_data, eid_types)
    return lambda value: (LINK, {"eid": eid(value.eid), "data": data(value.data)})


def _scalar_writer(data_type: DataType, eid_types: dict[str, str]) -> Writer:
    """Link data must fit the scalar union: arrays and dicts go as ``Json``."""
    if data_type.kind in (Kind.ARRAY, Kind.SET, Kind.DICT):
        return lambda value: json_value(to_plain(value))
    return compile_writer(data_type, eid_types)


def series_writer(series: dict[str, DataType]) -> Writer:
    """Timeseries values: a map of series name -> array of numbers or times."""
    writers = {name: _PRIMITIVE_WRITERS[t.name] for name, t in series.items()}

    def write(value: dict[str, list[Any]]) -> tuple[str, Any]:
        return (
            "map",
            {name: ("array", [writers[name](x) for x in items]) for name, items in value.items()},
        )

    return write


def to_plain(value: Any) -> Any:
    """A canonical value as plain JSON-like data (addresses as text, times as ISO text)."""
    if isinstance(value, IPv4Address | IPv6Address | MACAddress):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Link):
        return {"eid": to_plain(value.eid), "data": to_plain(value.data)}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    return value


def unwrap(value: Any) -> Any:
    """A decoded ``Value`` as plain Python: records back to datetime, ``Link`` and JSON."""
    if type(value) is tuple:
        name, record = value
        if name == TIMESTAMP:
            return record["t"]
        if name == LINK:
            return Link(unwrap(record["eid"]), unwrap(record["data"]))
        return _unwrap_json(record["v"])
    if type(value) is list:
        return [unwrap(item) for item in value]
    if type(value) is dict:
        return {key: unwrap(item) for key, item in value.items()}
    return value


def _unwrap_json(value: Any) -> Any:
    """Inside a ``Json`` record nested values are bare ``{"v": ...}`` records (no union)."""
    if type(value) is list:
        return [_unwrap_json(item["v"]) for item in value]
    if type(value) is dict:
        return {key: _unwrap_json(item["v"]) for key, item in value.items()}
    return value
