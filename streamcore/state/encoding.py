"""Values to and from their stored JSON form.

Stored values are JSON text; reading parses them back with the attribute's own validator
(the model's parsers accept their JSON form and are idempotent), so the store needs no
per-type code of its own.
"""

from __future__ import annotations

from datetime import datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import orjson

from streamcore.model.datapoint import Link
from streamcore.model.primitives import MACAddress, value_text


def jsonable(value: Any) -> Any:
    """The JSON-friendly form of a canonical value (addresses and times as strings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if type(value) is IPv4Address:
        return value_text(value)
    if isinstance(value, IPv4Address | IPv6Address | MACAddress):
        return str(value)
    if isinstance(value, Link):
        if value.data is None:
            return {"eid": jsonable(value.eid)}
        return {"eid": jsonable(value.eid), "data": jsonable(value.data)}
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    raise TypeError(f"{type(value).__name__} has no stored form")


_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def _orjson_default(value: Any) -> Any:
    if isinstance(value, IPv4Address | IPv6Address | MACAddress):
        return str(value)
    if isinstance(value, Link | set | frozenset | tuple):
        return jsonable(value)
    raise TypeError(f"{type(value).__name__} has no stored form")


def dumps(value: Any) -> str:
    """Stable text (sorted keys), so equal values have equal text and equal row keys.

    The same text as ``json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, made by orjson: this runs for every data-point.
    """
    return orjson.dumps(value, default=_orjson_default, option=_ORJSON_OPTIONS).decode()


def eid_text(eid: Any) -> str:
    """The entity id as the partition key stores it."""
    return eid if isinstance(eid, str) else str(jsonable(eid))
