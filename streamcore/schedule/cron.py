"""``CronSchedule``: DP³'s cron fields as fire times, computed by APScheduler's ``CronTrigger``.

DP³ writes schedules as APScheduler fields (``{minute: "*/30"}``, ``day_of_week: "mon-fri"``,
``day: "last fri"``, ``week``) and runs them with APScheduler 3.x, so the same trigger gives
the same times: unset fields above the least significant given one are ``*``, below it their
minimum; weekdays count from Monday = 0; ``day`` and ``day_of_week`` must both match.

Pure: no clock is read; callers pass the moment to search from. ``CronTrigger`` only looks
forward, so ``latest_at_or_before`` searches back with forward look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_SECOND = timedelta(seconds=1)
_FURTHEST_BACK = timedelta(days=366 * 400)


class CronSchedule:
    """Fire times of one schedule. ``fields``: APScheduler field name -> value (None: unset)."""

    def __init__(self, fields: Mapping[str, int | str | None], timezone: str = "UTC") -> None:
        given = {name: str(value).lower() for name, value in fields.items() if value is not None}
        unknown = set(given) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown cron fields: {', '.join(sorted(unknown))}")
        self.zone = ZoneInfo(timezone)
        self._trigger = CronTrigger(timezone=self.zone, **given)
        self.fields: dict[str, str] = {f.name: str(f) for f in self._trigger.fields}

    @classmethod
    def from_section(cls, section: object) -> CronSchedule:
        """From a config section with the cron field attributes and ``timezone``."""
        fields = {name: getattr(section, name, None) for name in FIELDS}
        return cls(fields, str(getattr(section, "timezone", "UTC")))

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (aware), in UTC."""
        found = self._at_or_after(moment + timedelta(microseconds=1))
        if found is None:
            raise ValueError(f"no fire time after {moment} for {self!r}")
        return found

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The newest fire time at or before ``moment`` (aware), in UTC.

        Widens a window back from ``moment`` until it holds a fire time, then halves the
        gap between the newest one known and ``moment`` (fire times fall on whole seconds).
        """
        end = moment.astimezone(UTC).replace(microsecond=0)
        back = _SECOND
        while (low := self._at_or_after(end - back)) is None or low > end:
            back *= 2
            if back > _FURTHEST_BACK:
                raise ValueError(f"no fire time before {moment} for {self!r}")
        high = end + _SECOND  # no fire time in [high, end] (empty at first)
        while high - low > _SECOND:
            middle = low + (high - low) // 2
            found = self._at_or_after(middle)
            if found is not None and found <= end:
                low = found
            else:
                high = middle
        return low

    def interval_at(self, moment: datetime) -> timedelta:
        """The gap between the two fire times following ``moment`` (a period estimate)."""
        first = self.next_after(moment)
        return self.next_after(first) - first

    def _at_or_after(self, moment: datetime) -> datetime | None:
        found: datetime | None = self._trigger.get_next_fire_time(
            None, moment.astimezone(self.zone)
        )
        return found.astimezone(UTC) if found is not None else None

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v}" for k, v in self.fields.items() if v != "*")
        return f"CronSchedule({given or 'every second'}, {self.zone.key})"
