"""DP³'s snapshot filters (``generic_filter``, ``fulltext_filters``) as Python predicates.

DP³ hands ``generic_filter`` to MongoDB; streamcore evaluates the same language on each
latest snapshot (a JSON document) while scanning them (see README "HTTP API" for what a
filter costs). Pure: compiled once per request, no I/O.

Supported: ``$and $or $nor $not $eq $ne $lt $lte $gt $gte $in $nin $regex ($options)
$exists``, dotted paths (``link_attr.eid``), array fields matching when any element
matches (MongoDB's rule), and DP³'s magic strings (``$$IPv4{..}``, ``$$IPv6{..}``,
``$$IPv4Prefix{a/n}``, ``$$IPv6Prefix{a/n}``, ``$$int{..}``, ``$$Date{..}``,
``$$DateTs{..}``, ``$$MAC{..}``). Any other operator (or ``$$Binary_ID``, which addresses
MongoDB's snapshot buckets) raises ``FilterError`` naming it: the API answers 400.

Field paths are DP³'s: DP³ filters its latest-snapshot documents, which keep the snapshot
under ``last`` (DP³'s shell and tests write ``last.asn``, ``last.eid``), so a leading
``last.`` addresses the snapshot; a bare path (``asn``) addresses it too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from streamcore.model.primitives import MACAddress

Predicate = Callable[[dict[str, Any]], bool]

MAX_PATTERN_LENGTH = 1000
"""Longer regular expressions are refused (a bound on untrusted input)."""

MAX_FILTER_NODES = 1000
"""Operators and values in one filter at most."""

_MISSING = object()
_MAGIC = re.compile(r"^\$\$(\w+)\{(.*)\}$", re.DOTALL)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
}


SNAPSHOT_PREFIX = "last."
"""DP³'s path to the snapshot inside its latest-snapshot document."""


def snapshot_path(path: str) -> str:
    """``path`` within the snapshot document: DP³'s ``last.asn`` is ``asn``."""
    return path.removeprefix(SNAPSHOT_PREFIX)


class FilterError(ValueError):
    """A filter we can't evaluate; the message names the operator or value."""


def compile_filters(
    generic_filter: dict[str, Any] | None, fulltext_filters: dict[str, str] | None
) -> Predicate:
    """One predicate for both filters (fulltext overrides conflicting keys, as in DP³)."""
    merged: dict[str, Any] = dict(generic_filter or {})
    for attr, pattern in (fulltext_filters or {}).items():
        merged.pop(SNAPSHOT_PREFIX + attr, None)
        merged[attr] = {"$regex": pattern}
    counter = [0]
    return _document(merged, counter)


