"""When snapshot runs fire: ``snapshots.yml``'s ``creation_rate`` as schedule slots.

The rate is DP³'s cron fields (APScheduler's meaning), translated once, by
``streamcore.schedule.cron.CronSchedule`` (the scheduler's translation too).
``latest_slot(now)`` is the newest fire time at or before ``now``; replicas compute the same
slots from the same clock-free rule, which is what makes the slot a cluster-wide claim key.
Pure.
"""

from __future__ import annotations

from datetime import datetime

from streamcore.config.sections import CronExpression
from streamcore.schedule.cron import CronSchedule


class SnapshotSchedule:
    def __init__(self, rate: CronExpression) -> None:
        self._schedule = CronSchedule.from_section(rate)

    def latest_slot(self, now: datetime) -> datetime:
        """The newest fire time at or before ``now`` (UTC, whole seconds)."""
        return self._schedule.latest_at_or_before(now)
