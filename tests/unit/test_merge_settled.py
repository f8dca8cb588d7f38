"""The aggregation pass that starts where a task's data-points land (``record.settled``)
leaves exactly the rows, and marks exactly the rows dirty, that a pass over every row does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streamcore.ingest.cache import SETTLED_BYTES, SETTLED_ROW_BYTES, record_bytes
from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import AttrSpecObservations
from streamcore.state.merge import apply_observations, interval_key
from streamcore.state.record import EntityRecord, Row

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def spec(multi_value: bool, pre: int, post: int) -> AttrSpecObservations:
    return AttrSpecObservations.model_validate(
        {
            "id": "port",
            "name": "Port",
            "type": "observations",
            "data_type": "int",
            "multi_value": multi_value,
            "confidence": True,
            "history_params": {"pre_validity": f"{pre}m", "post_validity": f"{post}m"},
        }
    )


point = st.tuples(
    st.integers(0, 3),  # value
    st.integers(0, 60),  # start minute
    st.integers(0, 15),  # duration in minutes
    st.sampled_from([0.2, 0.5, 1.0]),  # confidence
)
step = st.one_of(
    st.tuples(st.just("task"), st.lists(point, min_size=1, max_size=4)),
    # Rows changed outside the pass: a row put as an older version might have, one removed.
    st.tuples(st.just("put"), point),
    st.tuples(st.just("remove"), st.integers(0, 50)),
    st.tuples(st.just("clean"), st.just(0)),
)


def data_point(value: int, start: int, length: int, c: float) -> DataPoint:
    t1 = T0 + start * MIN
    return DataPoint("host", "h", "port", value, t1, t1 + length * MIN, c)


def state(record: EntityRecord) -> tuple[dict[bytes, tuple[Any, ...]], set[Any]]:
    rows = {
        key: (row.v_json, row.t1, row.t2, row.c, row.src)
        for key, row in record.attrs.get("port", {}).items()
    }
    return rows, set(record.dirty_rows)


@settings(max_examples=300, deadline=None)
@given(
    multi_value=st.booleans(),
    pre=st.sampled_from([0, 2]),
    post=st.sampled_from([0, 5, 30]),
    steps=st.lists(step, min_size=1, max_size=25),
)
def test_the_pass_from_where_points_land_equals_a_pass_over_every_row(
    multi_value: bool, pre: int, post: int, steps: list[tuple[str, Any]]
) -> None:
    attr = spec(multi_value, pre, post)
    incremental = EntityRecord("host", "h", "h", exists=True)
    whole = EntityRecord("host", "h", "h", exists=True)
    passes_from_the_tail = 0
    for kind, arg in steps:
        for record in (incremental, whole):
            if kind == "task":
                if record is whole:
                    record.settled.clear()  # no memo: the pass goes over every row
                elif "port" in record.settled and record.settled["port"].holds(record.rows("port")):
                    passes_from_the_tail += 1
                apply_observations(record, attr, [data_point(*p) for p in arg])
            elif kind == "put":
                value, start, length, c = arg
                t1, t2 = T0 + start * MIN, T0 + (start + length) * MIN
                key = interval_key(t1, t2, str(value))
                record.put("port", key, Row(value, str(value), t1=t1, t2=t2, c=c))
            elif kind == "remove":
                keys = sorted(record.rows("port"))
                if keys:
                    record.remove("port", keys[arg % len(keys)])
            else:
                record.mark_clean()
        assert state(incremental) == state(whole)
    if sum(kind == "task" for kind, _ in steps) > 1 and all(k == "task" for k, _ in steps):
        assert passes_from_the_tail > 0


def test_a_memo_no_longer_matching_the_rows_is_not_used() -> None:
    """Rows read again (other objects, equal content) or changed send the pass over every
    row: the memo holds only while every row is the very object it saw."""
    attr = spec(multi_value=True, pre=0, post=5)
    record = EntityRecord("host", "h", "h", exists=True)
    apply_observations(record, attr, [data_point(1, 0, 5, 1.0), data_point(2, 10, 5, 1.0)])
    memo = record.settled["port"]
    rows = record.rows("port")
    assert memo.holds(rows)
    copies = {key: Row(r.value, r.v_json, r.t1, r.t2, r.c, r.src) for key, r in rows.items()}
    assert not memo.holds(copies)
    key = next(iter(rows))
    record.remove("port", key)
    assert not memo.holds(record.rows("port"))


def test_the_cache_counts_the_memo_in_a_record_size() -> None:
    """The memo is memory the cache's byte bound must see."""
    attr = spec(multi_value=False, pre=0, post=0)
    record = EntityRecord("host", "h", "h", exists=True)
    apply_observations(record, attr, [data_point(n % 2, n * 2, 1, 1.0) for n in range(10)])
    assert len(record.settled["port"].keys) == 10
    with_memo = record_bytes(record)
    record.settled.clear()
    assert with_memo - record_bytes(record) == SETTLED_BYTES + 10 * SETTLED_ROW_BYTES
