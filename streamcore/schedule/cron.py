"""``CronSchedule``: DP³'s cron fields (APScheduler's ``CronTrigger`` syntax) as fire times.

DP³ writes schedules as APScheduler fields (``{minute: "*/30"}``, ``day_of_week: "mon-fri"``,
``day: "last fri"``); streamcore computes the times with croniter. The translation keeps
APScheduler's meaning where the two differ:

* unset fields above the least significant given one are ``*``, below it their minimum
  (``{hour: 3}`` is 03:00:00 daily); ``week`` and ``day_of_week`` default to ``*``; no fields
  at all means every second;
* weekdays count from Monday = 0 (cron counts from Sunday), so ``day_of_week`` is expanded
  to an explicit list of cron weekdays;
* ``day`` and ``day_of_week`` must both match (cron's "either" rule is turned off);
* ``day: "last"``, ``"last fri"`` and ``"2nd mon"`` become croniter's ``L``, ``L5``, ``1#2``;
* ``week`` (ISO week, which cron lacks) filters croniter's times.

Pure: no clock is read; callers pass the moment to search from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_MINIMUM = {"month": "1", "day": "1", "hour": "0", "minute": "0", "second": "0"}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ORDINALS = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}
_RANGE = re.compile(r"^(?:\*|(?P<first>\w+)(?:-(?P<last>\w+))?)(?:/(?P<step>\d+))?$")
_NTH_WEEKDAY = re.compile(r"^(?P<nth>1st|2nd|3rd|4th|5th|last) (?P<day>[a-z]{3})$")


class CronSchedule:
    """Fire times of one schedule. ``fields``: APScheduler field name -> value (None: unset)."""

    def __init__(self, fields: Mapping[str, int | str | None], timezone: str = "UTC") -> None:
        given = {name: str(value).lower() for name, value in fields.items() if value is not None}
        unknown = set(given) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown cron fields: {', '.join(sorted(unknown))}")
        self.fields = _with_defaults(given)
        self.zone = ZoneInfo(timezone)
        self._weeks = _expand(self.fields["week"], 1, 53) if self.fields["week"] != "*" else None
        self._expression = _croniter_expression(self.fields)
        croniter(self._expression, datetime(2000, 1, 1, tzinfo=self.zone), day_or=False)

    @classmethod
    def from_section(cls, section: object) -> CronSchedule:
        """From a config section with the cron field attributes and ``timezone``."""
        fields = {name: getattr(section, name, None) for name in FIELDS}
        return cls(fields, str(getattr(section, "timezone", "UTC")))

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (aware), in UTC."""
        start = moment.astimezone(self.zone)
        for _ in range(1000):
            candidate: datetime = croniter(self._expression, start, day_or=False).get_next(datetime)
            if self._weeks is None or candidate.isocalendar().week in self._weeks:
                return candidate.astimezone(UTC)
            monday = candidate.date() - timedelta(days=candidate.weekday() - 7)
            start = datetime.combine(monday, datetime.min.time(), self.zone) - timedelta(
                microseconds=1
            )
        raise ValueError(f"no fire time found for {self.fields}")

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The newest fire time at or before ``moment`` (aware), in UTC."""
        start = moment.astimezone(self.zone).replace(microsecond=0) + timedelta(seconds=1)
        for _ in range(1000):
            candidate: datetime = croniter(self._expression, start, day_or=False).get_prev(datetime)
            if self._weeks is None or candidate.isocalendar().week in self._weeks:
                return candidate.astimezone(UTC)
            monday = candidate.date() - timedelta(days=candidate.weekday())
            start = datetime.combine(monday, datetime.min.time(), self.zone)
        raise ValueError(f"no fire time found for {self.fields}")

    def interval_at(self, moment: datetime) -> timedelta:
        """The gap between the two fire times following ``moment`` (a period estimate)."""
        first = self.next_after(moment)
        return self.next_after(first) - first

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v}" for k, v in self.fields.items() if v != "*")
        return f"CronSchedule({given or 'every second'}, {self.zone.key})"


def _with_defaults(given: dict[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    remaining = set(given)
    below_given = False
    for name in FIELDS:
        if name in given:
            fields[name] = given[name]
            remaining.discard(name)
            below_given = not remaining
        elif below_given:
            fields[name] = _MINIMUM.get(name, "*")
        else:
            fields[name] = "*"
    return fields


def _croniter_expression(fields: dict[str, str]) -> str:
    day, day_of_week = fields["day"], _cron_weekdays(fields["day_of_week"])
    special = _day_special(day)
    if special == "L":
        day = special
    elif special is not None:  # a weekday of the month: croniter writes it in day_of_week
        if day_of_week != "*":
            raise ValueError(f"day={day!r} can't be combined with day_of_week")
        day, day_of_week = "*", special
    parts = [fields["minute"], fields["hour"], day, fields["month"], day_of_week]
    return " ".join([*parts, fields["second"], fields["year"]])


def _day_special(day: str) -> str | None:
    if day == "last":
        return "L"
    match = _NTH_WEEKDAY.match(day)
    if match is None:
        return None
    weekday = (_WEEKDAYS.index(match.group("day")) + 1) % 7
    nth = match.group("nth")
    return f"L{weekday}" if nth == "last" else f"{weekday}#{_ORDINALS[nth]}"


def _cron_weekdays(expr: str) -> str:
    """APScheduler weekdays (Monday = 0, names) as an explicit cron list (Sunday = 0)."""
    if expr == "*":
        return "*"
    days = _expand(expr, 0, 6, _WEEKDAYS)
    return ",".join(str((day + 1) % 7) for day in sorted(days))


def _expand(expr: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The values a field expression selects: ``*``, ``*/n``, ``a``, ``a/n``, ``a-b``,
    ``a-b/n`` and comma lists of them (names allowed where ``names`` are given)."""
    values: set[int] = set()
    for part in expr.split(","):
        match = _RANGE.match(part.strip())
        if match is None:
            raise ValueError(f"invalid cron expression {expr!r}")
        first, last, step = match.group("first", "last", "step")
        if first is None:
            start, stop = low, high
        else:
            start = _value(first, names)
            stop = _value(last, names) if last else (high if step else start)
        if not low <= start <= stop <= high or (step is not None and int(step) < 1):
            raise ValueError(f"invalid cron expression {expr!r} (range {low}-{high})")
        values.update(range(start, stop + 1, int(step or 1)))
    return values


def _value(text: str, names: tuple[str, ...]) -> int:
    if text.isdigit():
        return int(text)
    if text in names:
        return names.index(text)
    raise ValueError(f"invalid cron value {text!r}")
