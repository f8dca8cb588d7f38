"""SnapshotSchedule: the newest creation_rate slot at or before a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streamcore.config.sections import CronExpression
from streamcore.schedule.cron import CronSchedule
from streamcore.snapshot.schedule import SnapshotSchedule

WEDNESDAY = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)


def test_a_moment_on_a_slot_is_that_slot() -> None:
    schedule = SnapshotSchedule(CronExpression(minute="*/30"))
    assert schedule.latest_slot(WEDNESDAY.replace(minute=30)) == WEDNESDAY.replace(minute=30)


def test_a_moment_between_slots_gives_the_previous_one() -> None:
    schedule = SnapshotSchedule(CronExpression(minute="*/30"))
    moment = WEDNESDAY.replace(minute=59, second=59, microsecond=999_000)
    assert schedule.latest_slot(moment) == WEDNESDAY.replace(minute=30)


def test_seconds_rate_as_the_snapshot_worker_tests_use() -> None:
    schedule = SnapshotSchedule(CronExpression(second="*/6"))
    assert schedule.latest_slot(WEDNESDAY + timedelta(seconds=11.5)) == WEDNESDAY.replace(second=6)


def test_weekday_and_timezone_follow_apscheduler() -> None:
    # day_of_week 0 is Monday; 08:00 in Prague is 07:00 UTC in winter.
    schedule = SnapshotSchedule(CronExpression(day_of_week=0, hour=8, timezone="Europe/Prague"))
    assert schedule.latest_slot(WEDNESDAY) == datetime(2024, 12, 30, 7, tzinfo=UTC)


def test_latest_and_next_agree_with_a_week_filter() -> None:
    schedule = CronSchedule({"week": 2, "hour": 1})
    first = schedule.next_after(WEDNESDAY)
    later = first + timedelta(days=2, hours=5)
    assert schedule.latest_at_or_before(later) == schedule.next_after(first + timedelta(days=1))
    assert schedule.latest_at_or_before(first) == first
    week_three = datetime(2025, 1, 14, tzinfo=UTC)
    assert schedule.latest_at_or_before(week_three) == datetime(2025, 1, 12, 1, tzinfo=UTC)
