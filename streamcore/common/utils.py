"""``dp3.common.utils``: the helpers DP³ modules commonly import."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from streamcore.model.primitives import parse_duration, parse_time
from streamcore.module.hooks import callback_name


def parse_time_duration(duration_string: str | int | timedelta) -> timedelta:
    """``"30m"``, ``"1d"``, seconds or a timedelta as a timedelta (``ValueError`` if not)."""
    return parse_duration(duration_string)


def parse_rfc_time(time_str: str) -> datetime:
    """An ISO-8601/RFC 3339 time as an aware UTC datetime."""
    return parse_time(time_str)


def get_func_name(func_or_method: Any) -> str:
    """A readable name of a function, method or ``functools.partial``."""
    return callback_name(func_or_method)


__all__ = ["get_func_name", "parse_rfc_time", "parse_time_duration"]
