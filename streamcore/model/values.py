"""Value validators, compiled once per data type at model load.

``compile_parser(data_type, eid_parsers)`` returns a function that takes a raw value (as
decoded from JSON or Avro, or built by a module) and returns the canonical Python value:
``int``, ``float``, ``str``, ``bool``, ``IPv4Address``, ``IPv6Address``, ``MACAddress``, UTC
``datetime``, ``Link``, lists and dicts of those. It raises ``ValueError`` whose text is the
rule broken; the caller adds entity, attribute and value. Parsers are idempotent: parsing a
canonical value returns an equal value, which is how decoding reuses them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from ipaddress import IPv4Address, IPv6Address
from typing import Any, NoReturn

from streamcore.model.datapoint import Link
from streamcore.model.datatypes import DataType, Kind
from streamcore.model.primitives import MACAddress, parse_time

Parser = Callable[[Any], Any]

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def _describe(value: Any) -> str:
    return type(value).__name__


def _bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise ValueError(f"expected true or false, got {_describe(value)}")


def _string(value: Any) -> str:
    if type(value) is str:
        _check_unicode(value)
        return value
    raise ValueError(f"expected a string, got {_describe(value)}")


def _check_unicode(text: str) -> None:
    """Lone surrogates can be held in a Python string but not encoded as UTF-8 (Avro,
    stored JSON): refuse them here rather than fail later on the write path."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise ValueError("string is not valid Unicode (lone surrogate)") from None


def _int_parser(bounds: tuple[int, int], label: str) -> Parser:
    low, high = bounds

    def parse(value: Any) -> int:
        if type(value) is int and low <= value <= high:
            return value
        if type(value) is int:
            raise ValueError(f"{value} is out of range for {label}")
        raise ValueError(f"expected an integer ({label}), got {_describe(value)}")

    return parse


def _float(value: Any) -> float:
    """A finite number: JSON (the stored form) has no NaN or infinity, so they are refused."""
    kind = type(value)
    if kind is float:
        if value - value == 0.0:  # false for NaN and ±inf (cheaper than math.isfinite)
            return value  # type: ignore[no-any-return]
        raise ValueError(f"{value!r} is not a finite number (NaN and infinity can't be stored)")
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise ValueError("integer too large for a float") from None
    raise ValueError(f"expected a number, got {_describe(value)}")


def _ip_parser(cls: type[IPv4Address] | type[IPv6Address], family: str) -> Parser:
    def parse(value: Any) -> Any:
        if type(value) is cls:
            return value
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                raise ValueError(f"{value!r} is not an {family} address") from None
        raise ValueError(f"expected an {family} address string, got {_describe(value)}")

    return parse


def _mac(value: Any) -> MACAddress:
    if type(value) is MACAddress:
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a MAC address string, got {_describe(value)}")
    return MACAddress(value)


def _special(value: Any) -> Any:
    """DP³'s ``special``: any value, as long as it is JSON-representable (so it can travel)."""
    _check_json(value)
    return value


def _json(value: Any) -> Any:
    """DP³'s ``json``: an object or array, or a string holding JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise ValueError("string is not valid JSON text (or nests too deeply)") from None
    elif not isinstance(value, dict | list):
        raise ValueError(f"expected a JSON object, array or JSON text, got {_describe(value)}")
    _check_json(value)
    return value


MAX_JSON_DEPTH = 64
"""Nesting of ``json``/``special`` values at most: the stored JSON encoder stops at 254."""


def _check_json(value: Any, depth: int = 0) -> None:
    """Only JSON values the stored form and the Avro encoding can both carry: finite
    floats, integers within 64 bits, valid Unicode, nesting within ``MAX_JSON_DEPTH``."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise ValueError(f"JSON integer {value} is out of the 64-bit range")
        return
    if isinstance(value, str):
        _check_unicode(value)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("JSON can't hold NaN or infinity")
        return
    if depth >= MAX_JSON_DEPTH and isinstance(value, list | dict):
        raise ValueError(f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"JSON object keys must be strings, got {key!r}")
            _check_unicode(key)
            _check_json(item, depth + 1)
        return
    raise ValueError(f"{_describe(value)} is not a JSON value")


PRIMITIVE_PARSERS: dict[str, Parser] = {
    "tag": _bool,
    "binary": _bool,
    "string": _string,
    "int": _int_parser(INT32, "32-bit int"),
    "int64": _int_parser(INT64, "64-bit int64"),
    "float": _float,
    "ipv4": _ip_parser(IPv4Address, "IPv4"),
    "ipv6": _ip_parser(IPv6Address, "IPv6"),
    "mac": _mac,
    "time": parse_time,
    "special": _special,
    "json": _json,
}


MAX_ID_BYTES = 65_535
"""Cassandra's limit on one partition or clustering key value: a longer string id could
never be written (the write would fail, and be retried, for ever)."""


def eid_parser(id_data_type: str) -> Parser:
    """Entity ids: like the primitive parser, but int ids may arrive as decimal strings
    (they come from URLs and ``"id"`` fields), and string ids must not be empty."""
    base = PRIMITIVE_PARSERS[id_data_type]
    if id_data_type == "int":

        def parse_int(value: Any) -> Any:
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            return base(value)

        return parse_int
    if id_data_type == "string":

        def parse_string(value: Any) -> str:
            if type(value) is str and value:
                if len(value) > MAX_ID_BYTES // 4 and len(value.encode()) > MAX_ID_BYTES:
                    raise ValueError(f"id is longer than {MAX_ID_BYTES} bytes (UTF-8)")
                _check_unicode(value)
                return value
            raise ValueError("expected a non-empty string id")

        return parse_string
    return _remembered(base)


