"""CronSchedule: DP³'s (APScheduler's) cron fields as fire times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streamcore.config.sections import CronExpression, UpdaterConfig
from streamcore.schedule.cron import CronSchedule

WEDNESDAY = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)


def fires(fields: dict[str, int | str | None], count: int = 3, tz: str = "UTC") -> list[datetime]:
    schedule = CronSchedule(fields, tz)
    moment, times = WEDNESDAY, []
    for _ in range(count):
        moment = schedule.next_after(moment)
        times.append(moment)
    return times


def test_fields_below_the_smallest_given_default_to_their_minimum() -> None:
    assert fires({"hour": 3}, 2) == [WEDNESDAY.replace(hour=3), WEDNESDAY.replace(day=2, hour=3)]


def test_fields_above_the_smallest_given_are_any() -> None:
    first, second, _ = fires({"minute": "*/30"})
    assert (first, second - first) == (WEDNESDAY.replace(minute=30), timedelta(minutes=30))


def test_no_fields_fire_every_second() -> None:
    assert fires({}, 2) == [WEDNESDAY + timedelta(seconds=1), WEDNESDAY + timedelta(seconds=2)]


def test_weekdays_count_from_monday_as_in_apscheduler() -> None:
    # 2025-01-01 is a Wednesday; day_of_week 0 is Monday (cron's 0 would be Sunday).
    assert fires({"day_of_week": 0, "hour": 8}, 1) == [datetime(2025, 1, 6, 8, tzinfo=UTC)]
    friday_to_monday = fires({"day_of_week": "fri-sun"}, 3)
    assert [t.weekday() for t in friday_to_monday] == [4, 5, 6]


def test_day_and_weekday_must_both_match() -> None:
    (first,) = fires({"day": "1-7", "day_of_week": "mon"}, 1)
    assert first == datetime(2025, 1, 6, tzinfo=UTC)


def test_last_and_nth_weekday_of_the_month() -> None:
    assert fires({"day": "last"}, 1) == [datetime(2025, 1, 31, tzinfo=UTC)]
    assert fires({"day": "last fri"}, 2) == [
        datetime(2025, 1, 31, tzinfo=UTC),
        datetime(2025, 2, 28, tzinfo=UTC),
    ]
    assert fires({"day": "2nd mon"}, 1) == [datetime(2025, 1, 13, tzinfo=UTC)]


def test_iso_week_filters_fire_times() -> None:
    first, second = fires({"week": 10}, 2)
    assert first == datetime(2025, 3, 3, tzinfo=UTC)
    assert second.isocalendar().week == 10


def test_timezone_of_the_schedule() -> None:
    (first,) = fires({"hour": 3}, 1, tz="Europe/Prague")
    assert first == datetime(2025, 1, 1, 2, tzinfo=UTC)


def test_from_config_section() -> None:
    schedule = CronSchedule.from_section(UpdaterConfig().update_batch_cron)
    assert schedule.interval_at(WEDNESDAY) == timedelta(minutes=5)
    assert CronSchedule.from_section(CronExpression(minute="5,25,45")).next_after(
        WEDNESDAY
    ) == WEDNESDAY.replace(minute=5)


@pytest.mark.parametrize(
    "fields", [{"minute": "61"}, {"day_of_week": "funday"}, {"hour": "*/0"}, {"fortnight": 1}]
)
def test_bad_fields_are_refused(fields: dict[str, str | int]) -> None:
    with pytest.raises(ValueError):
        CronSchedule(fields)
