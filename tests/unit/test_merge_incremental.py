"""The aggregated-observation merge that re-aggregates only the rows a task can reach gives
exactly what the full pass over the whole history gives (DP³'s rule, the reference)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import AttrSpecObservations
from streamcore.state import merge
from streamcore.state.encoding import dumps
from streamcore.state.merge import (
    HistoryRow,
    HistoryRows,
    aggregate_on_equal,
    apply_observations,
    interval_key,
    stored_rows,
)
from streamcore.state.record import EntityRecord, Row

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
EARLY = datetime(1000, 1, 1, tzinfo=UTC)  # before 1970: keys no longer sort by start
UNIT = timedelta(minutes=1)


def observations(pre: int, post: int, multi_value: bool) -> AttrSpecObservations:
    return AttrSpecObservations.model_validate(
        {
            "id": "speed",
            "name": "Speed",
            "type": "observations",
            "data_type": "int",
            "multi_value": multi_value,
            "history_params": {"pre_validity": f"{pre}m", "post_validity": f"{post}m"},
        }
    )


def full_pass(
    record: EntityRecord, spec: AttrSpecObservations, dps: list[DataPoint], limit: int | None
) -> None:
    """The merge as it was: every stored row plus the task's points, re-aggregated whole,
    then written back (the reference the incremental pass must equal)."""
    params = spec.history_params
    attr = dps[0].attr
    rows = record.rows(attr)
    new = []
    for dp in dps:
        assert dp.t1 is not None and dp.t2 is not None
        c = 1.0 if dp.c is None else dp.c
        t1, t2 = merge.to_millis(dp.t1), merge.to_millis(dp.t2)
        new.append(HistoryRow(dp.v, dumps(dp.v), t1, t2, c, dp.src))
    merged = aggregate_on_equal(
        stored_rows(rows) + new, params.pre_validity, params.post_validity, spec.multi_value
    )
    kept = {point.key for point in merged if point.key is not None}
    for key in [key for key in rows if key not in kept]:
        record.remove(attr, key)
    for point in merged:
        if point.key is not None:
            continue
        key = interval_key(point.t1, None, point.v_json)
        if key in kept:
            key = interval_key(point.t1, point.t2, point.v_json)
        kept.add(key)
        record.put(attr, key, point.row())
    rows = record.rows(attr)
    if limit is not None and len(rows) > limit:
        by_age = sorted(rows, key=lambda k: (rows[k].t2 or merge._EPOCH, k))
        for key in by_age[: len(rows) - limit]:
            record.remove(attr, key)


def settled_as_promised(rows: dict[bytes, Row], spec: AttrSpecObservations) -> bool:
    """A ``HistoryRows`` that says it is settled is in (t1, value) order, every row apart,
    and aggregate_on_equal's fixed point (what the incremental pass relies on)."""
    if not isinstance(rows, HistoryRows) or rows.settled is None:
        return True
    order = [(row.t1, row.v_json) for row in rows.values()]
    params = spec.history_params
    again = aggregate_on_equal(
        stored_rows(rows), params.pre_validity, params.post_validity, spec.multi_value
    )
    return order == sorted(set(order)) and all(point.key is not None for point in again)


