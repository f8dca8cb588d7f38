"""Aggregation repairs: overlapping same-value rows found, merged by the ingest rule, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streamcore.history.aggregation import aggregation_repairs
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations
from streamcore.state.encoding import dumps
from streamcore.state.merge import apply_observation, interval_key
from streamcore.state.record import EntityRecord, Row
from streamcore.testing.config import model_spec_from_dicts

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def model(aggregate: bool = True) -> ModelSpec:
    return model_spec_from_dicts(
        {
            "host": {
                "entity": {"id": "host", "name": "Host", "snapshot": False},
                "attribs": {
                    "port": {
                        "name": "p",
                        "type": "observations",
                        "data_type": "int",
                        "multi_value": True,
                        "confidence": True,
                        "history_params": {"post_validity": "10m", "aggregate": aggregate},
                    }
                },
            }
        }
    )


def stored(*rows: tuple[int, int, int, float]) -> EntityRecord:
    """Rows (value, start minute, end minute, c) as an older version might have left them."""
    record = EntityRecord("host", "h", "h", exists=True)
    for value, start, end, c in rows:
        t1, t2 = T0 + start * MIN, T0 + end * MIN
        record.attrs.setdefault("port", {})[interval_key(t1, t2, dumps(value))] = Row(
            value, dumps(value), t1=t1, t2=t2, c=c
        )
    return record


def test_overlapping_rows_of_one_value_are_repaired_by_one_spanning_point() -> None:
    spec = model()
    # 22: [0,5] and [12,20] overlap through post_validity; [40,45] stands alone.
    # 80: [0,5] and [30,35] don't overlap.
    record = stored(
        (22, 0, 5, 0.4), (22, 12, 20, 0.8), (22, 40, 45, 1.0), (80, 0, 5, 1), (80, 30, 35, 1)
    )
    (repair,) = aggregation_repairs(record, spec)
    assert (repair.v, repair.t1, repair.t2) == (22, T0, T0 + 20 * MIN)
    assert abs(repair.c - 0.6) < 1e-9  # type: ignore[operator]
    port = spec.entity_attributes["host"]["port"]
    assert isinstance(port, AttrSpecObservations)
    apply_observation(record, port, repair)
    spans = sorted((r.value, r.t1, r.t2) for r in record.attrs["port"].values())
    assert len(spans) == 4 and (22, T0, T0 + 20 * MIN) in spans
    merged = next(r for r in record.attrs["port"].values() if r.t2 == T0 + 20 * MIN)
    assert abs(merged.c - 0.6) < 1e-9  # type: ignore[operator]
    assert aggregation_repairs(record, spec) == []


def test_a_chain_of_overlaps_is_one_group() -> None:
    record = stored((7, 0, 1, 1), (7, 8, 9, 1), (7, 16, 17, 1))
    (repair,) = aggregation_repairs(record, model())
    assert (repair.t1, repair.t2) == (T0, T0 + 17 * MIN)


def test_attributes_without_aggregate_are_left_alone() -> None:
    record = stored((22, 0, 5, 1), (22, 3, 8, 1))
    assert aggregation_repairs(record, model(aggregate=False)) == []
