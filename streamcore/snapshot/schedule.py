"""When snapshot runs fire: ``snapshots.yml``'s ``creation_rate`` as schedule slots.

DP³ writes the rate as APScheduler cron fields (``{minute: "*/30"}``): unset fields above
the least significant given one mean every value, below it their minimum (so
``{minute: "*/30"}`` fires at second 0). ``latest_slot(now)`` is the newest fire time at or
before ``now``; replicas compute the same slots from the same clock-free rule, which is
what makes the slot a cluster-wide claim key. Pure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from streamcore.config.sections import CronExpression

_ORDER = ("second", "minute", "hour", "day", "month", "day_of_week")
_MINIMUM = {"second": "0", "minute": "0", "hour": "0", "day": "1", "month": "1"}


def cron_text(rate: CronExpression) -> str:
    """The 6-field croniter expression (``minute hour day month day_of_week second``)."""
    given = {name: getattr(rate, name) for name in _ORDER if getattr(rate, name) is not None}
    if rate.week is not None or rate.year is not None:
        raise ValueError("snapshot creation_rate: 'week' and 'year' are not supported")
    ranks = [_ORDER.index(name) for name in given if name != "day_of_week"]
    least = min(ranks, default=len(_ORDER))
    fields: dict[str, str] = {}
    for rank, name in enumerate(_ORDER):
        if name in given:
            fields[name] = str(given[name])
        elif rank < least and name in _MINIMUM:
            fields[name] = _MINIMUM[name]
        else:
            fields[name] = "*"
    if "day_of_week" in given:
        fields["day_of_week"] = _cron_weekdays(str(given["day_of_week"]))
    order = ("minute", "hour", "day", "month", "day_of_week", "second")
    return " ".join(fields[name] for name in order)


def _cron_weekdays(text: str) -> str:
    """APScheduler counts weekdays from Monday = 0, cron from Sunday = 0."""
    if not text.isdigit():
        return text  # names (mon-fri) mean the same in both
    return str((int(text) + 1) % 7)


class SnapshotSchedule:
    def __init__(self, rate: CronExpression) -> None:
        self._text = cron_text(rate)
        self._zone = ZoneInfo(rate.timezone)

    def latest_slot(self, now: datetime) -> datetime:
        """The newest fire time at or before ``now`` (UTC, whole milliseconds)."""
        local = now.astimezone(self._zone)
        itr = croniter(self._text, local)
        slot: datetime = itr.get_prev(datetime)
        if croniter.match(self._text, local.replace(microsecond=0)):
            slot = local.replace(microsecond=0)
        return slot.astimezone(UTC)
