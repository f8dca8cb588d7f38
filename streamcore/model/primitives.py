"""Parsers for the scalar values DP³ data-points carry: times, durations, MAC addresses.

They accept the loose forms users send (ISO strings, epoch numbers, "30m") and return one
canonical Python value, so equal inputs compare equal after validation and encode the same.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from socket import inet_ntoa
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TIME_MIN = datetime(1000, 1, 1, tzinfo=UTC)
"""The earliest ``t1``/``t2``/TTL token the model accepts (inclusive)."""
TIME_MAX = datetime(9000, 1, 1, tzinfo=UTC)
"""The end of the accepted window (exclusive). The window keeps a thousand years from
each end of Python's datetime range (years 1..9999), so a time plus or minus a validity,
``max_age`` or TTL stays representable even in code that does not saturate
(``state.merge.shift`` does); every time in it is stored and read back exactly."""

# Epoch numbers above this are milliseconds (same cut-off as pydantic, which DP³ relies on).
_MS_THRESHOLD = 2e10
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-]?)(?:[0-9a-fA-F]{2}\1){4}[0-9a-fA-F]{2}$")


def value_text(value: Any) -> str:
    """``str(value)``, with IPv4 addresses (the commonest entity ids) written in C:
    ``ipaddress``'s own ``str`` was the largest single cost of encoding a task."""
    if type(value) is IPv4Address:
        return inet_ntoa(value.packed)
    return str(value)


def parse_time(value: Any) -> datetime:
    """A timezone-aware UTC datetime from a datetime, ISO-8601 string or epoch number.

    Naive datetimes and strings without an offset are taken as UTC (as DP³ does).
    Raises ``ValueError`` naming the accepted forms.
    """
    if type(value) is datetime:
        tz = value.tzinfo
        if tz is UTC:
            return value
        return value.replace(tzinfo=UTC) if tz is None else value.astimezone(UTC)
    if isinstance(value, str):
        try:
            return parse_time(datetime.fromisoformat(value))
        except ValueError:
            pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("a time can't be NaN or infinity")
        seconds = value / 1000 if abs(value) > _MS_THRESHOLD else value
        try:
            return EPOCH + timedelta(seconds=seconds)
        except OverflowError:
            pass
    elif isinstance(value, datetime):
        return parse_time(datetime.fromtimestamp(value.timestamp(), UTC))
    raise ValueError("expected a time (ISO-8601 string, datetime or epoch seconds/milliseconds)")


def check_window(name: str, moment: datetime) -> datetime:
    """``moment`` if it lies in ``TIME_MIN <= moment < TIME_MAX``; else ``ValueError``
    naming ``name``. Times outside it can't be merged, given a TTL and stored safely."""
    if TIME_MIN <= moment < TIME_MAX:
        return moment
    raise ValueError(
        f"{name}: {moment.isoformat()} is outside the accepted window "
        f"{TIME_MIN.date().isoformat()} .. {TIME_MAX.date().isoformat()}"
    )


def parse_duration(value: Any) -> timedelta:
    """A ``timedelta`` from DP³'s ``<int><s|m|h|d>`` form, a number of seconds or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)])
    raise ValueError(f"expected a duration like 30s, 10m, 12h or 7d, got {value!r}")


class MACAddress:
    """A MAC address; compares and hashes by its six bytes, prints as ``aa:bb:cc:dd:ee:ff``."""

    __slots__ = ("packed",)

    def __init__(self, mac: str | bytes | MACAddress) -> None:
        if isinstance(mac, MACAddress):
            self.packed: bytes = mac.packed
        elif isinstance(mac, bytes) and len(mac) == 6:
            self.packed = mac
        elif isinstance(mac, str) and _MAC.match(mac):
            self.packed = bytes.fromhex(mac.replace(":", "").replace("-", ""))
        elif isinstance(mac, bytes) and len(mac) == 17:
            self.packed = self._parse_mac(mac)
        else:
            raise ValueError(f"{mac!r} is not a MAC address")

    @staticmethod
    def _parse_mac(mac: bytes | str) -> bytes:
        """DP³'s parser: ``aa:bb:cc:dd:ee:ff`` or with ``-`` (one separator throughout) as
        six bytes; ``ValueError`` otherwise (modules and DP³'s tests call it)."""
        raw = mac.encode() if isinstance(mac, str) else mac
        if not isinstance(raw, bytes):
            raise TypeError(f"Expected str or bytes, got {type(mac)}")
        text = raw.decode("ascii", "replace")
        if len(text) != 17 or not _MAC.match(text) or text[2] not in ":-":
            raise ValueError(f"Invalid MAC address {text!r}, expected aa:bb:cc:dd:ee:ff")
        return bytes.fromhex(text.replace(text[2], ""))

    @property
    def mac(self) -> bytes:
        """The six bytes (DP³'s attribute name; ``packed`` is the same)."""
        return self.packed

    def __bytes__(self) -> bytes:
        return self.packed

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Usable as a pydantic field, as DP³'s: a MACAddress, a string or bytes in;
        the object in Python dumps, ``"aa:bb:cc:dd:ee:ff"`` in JSON."""
        from pydantic_core import core_schema

        parse = core_schema.no_info_plain_validator_function(_mac_from_any)
        return core_schema.json_or_python_schema(
            json_schema=parse,
            python_schema=parse,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _mac_dump, info_arg=True
            ),
        )

    def __str__(self) -> str:
        return ":".join(f"{b:02x}" for b in self.packed)

    def __repr__(self) -> str:
        return f"MACAddress('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MACAddress) and other.packed == self.packed

    def __hash__(self) -> int:
        return hash(self.packed)


def _mac_from_any(value: Any) -> MACAddress:
    if isinstance(value, MACAddress):
        return value
    if not isinstance(value, str | bytes):
        raise ValueError(f"{value!r} is not a MAC address")
    return MACAddress(value)


def _mac_dump(value: MACAddress, info: Any) -> Any:
    return str(value) if info.mode == "json" else value