def _count(counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_FILTER_NODES:
        raise FilterError(f"filter has more than {MAX_FILTER_NODES} operators and values")


def _document(query: Any, counter: list[int]) -> Predicate:
    if not isinstance(query, dict):
        raise FilterError("a filter must be a JSON object")
    parts: list[Predicate] = []
    for key, cond in query.items():
        _count(counter)
        if key in ("$and", "$or", "$nor"):
            if not isinstance(cond, list) or not cond:
                raise FilterError(f"{key} needs a non-empty array")
            subs = [_document(sub, counter) for sub in cond]
            parts.append(_logical(key, subs))
        elif key.startswith("$"):
            raise FilterError(f"unsupported operator {key}")
        else:
            parts.append(_field(key, cond, counter))
    return lambda doc: all(part(doc) for part in parts)


def _logical(key: str, subs: list[Predicate]) -> Predicate:
    if key == "$and":
        return lambda doc: all(sub(doc) for sub in subs)
    if key == "$or":
        return lambda doc: any(sub(doc) for sub in subs)
    return lambda doc: not any(sub(doc) for sub in subs)


def _field(path: str, cond: Any, counter: list[int]) -> Predicate:
    test = _condition(cond, counter)
    steps = snapshot_path(path).split(".")
    return lambda doc: test(_lookup(doc, steps))


def _lookup(doc: Any, steps: list[str]) -> Any:
    value: Any = doc
    for step in steps:
        if isinstance(value, dict):
            value = value.get(step, _MISSING)
        elif isinstance(value, list):  # MongoDB: a path through an array reaches every item
            found = [item.get(step, _MISSING) for item in value if isinstance(item, dict)]
            value = [item for item in found if item is not _MISSING] or _MISSING
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


ValueTest = Callable[[Any], bool]


def _condition(cond: Any, counter: list[int]) -> ValueTest:
    if isinstance(cond, str):
        magic = _magic(cond)
        if isinstance(magic, _Range):
            return _range_test(magic)
        return _any_item(_equals(magic))
    if isinstance(cond, dict) and any(isinstance(k, str) and k.startswith("$") for k in cond):
        tests = []
        options = cond.get("$options", "")
        for op, arg in cond.items():
            _count(counter)
            if op == "$options":
                continue
            tests.append(_operator(op, arg, options, counter))
        return lambda value: all(test(value) for test in tests)
    value = _magic_deep(cond)
    return _any_item(_equals(value))


def _operator(op: str, arg: Any, options: Any, counter: list[int]) -> ValueTest:
    if op == "$eq":
        return _condition_eq(arg)
    if op == "$ne":
        eq = _condition_eq(arg)
        return lambda value: not eq(value)
    if op in _COMPARE:
        bound = _magic(arg) if isinstance(arg, str) else arg
        if isinstance(bound, _Range):
            bound = bound.low if op in ("$gt", "$gte") else bound.high
        return _any_item(_compare(_COMPARE[op], bound))
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise FilterError(f"{op} needs an array")
        tests = [_condition_eq(item) for item in arg]
        if op == "$in":
            return lambda value: any(test(value) for test in tests)
        return lambda value: not any(test(value) for test in tests)
    if op == "$regex":
        return _any_item(_regex(arg, options))
    if op == "$exists":
        return lambda value: (value is not _MISSING) == bool(arg)
    if op == "$not":
        if isinstance(arg, dict):
            inner = _condition(arg, counter)
        elif isinstance(arg, str):
            inner = _any_item(_regex(arg, ""))
        else:
            raise FilterError("$not needs an operator expression or a regular expression")
        return lambda value: not inner(value)
    raise FilterError(f"unsupported operator {op}")


def _condition_eq(arg: Any) -> ValueTest:
    magic = _magic(arg) if isinstance(arg, str) else _magic_deep(arg)
    if isinstance(magic, _Range):
        return _range_test(magic)
    return _any_item(_equals(magic))


def _any_item(test: ValueTest) -> ValueTest:
    """MongoDB's array rule: an array matches when it equals, or one of its items does."""

    def match(value: Any) -> bool:
        if value is _MISSING:
            return test(None)  # a missing field equals null, as in MongoDB
        if isinstance(value, list):
            return test(value) or any(test(item) for item in value)
        return test(value)

    return match


def _equals(expected: Any) -> ValueTest:
    def test(value: Any) -> bool:
        return bool(_coerce(value, expected) == expected)

    return test


def _compare(op: Callable[[Any, Any], bool], bound: Any) -> ValueTest:
    def test(value: Any) -> bool:
        if value is None or bound is None:
            return False
        value = _coerce(value, bound)
        if isinstance(value, bool) != isinstance(bound, bool):
            return False
        try:
            return bool(op(value, bound))
        except TypeError:  # MongoDB compares only within one type
            return False

    return test


def _regex(pattern: Any, options: Any) -> ValueTest:
    if not isinstance(pattern, str):
        raise FilterError("$regex needs a string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise FilterError(f"regular expression longer than {MAX_PATTERN_LENGTH} characters")
    flags = 0
    for option in str(options or ""):
        flag = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}.get(option)
        if flag is None:
            raise FilterError(f"unsupported $options flag {option!r}")
        flags |= flag
    try:
        compiled = re.compile(pattern, flags)
    except re.error as exc:
        raise FilterError(f"invalid regular expression {pattern!r}: {exc}") from None
    return lambda value: isinstance(value, str) and compiled.search(value) is not None


class _Range:
    """An address prefix: matches ``low <= value <= high``."""

    def __init__(self, low: Any, high: Any) -> None:
        self.low = low
        self.high = high


def _range_test(prefix: _Range) -> ValueTest:
    low = _compare(_COMPARE["$gte"], prefix.low)
    high = _compare(_COMPARE["$lte"], prefix.high)
    return _any_item(lambda value: low(value) and high(value))


def _magic_deep(value: Any) -> Any:
    if isinstance(value, str):
        return _magic(value)
    if isinstance(value, list):
        return [_magic_deep(item) for item in value]
    if isinstance(value, dict):
        return {key: _magic_deep(item) for key, item in value.items()}
    return value


def _magic(text: str) -> Any:
    """DP³'s ``$$Name{argument}`` strings to values; other strings as they are."""
    match = _MAGIC.match(text)
    if match is None:
        return text
    name, arg = match.groups()
    try:
        if name == "IPv4":
            return ipaddress.IPv4Address(arg)
        if name == "IPv6":
            return ipaddress.IPv6Address(arg)
        if name in ("IPv4Prefix", "IPv6Prefix"):
            net = (ipaddress.IPv4Network if name == "IPv4Prefix" else ipaddress.IPv6Network)(
                arg, strict=False
            )
            return _Range(net.network_address, net.broadcast_address)
        if name == "int":
            return int(arg)
        if name == "Date":
            return datetime.fromisoformat(arg.replace("Z", "+00:00")).astimezone(UTC)
        if name == "DateTs":
            return datetime.fromtimestamp(float(arg), UTC)
        if name == "MAC":
            return MACAddress(arg)
    except (ValueError, OverflowError, OSError) as exc:
        raise FilterError(f"invalid ${name} value {arg!r}: {exc}") from None
    raise FilterError(f"unsupported magic string $${name}")


def _coerce(value: Any, like: Any) -> Any:
    """A snapshot's JSON value as the type of the query's value (addresses and times are
    strings in JSON), so ``$$IPv4{..}`` compares as an address, not as text."""
    if isinstance(like, bool) or value is None:
        return value
    try:
        if isinstance(like, ipaddress.IPv4Address | ipaddress.IPv6Address) and isinstance(
            value, str
        ):
            return ipaddress.ip_address(value)
        if isinstance(like, datetime) and isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(like, MACAddress) and isinstance(value, str):
            return MACAddress(value)
    except ValueError:
        return value
    return value
