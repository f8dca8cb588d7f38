"""``dp3.common.types``: pydantic field types DP³ modules use in their own models."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv6Address
from json import JSONEncoder
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from streamcore.common._absent import absent
from streamcore.model.primitives import parse_duration

_DURATION = re.compile(r"^\s*(\d+)([smhd])?$")


def parse_timedelta_or_passthrough(v: Any) -> Any:
    """``"30m"``-style strings as a timedelta; anything else is left to pydantic."""
    if v and isinstance(v, str) and _DURATION.match(v):
        return parse_duration(v)
    return v


ParsedTimedelta = Annotated[timedelta, BeforeValidator(parse_timedelta_or_passthrough)]
"""A ``timedelta`` field that also accepts DP³'s ``"30m"``/``"1d"`` strings."""


def ensure_timezone_aware(v: datetime | None) -> datetime | None:
    """A naive datetime as UTC; an aware one unchanged (its zone kept)."""
    if v is None or v.tzinfo is not None:
        return v
    return v.replace(tzinfo=UTC)


AwareDatetime = Annotated[datetime, AfterValidator(ensure_timezone_aware)]


def t2_implicity_t1(v: Any, info: ValidationInfo) -> Any:
    """A missing ``t2`` is ``t1`` (DP³'s spelling of the name kept)."""
    return v or info.data.get("t1")


def t2_after_t1(v: Any, info: ValidationInfo) -> Any:
    """``t2`` may not be before ``t1``."""
    t1 = info.data.get("t1")
    if t1 and v < t1:
        raise ValueError("'t2' is before 't1'")
    return v


T2Datetime = Annotated[AwareDatetime, BeforeValidator(t2_implicity_t1), AfterValidator(t2_after_t1)]


class DP3Encoder(JSONEncoder):
    """JSON with DP³'s conventions: datetimes as ``%Y-%m-%dT%H:%M:%S.%f`` to milliseconds
    with ``Z`` dropped (as DP³ writes them), IP addresses as strings."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4]
        if isinstance(o, IPv4Address | IPv6Address):
            return str(o)
        return super().default(o)


__getattr__ = absent(
    __name__,
    {
        "EventGroupType": "Redis event counting (event_count_logger); streamcore counts "
        "events as Prometheus metrics"
    },
)

__all__ = [
    "AwareDatetime",
    "DP3Encoder",
    "ParsedTimedelta",
    "T2Datetime",
    "ensure_timezone_aware",
    "parse_timedelta_or_passthrough",
    "t2_after_t1",
    "t2_implicity_t1",
]
