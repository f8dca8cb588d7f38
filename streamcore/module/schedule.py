"""``ScheduledJob``: a callback registered with ``scheduler_register``, checked up front.

DP³ hands the CRON fields to APScheduler's ``CronTrigger``, so a bad field fails at module
start-up. streamcore checks the same field syntax here (numbers in range, ``*``, ``*/n``,
``a-b``, ``a-b/n``, comma lists, weekday and month names, ``last`` and ``<nth> <weekday>``
for days) so a module with a typo fails at registration too, long before the scheduler
(a later stage) first computes a fire time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streamcore.errors import HookRegistrationError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RANGES: dict[str, tuple[int, int]] = {
    "year": (1970, 9999),
    "month": (1, 12),
    "day": (1, 31),
    "week": (1, 53),
    "day_of_week": (0, 6),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}
_NAMES: dict[str, tuple[str, ...]] = {"day_of_week": _WEEKDAYS, "month": _MONTHS}
_EXPR = re.compile(r"^(?:\*|(?P<first>\w+)(?:-(?P<last>\w+))?)(?:/(?P<step>\d+))?$")
_DAY_EXTRA = re.compile(r"^(?:last|(?:1st|2nd|3rd|4th|5th|last) (?:" + "|".join(_WEEKDAYS) + "))$")


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A module-level timed callback: called with ``func_args``/``func_kwargs`` only.

    ``fields`` holds the CRON fields given (``None`` ones left out); ``once`` jobs
    (``scheduler_register_once``) run once when each scheduler replica starts and have no
    fields. Cron jobs run in every process hosting the module (``schedule/local.py``),
    ``once_per_cluster`` ones once per fire time in the whole cluster instead.
    """

    job_id: int
    func: Callable[..., Any]
    module: str
    func_args: tuple[Any, ...] = ()
    func_kwargs: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, int | str] = field(default_factory=dict)
    timezone: str = "UTC"
    misfire_grace_time: int = 1
    once: bool = False
    once_per_cluster: bool = False

    @property
    def local(self) -> bool:
        """Run in every process hosting the module (DP³'s per-worker scheduler)."""
        return not (self.once or self.once_per_cluster)

    def run(self) -> Any:
        """Call the job's function as the scheduler will."""
        return self.func(*self.func_args, **self.func_kwargs)


def check_cron_fields(fields: dict[str, int | str | None], timezone: str) -> dict[str, int | str]:
    """The given (non-None) fields, each checked; ``HookRegistrationError`` on the first bad one."""
    given = {name: value for name, value in fields.items() if value is not None}
    for name, value in given.items():
        _check_field(name, value)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HookRegistrationError(f"scheduler_register: unknown timezone {timezone!r}") from None
    return given


def _check_field(name: str, value: int | str) -> None:
    low, high = _RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise HookRegistrationError(f"scheduler_register: {name}={value!r} is not int or str")
    for part in str(value).lower().split(","):
        expr = part.strip()
        if name == "day" and _DAY_EXTRA.match(expr):
            continue
        match = _EXPR.match(expr)
        bounds = [match.group("first"), match.group("last")] if match else []
        if match is None or not all(
            _in_range(bound, name, low, high) for bound in bounds if bound is not None
        ):
            raise HookRegistrationError(
                f"scheduler_register: invalid {name} expression {value!r} "
                f"(expected {low}-{high}, '*', '*/n', 'a-b', 'a-b/n' or a comma list)"
            )


def _in_range(bound: str, name: str, low: int, high: int) -> bool:
    if bound.isdigit():
        return low <= int(bound) <= high
    return bound in _NAMES.get(name, ())
