"""The merge and TTL arithmetic is total: edge times saturate, every TTL is storable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cassandra.cqltypes import DateType

from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import AttrSpecObservations, AttrSpecTimeseries, EntitySpec
from streamcore.state.cassandra import stored_time
from streamcore.state.merge import (
    MAX_EXPIRATION,
    MAX_TTL_SECONDS,
    TIME_CEILING,
    TIME_FLOOR,
    apply_observation,
    apply_timeseries,
    creation_tokens,
    extend_ttl,
    lifetime_tokens,
    row_expiry,
    shift,
    storable_ttl,
)
from streamcore.state.record import EntityRecord

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
FAR = datetime(8999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)  # the latest accepted (ms)
EARLY = datetime(1000, 1, 1, tzinfo=UTC)
HUGE = timedelta(days=999_999_999)  # the largest duration a config can give


def observations(**history: Any) -> AttrSpecObservations:
    return AttrSpecObservations.model_validate(
        {
            "id": "speed",
            "name": "Speed",
            "type": "observations",
            "data_type": "int",
            "history_params": history,
        }
    )


def test_shift_saturates_at_both_ends() -> None:
    assert shift(FAR, HUGE) == TIME_CEILING
    assert shift(EARLY, -HUGE) == TIME_FLOOR
    assert shift(NOW, timedelta(days=1)) == NOW + timedelta(days=1)


@pytest.mark.parametrize("t1", [EARLY, FAR])
def test_observations_merge_at_the_edges_with_huge_validity_and_max_age(t1: datetime) -> None:
    spec = observations(pre_validity=HUGE, post_validity=HUGE, max_age=HUGE)
    record = EntityRecord("bus", "b1", "b1")
    point = DataPoint("bus", "b1", "speed", 5, t1, t1, 1.0)
    apply_observation(record, spec, point)
    apply_observation(record, spec, DataPoint("bus", "b1", "speed", 5, t1, t1, 0.5))
    (row,) = record.attrs["speed"].values()
    assert row_expiry(spec, row) == TIME_CEILING
    assert storable_ttl(row_expiry(spec, row), NOW) == int((MAX_EXPIRATION - NOW).total_seconds())


def test_timeseries_rows_at_the_far_edge_get_a_storable_ttl() -> None:
    spec = AttrSpecTimeseries.model_validate(
        {
            "id": "load",
            "name": "Load",
            "type": "timeseries",
            "timeseries_type": "irregular",
            "timeseries_params": {"max_age": "999999999d"},
            "series": {"v": {"data_type": "float"}},
        }
    )
    record = EntityRecord("bus", "b1", "b1")
    apply_timeseries(record, DataPoint("bus", "b1", "load", {"v": [1.0], "time": [FAR]}, FAR, FAR))
    (row,) = record.attrs["load"].values()
    assert storable_ttl(row_expiry(spec, row), NOW) is not None


@pytest.mark.parametrize(
    ("expires", "now", "ttl"),
    [
        (None, NOW, None),
        (NOW + timedelta(seconds=10), NOW, 10),
        (NOW + timedelta(seconds=9.2), NOW, 10),  # rounded up: never expires early
        (NOW - timedelta(days=1), NOW, -86400),  # already past: the store skips it
        # 2099 is after Cassandra 5.0's 2038 expiration limit (CASSANDRA_4 storage mode).
        (datetime(2099, 1, 1, tzinfo=UTC), NOW, int((MAX_EXPIRATION - NOW).total_seconds())),
        (TIME_CEILING, NOW, int((MAX_EXPIRATION - NOW).total_seconds())),
        # 2030 is before it, but more than 20 years ahead of 2009: the TTL cap.
        (datetime(2030, 1, 1, tzinfo=UTC), datetime(2009, 1, 1, tzinfo=UTC), MAX_TTL_SECONDS),
        # Past 2038 only the 20-year cap is known.
        (TIME_CEILING, datetime(2040, 1, 1, tzinfo=UTC), MAX_TTL_SECONDS),
    ],
)
def test_storable_ttl_is_clamped_to_what_cassandra_accepts(
    expires: datetime | None, now: datetime, ttl: int | None
) -> None:
    assert storable_ttl(expires, now) == ttl


def test_lifetime_tokens_saturate_instead_of_overflowing() -> None:
    entity = EntitySpec.model_validate(
        {
            "id": "bus",
            "name": "Bus",
            "snapshot": False,
            "lifetime": {"type": "ttl", "on_create": "999999999d", "mirror_data": True},
        }
    )
    spec = observations(max_age="999999999d").model_copy(update={"ttl": HUGE})
    point = DataPoint("bus", "b1", "speed", 5, FAR, FAR, 1.0)
    assert lifetime_tokens(entity, spec, point, NOW) == {"data": TIME_CEILING}
    assert creation_tokens(entity, NOW) == {"base": TIME_CEILING}


def test_tokens_are_kept_in_milliseconds_as_cassandra_stores_them() -> None:
    record = EntityRecord("bus", "b1", "b1")
    extend_ttl(record, {"x": NOW.replace(microsecond=123_456)})
    assert record.ttl_tokens["x"] == NOW.replace(microsecond=123_000)
    record.dirty_meta = False
    extend_ttl(record, {"x": NOW.replace(microsecond=123_999)})  # the same millisecond
    assert not record.dirty_meta


@pytest.mark.parametrize(
    "moment",
    [TIME_CEILING, FAR, EARLY, TIME_FLOOR, NOW, datetime(2300, 7, 7, 7, 7, 7, 7000, tzinfo=UTC)],
)
def test_a_stored_timestamp_reads_back_equal(moment: datetime) -> None:
    """Through the driver's own (float-based) timestamp codec, then ``stored_time``."""
    stored = DateType.deserialize(DateType.serialize(moment, 5), 5)
    assert stored_time(stored) == moment
