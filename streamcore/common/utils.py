"""``dp3.common.utils``: the helpers DP³ modules and tool scripts import, with DP³'s results.

Note ``parse_rfc_time`` returns a *naive* UTC datetime, as DP³'s does (streamcore itself
works with aware UTC datetimes: ``streamcore.model.primitives.parse_time``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from itertools import islice
from typing import Any, TypeVar

from streamcore.model.primitives import parse_duration

_T = TypeVar("_T")

ipv4_re = re.compile(r"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$")
timestamp_re = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|(?:[+-]\d{2}:\d{2}))?$"
)
time_duration_pattern = re.compile(r"^\s*(\d+)([smhd])?$")
DEPENDENCY_LOGGERS = ("requests", "urllib3", "amqpstorm", "pymongo")


def entity_expired(utcnow: datetime, master_document: dict[str, Any]) -> bool:
    """Whether every TTL token of a master record (``"#ttl"``) lies before ``utcnow``."""
    if "#ttl" not in master_document:
        return False
    return all(ttl < utcnow for ttl in master_document["#ttl"].values())


def ipstr2int(s: str) -> int:
    """A dotted IPv4 address as an integer (octet ranges unchecked, as DP³)."""
    match = ipv4_re.match(s)
    if match is None:
        raise ValueError(f"Invalid IPv4 format: {s!r}")
    a1, a2, a3, a4 = (int(x) for x in match.groups())
    return a1 << 24 | a2 << 16 | a3 << 8 | a4


def int2ipstr(i: int) -> str:
    return ".".join((str(i >> 24), str((i >> 16) & 0xFF), str((i >> 8) & 0xFF), str(i & 0xFF)))


def int2bytes(num: int) -> bytes:
    """A signed int in as few big-endian bytes as it needs."""
    return num.to_bytes(
        length=(8 + (num + (num < 0)).bit_length()) // 8, byteorder="big", signed=True
    )


def bytes2int(b: bytes) -> int:
    return int.from_bytes(b, "big", signed=True)


def parse_rfc_time(time_str: str) -> datetime:
    """An RFC 3339 time as a naive UTC datetime (UTC if no zone is given); ``ValueError``
    ``"Wrong timestamp format"`` otherwise."""
    match = timestamp_re.match(time_str)
    if match is None:
        raise ValueError("Wrong timestamp format")
    year, month, day, hour, minute, second = (int(n or 0) for n in match.group(1, 2, 3, 4, 5, 6))
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = match.group(8)
    offset = 0 if zone in (None, "z", "Z") else int(zone[:3]) * 60 + int(zone[4:6])
    naive = datetime(year, month, day, hour, minute, second, micro)  # noqa: DTZ001 (DP³: naive UTC)
    return naive - timedelta(minutes=offset)


def parse_time_duration(duration_string: str | int | timedelta) -> timedelta:
    """``"30m"``, ``"1d"``, seconds or a timedelta as a timedelta (``ValueError`` if not)."""
    return parse_duration(duration_string)


def conv_to_json(obj: Any) -> Any:
    """``json.dumps(default=...)`` for naive datetimes and timedeltas (DP³'s task format)."""
    if isinstance(obj, datetime):
        if obj.tzinfo:
            raise NotImplementedError(
                "Can't serialize timezone-aware datetime object "
                "(DP3 policy is to use naive datetimes in UTC everywhere)"
            )
        return {"$datetime": obj.strftime("%Y-%m-%dT%H:%M:%S.%f")}
    if isinstance(obj, timedelta):
        return {"$timedelta": f"{obj.days},{obj.seconds},{obj.microseconds}"}
    raise TypeError(f"{obj!r} is not JSON serializable")


def conv_from_json(dct: dict[str, Any]) -> Any:
    """``json.loads(object_hook=...)``, the inverse of ``conv_to_json``."""
    if "$datetime" in dct:
        return datetime.strptime(dct["$datetime"], "%Y-%m-%dT%H:%M:%S.%f")  # noqa: DTZ007
    if "$timedelta" in dct:
        days, seconds, micro = dct["$timedelta"].split(",")
        return timedelta(int(days), int(seconds), int(micro))
    return dct


def batched(iterable: Iterable[_T], n: int) -> Iterator[list[_T]]:
    """Lists of ``n`` items (the last may be shorter)."""
    if n < 1:
        raise ValueError("n must be at least one")
    it = iter(iterable)
    while batch := list(islice(it, n)):
        yield batch


def _func_name(func_or_method: Any, arg_formatter: Callable[[Any], str]) -> str:
    args = ""
    wrapper = "{name}{args}"
    if isinstance(func_or_method, partial):
        wrapper = "partial({name}, {args})"
        parts = [arg_formatter(arg) for arg in func_or_method.args]
        parts.extend(f"{k}={arg_formatter(v)}" for k, v in sorted(func_or_method.keywords.items()))
        args = ", ".join(parts)
        func_or_method = func_or_method.func
    func = getattr(func_or_method, "__func__", func_or_method)
    module = getattr(func, "__module__", None)
    name = getattr(func, "__qualname__", getattr(func, "__name__", None))
    if name is None and callable(func):
        module, name = func.__class__.__module__, func.__class__.__qualname__
    elif name is None:
        name = str(func)
    return wrapper.format(name=f"{module}.{name}" if module else name, args=args)


def _stable_arg(arg: Any) -> str:
    if callable(arg):
        return get_stable_func_name(arg)
    if type(arg).__str__ is object.__str__:  # type: ignore[comparison-overlap]
        return f"{arg.__class__.__module__}.{arg.__class__.__qualname__}"
    return str(arg)


def get_func_name(func_or_method: Any) -> str:
    """``module.Class.method`` of a function or method; ``partial(name, args)`` of a
    ``functools.partial`` (DP³'s format, which its log lines and tests match on)."""
    return _func_name(func_or_method, str)


def get_stable_func_name(func_or_method: Any) -> str:
    """As ``get_func_name``, without object addresses in partial arguments."""
    return _func_name(func_or_method, _stable_arg)


def suppress_dependency_loggers(level: int = logging.WARNING) -> None:
    """Quiet the third-party loggers DP³ lists."""
    for name in DEPENDENCY_LOGGERS:
        logging.getLogger(name).setLevel(level)


__all__ = [
    "DEPENDENCY_LOGGERS",
    "batched",
    "bytes2int",
    "conv_from_json",
    "conv_to_json",
    "entity_expired",
    "get_func_name",
    "get_stable_func_name",
    "int2bytes",
    "int2ipstr",
    "ipstr2int",
    "ipv4_re",
    "parse_rfc_time",
    "parse_time_duration",
    "suppress_dependency_loggers",
    "time_duration_pattern",
    "timestamp_re",
]