point = st.tuples(
    st.integers(0, 60),  # t1, in minutes from the base
    st.integers(0, 6),  # t2 - t1
    st.integers(0, 2),  # value
    st.sampled_from([None, 0.25, 0.5, 1.0]),  # confidence
    st.sampled_from([None, "a", "b"]),  # src
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    terms=st.tuples(st.sampled_from([0, 1, 3]), st.sampled_from([0, 1, 2, 10]), st.booleans()),
    base=st.sampled_from([NOW, EARLY]),
    stored=st.lists(point, max_size=8),
    tasks=st.lists(
        st.tuples(st.lists(point, min_size=1, max_size=4), st.none() | st.integers(0, 30)),
        min_size=1,
        max_size=10,
    ),
    limit=st.sampled_from([None, None, None, 3]),
)
def test_incremental_merge_equals_the_full_pass(
    terms: tuple[int, int, bool],
    base: datetime,
    stored: list[Any],
    tasks: list[tuple[list[Any], int | None]],
    limit: int | None,
) -> None:
    """Random terms (pre and post validity in minutes, multi value), histories
    (``stored``: rows as any writer may have left them, mergeable or not) and task
    batches (in and out of time order), some after a row was removed from outside the
    merge (a link removed): after every task, the same rows under the same keys, and the
    same rows marked for writing or deleting."""
    spec = observations(*terms)

    def dp(t1: int, length: int, v: int, c: float | None, src: str | None) -> DataPoint:
        start = base + t1 * UNIT
        return DataPoint("bus", "b1", "speed", v, start, start + length * UNIT, c, src)

    reference = EntityRecord("bus", "b1", "b1")
    for t1, length, v, c, src in stored:
        start = base + t1 * UNIT
        row = Row(v, dumps(v), start, start + length * UNIT, c, src)
        reference.put("speed", interval_key(row.t1, row.t2, row.v_json), row)  # type: ignore[arg-type]
    reference.dirty_rows.clear()
    record = copy.deepcopy(reference)
    incremental = 0
    for task, removal in tasks:
        rows = record.rows("speed")
        if removal is not None and rows:
            key = sorted(rows)[removal % len(rows)]
            reference.remove("speed", key)
            record.remove("speed", key)
            assert not isinstance(rows, HistoryRows) or rows.settled is None
        dps = [dp(*args) for args in task]
        settled = record.rows("speed")
        if isinstance(settled, HistoryRows) and settled.settled is not None:
            incremental += 1
        full_pass(reference, spec, dps, limit)
        apply_observations(record, spec, dps, limit)
        assert dict(record.rows("speed")) == dict(reference.rows("speed"))
        assert record.dirty_rows == reference.dirty_rows
        assert settled_as_promised(record.rows("speed"), spec)
        reference.dirty_rows.clear()
        record.dirty_rows.clear()
    if limit is None and all(removal is None for _, removal in tasks):
        assert incremental == len(tasks) - 1  # only the first task ran the full pass


def test_a_task_at_the_end_of_a_long_history_re_aggregates_only_its_neighbours(
    monkeypatch: Any,
) -> None:
    """The hot path of a busy entity: 1,000 rows apart, the next data-point re-aggregates
    the last row and itself, not the history."""
    spec = observations(0, 0, multi_value=False)
    record = EntityRecord("bus", "b1", "b1")
    for minute in range(1000):
        point = DataPoint("bus", "b1", "speed", 5, NOW + minute * UNIT, NOW + minute * UNIT)
        apply_observations(record, spec, [point])
    seen: list[int] = []
    real = merge.aggregate_on_equal

    def counting(history: list[HistoryRow], *args: Any) -> list[HistoryRow]:
        seen.append(len(history))
        return real(history, *args)

    monkeypatch.setattr(merge, "aggregate_on_equal", counting)
    last = NOW + 1000 * UNIT
    apply_observations(record, spec, [DataPoint("bus", "b1", "speed", 5, last, last)])
    assert seen == [2]
    assert len(record.rows("speed")) == 1001


def test_a_row_removed_from_outside_the_merge_sends_the_next_task_through_the_full_pass() -> None:
    """Removing a row (a link removed, an expiry) can make two distant rows mergeable: only
    the full pass sees that, so any change the merge didn't make forgets ``settled``."""
    spec = observations(0, 30, multi_value=False)
    record = EntityRecord("bus", "b1", "b1")
    for minute, v in ((0, 1), (10, 2), (20, 1)):
        point = DataPoint("bus", "b1", "speed", v, NOW + minute * UNIT, NOW + minute * UNIT)
        apply_observations(record, spec, [point])
    rows = record.rows("speed")
    assert len(rows) == 3  # the 2 at 10 keeps the 1s at 0 and 20 apart
    middle = next(key for key, row in rows.items() if row.value == 2)
    record.remove("speed", middle)
    assert isinstance(rows, HistoryRows) and rows.settled is None
    late = NOW + 300 * UNIT
    apply_observations(record, spec, [DataPoint("bus", "b1", "speed", 1, late, late)])
    assert sorted((row.t1, row.t2) for row in record.rows("speed").values()) == [
        (NOW, NOW + 20 * UNIT),
        (late, late),
    ]
