"""DP³'s merge rules on an in-memory record: aggregation, confidence, idempotent replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import AttrSpecObservations, EntitySpec
from streamcore.state.merge import (
    apply_observation,
    apply_plain,
    apply_timeseries,
    creation_tokens,
    extend_ttl,
    lifetime_tokens,
    row_expiry,
)
from streamcore.state.record import PLAIN_KEY, EntityRecord

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def observations(**params: Any) -> AttrSpecObservations:
    history = {"pre_validity": "0s", "post_validity": "0s", **params.pop("history", {})}
    return AttrSpecObservations.model_validate(
        {
            "id": "speed",
            "name": "Speed",
            "type": "observations",
            "data_type": "int",
            "history_params": history,
            **params,
        }
    )


def dp(v: Any, start: int, end: int, c: float | None = 1.0, attr: str = "speed") -> DataPoint:
    return DataPoint(
        "bus", "b1", attr, v, T0 + timedelta(minutes=start), T0 + timedelta(minutes=end), c
    )


def intervals(record: EntityRecord, attr: str = "speed") -> list[tuple[Any, int, int, float]]:
    rows = record.attrs.get(attr, {}).values()
    return sorted(
        (
            r.value,
            (r.t1 - T0) // timedelta(minutes=1),
            (r.t2 - T0) // timedelta(minutes=1),
            round(r.c or 0, 3),
        )
        for r in rows
    )


def test_overlapping_equal_values_merge_and_average_confidence() -> None:
    spec = observations(confidence=True, history={"post_validity": "5m"})
    record = EntityRecord("bus", "b1", "b1")
    apply_observation(record, spec, dp(50, 0, 10, c=0.5))
    apply_observation(record, spec, dp(50, 12, 20, c=1.0))  # 10 + 5m post >= 12
    assert intervals(record) == [(50, 0, 20, 0.75)]


def test_values_apart_or_different_stay_separate() -> None:
    spec = observations()
    record = EntityRecord("bus", "b1", "b1")
    apply_observation(record, spec, dp(50, 0, 10))
    apply_observation(record, spec, dp(50, 11, 20))  # no validity overlap
    apply_observation(record, spec, dp(60, 5, 15))  # other value
    assert intervals(record) == [(50, 0, 10, 1.0), (50, 11, 20, 1.0), (60, 5, 15, 1.0)]


def test_replaying_a_data_point_keeps_the_span_and_averages_it_in_again() -> None:
    """DP³'s aggregation (dp-cubed 0.10.0 ``aggregate_dp_history_on_equal``) averages a
    repeated data-point's confidence in: [0,20] .75 plus [0,10] .5 gives .625, and then
    plus [12,20] 1.0 gives .8125; the span and the row stay one."""
    spec = observations(confidence=True, history={"post_validity": "5m"})
    record = EntityRecord("bus", "b1", "b1")
    for point in (dp(50, 0, 10, c=0.5), dp(50, 12, 20, c=1.0)):
        apply_observation(record, spec, point)
    assert intervals(record) == [(50, 0, 20, 0.75)]
    for point in (dp(50, 0, 10, c=0.5), dp(50, 12, 20, c=1.0)):
        apply_observation(record, spec, point)
    assert intervals(record) == [(50, 0, 20, 0.812)]
    assert len(record.attrs["speed"]) == 1


def test_out_of_order_data_points_bridge_into_one_interval() -> None:
    spec = observations(history={"post_validity": "1m", "pre_validity": "1m"})
    record = EntityRecord("bus", "b1", "b1")
    apply_observation(record, spec, dp(7, 0, 5))
    apply_observation(record, spec, dp(7, 10, 15))
    apply_observation(record, spec, dp(7, 6, 9))  # touches both
    assert intervals(record) == [(7, 0, 15, 1.0)]


def test_no_aggregation_keeps_every_data_point() -> None:
    spec = observations(history={"aggregate": False})
    record = EntityRecord("bus", "b1", "b1")
    apply_observation(record, spec, dp(1, 0, 5))
    apply_observation(record, spec, dp(1, 3, 8))
    apply_observation(record, spec, dp(1, 3, 8))  # same data-point again: same row
    assert intervals(record) == [(1, 0, 5, 1.0), (1, 3, 8, 1.0)]


def test_max_items_keeps_the_newest_when_enforced() -> None:
    spec = observations(history={"max_items": 2})
    record = EntityRecord("bus", "b1", "b1")
    for start in (0, 10, 20):
        apply_observation(record, spec, dp(start, start, start + 1), max_items=2)
    assert [v for v, *_ in intervals(record)] == [10, 20]


def test_max_items_keeps_everything_by_default_as_dp3_does() -> None:
    spec = observations(history={"max_items": 2})
    record = EntityRecord("bus", "b1", "b1")
    for start in (0, 10, 20):
        apply_observation(record, spec, dp(start, start, start + 1))
    assert [v for v, *_ in intervals(record)] == [0, 10, 20]


def test_plain_value_replaces_and_repeats_are_clean() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    point = DataPoint("ip", "1.2.3.4", "hostname", "a.example")
    apply_plain(record, point, T0)
    apply_plain(record, DataPoint("ip", "1.2.3.4", "hostname", "b.example"), T0)
    assert record.plain("hostname") == "b.example"
    record.mark_clean()
    apply_plain(record, DataPoint("ip", "1.2.3.4", "hostname", "b.example"), T0)
    assert not record.dirty_rows
    assert set(record.attrs["hostname"]) == {PLAIN_KEY}


def test_timeseries_chunks_are_keyed_by_start() -> None:
    record = EntityRecord("ip", "1.2.3.4", "1.2.3.4")
    chunk = DataPoint("ip", "1.2.3.4", "traffic", {"bytes": [1, 2]}, T0, T0 + timedelta(minutes=2))
    apply_timeseries(record, chunk)
    apply_timeseries(record, chunk)
    assert len(record.attrs["traffic"]) == 1


def test_max_age_sets_row_expiry() -> None:
    spec = observations(history={"max_age": "1h"})
    record = EntityRecord("bus", "b1", "b1")
    apply_observation(record, spec, dp(1, 0, 10))
    (row,) = record.attrs["speed"].values()
    assert row_expiry(spec, row) == T0 + timedelta(minutes=70)


def test_ttl_lifetime_tokens_only_extend() -> None:
    entity = EntitySpec.model_validate(
        {
            "id": "bus",
            "name": "Bus",
            "snapshot": True,
            "lifetime": {"type": "ttl", "on_create": "1h", "mirror_data": True},
        }
    )
    record = EntityRecord("bus", "b1", "b1")
    extend_ttl(record, creation_tokens(entity, T0))
    assert record.ttl_tokens == {"base": T0 + timedelta(hours=1)}
    spec = observations(history={"max_age": "2h"})
    extend_ttl(record, lifetime_tokens(entity, spec, dp(1, 0, 30), T0))
    assert record.ttl_tokens["data"] == T0 + timedelta(minutes=150)
    extend_ttl(record, {"base": T0})  # earlier: ignored
    assert record.ttl_tokens["base"] == T0 + timedelta(hours=1)


def test_stored_text_is_stable_for_every_value_shape() -> None:
    import json
    from ipaddress import IPv4Address

    from streamcore.model.datapoint import Link
    from streamcore.model.primitives import MACAddress
    from streamcore.state.encoding import dumps, jsonable

    values = [
        1,
        2.5,
        "žluťoučký",
        True,
        None,
        [3, 1],
        {"b": 1, "a": [T0]},
        IPv4Address("192.0.2.1"),
        MACAddress("00:11:22:33:44:55"),
        Link("example.org"),
        Link(IPv4Address("192.0.2.1"), {"port": 22}),
        T0,
    ]
    for value in values:
        expected = json.dumps(
            jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert dumps(value) == expected