def _remembered(parse: Parser, limit: int = 50_000) -> Parser:
    """``parse`` remembering the ids it parsed from text: a worker sees the same entity
    many times, and building an address object costs more than the rest of a task's
    checks. Only successes are kept; the values are immutable, so sharing them is safe."""
    known: dict[str, Any] = {}

    def parse_remembered(value: Any) -> Any:
        if type(value) is not str:
            return parse(value)
        found = known.get(value)
        if found is None:
            found = parse(value)
            if len(known) >= limit:
                known.clear()
            known[value] = found
        return found

    return parse_remembered


def compile_parser(data_type: DataType, eid_parsers: Mapping[str, Parser]) -> Parser:
    """The validator for values of ``data_type``; links need the target's eid parser."""
    kind = data_type.kind
    if kind is Kind.PRIMITIVE:
        return PRIMITIVE_PARSERS[data_type.name]
    if kind is Kind.CATEGORY:
        return _category(data_type)
    if kind is Kind.ARRAY:
        return _array(compile_parser(data_type.elem_type, eid_parsers))
    if kind is Kind.SET:
        return _set(compile_parser(data_type.elem_type, eid_parsers))
    if kind is Kind.DICT:
        return _dict(data_type, eid_parsers)
    return _link(data_type, eid_parsers)


def _category(data_type: DataType) -> Parser:
    base = PRIMITIVE_PARSERS[data_type.name]
    allowed = frozenset(base(_coerce_category(data_type.name, v)) for v in data_type.categories)
    listing = ", ".join(data_type.categories)

    def parse(value: Any) -> Any:
        parsed = base(value)
        if parsed in allowed:
            return parsed
        raise ValueError(f"{value!r} is not one of the categories [{listing}]")

    return parse


def _coerce_category(base: str, text: str) -> Any:
    """Category values are written as words in the config; read them as the base type."""
    if base in ("int", "int64"):
        return int(text)
    if base == "float":
        return float(text)
    if base == "binary":
        return text.lower() == "true"
    return text


def _array(elem: Parser) -> Parser:
    def parse(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected an array, got {_describe(value)}")
        out = []
        for index, item in enumerate(value):
            try:
                out.append(elem(item))
            except ValueError as exc:
                raise ValueError(f"item [{index}]: {exc}") from None
        return out

    return parse


def _set(elem: Parser) -> Parser:
    array = _array(elem)

    def parse(value: Any) -> list[Any]:
        if isinstance(value, set | frozenset):
            value = list(value)
        items: list[Any] = array(value)
        try:
            seen: set[Any] = set()
            for index, item in enumerate(items):
                if item in seen:
                    _repeated(index, item)
                seen.add(item)
        except TypeError:  # unhashable items (links carrying dict data): compare pairwise
            for index, item in enumerate(items):
                if item in items[:index]:
                    _repeated(index, item)
        return items

    return parse


def _repeated(index: int, item: Any) -> NoReturn:
    raise ValueError(f"item [{index}] {item!r} repeats an earlier item of the set")


def _dict(data_type: DataType, eid_parsers: Mapping[str, Parser]) -> Parser:
    fields = {
        key: (compile_parser(field_type, eid_parsers), optional)
        for key, (field_type, optional) in data_type.fields.items()
    }
    names = ", ".join(data_type.fields)

    def parse(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"expected an object with keys {names}, got {_describe(value)}")
        unknown = value.keys() - fields.keys()
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}; expected {names}")
        out: dict[str, Any] = {}
        for key, (parser, optional) in fields.items():
            item = value.get(key)
            if item is None:
                if not optional:
                    raise ValueError(f"key '{key}' is required")
                out[key] = None
                continue
            try:
                out[key] = parser(item)
            except ValueError as exc:
                raise ValueError(f"key '{key}': {exc}") from None
        return out

    return parse


def _link(data_type: DataType, eid_parsers: Mapping[str, Parser]) -> Parser:
    target = data_type.get_linked_entity()
    eid = eid_parsers[target]
    data = compile_parser(data_type.link_data, eid_parsers) if data_type.link_data else None
    keys = {"eid", "data"} if data else {"eid"}

    def parse(value: Any) -> Link:
        if type(value) is Link:
            raw_eid, raw_data = value.eid, value.data
        elif isinstance(value, dict):
            if "eid" not in value or value.keys() - keys:
                raise ValueError(f"a link to {target} is an object with keys {sorted(keys)}")
            raw_eid, raw_data = value["eid"], value.get("data")
        else:
            raise ValueError(
                f"expected a link to {target} ({{'eid': ...}}), got {_describe(value)}"
            )
        try:
            linked = eid(raw_eid)
        except ValueError as exc:
            raise ValueError(f"linked {target} id: {exc}") from None
        if data is None:
            if raw_data is not None:
                raise ValueError(f"a link to {target} carries no data")
            return Link(linked)
        if raw_data is None:
            raise ValueError(f"a link to {target} needs 'data'")
        try:
            return Link(linked, data(raw_data))
        except ValueError as exc:
            raise ValueError(f"link data: {exc}") from None

    return parse
