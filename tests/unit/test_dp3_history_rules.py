"""DP³'s history and lifetime rules, with DP³'s own results as the expected values.

Every expected value below was computed by running DP³'s functions from its published
package, dp-cubed 0.10.0 (PyPI), on the same inputs, in a separate environment:
``dp3.history_management.history_manager.aggregate_dp_history_on_equal`` and
``aggregate_multivalue_dp_history_on_equal`` for aggregation (rows as (value, start
minute, end minute, confidence)), and ``dp3.core.collector.GarbageCollector`` (its
``_register_ttl_extensions`` hooks and ``extend_ttl_on_create``) for TTL tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streamcore.ingest.hook_runner import NoHooks
from streamcore.ingest.processor import TaskProcessor
from streamcore.model.datapoint import PRUNE_TTL_TAG, DataPoint, DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.state.merge import prune_expired_tokens
from streamcore.state.record import EntityRecord
from streamcore.testing.config import model_spec_from_dicts

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)
Rows = list[tuple[Any, int, int, float]]


def model(pre: str, post: str, multi_value: bool = False, data_type: str = "string") -> ModelSpec:
    return model_spec_from_dicts(
        {
            "host": {
                "entity": {"id": "host", "name": "Host", "snapshot": False},
                "attribs": {
                    "p": {
                        "name": "p",
                        "type": "observations",
                        "data_type": data_type,
                        "multi_value": multi_value,
                        "confidence": True,
                        "history_params": {"pre_validity": pre, "post_validity": post},
                    }
                },
            }
        }
    )


def points(rows: Rows) -> list[DataPoint]:
    return [DataPoint("host", "h", "p", v, T0 + a * MIN, T0 + b * MIN, c) for v, a, b, c in rows]


def history(record: EntityRecord) -> Rows:
    found = [
        (row.value, (row.t1 - T0) // MIN, (row.t2 - T0) // MIN, round(row.c or 0, 6))
        for row in record.attrs["p"].values()
        if row.t1 is not None and row.t2 is not None
    ]
    return sorted(found, key=repr)


def one_pass(spec: ModelSpec, rows: Rows) -> Rows:
    """All ``rows`` in one task: one pass of DP³'s aggregation."""
    record = EntityRecord("host", "h", "h")
    TaskProcessor(spec, NoHooks()).process(
        record, DataPointTask("host", "h", points(rows)), "in:0:0", T0
    )
    return history(record)


def pass_per_point(spec: ModelSpec, rows: Rows) -> Rows:
    """One task per row: DP³'s aggregation run after each one."""
    record = EntityRecord("host", "h", "h")
    processor = TaskProcessor(spec, NoHooks())
    for offset, point in enumerate(points(rows)):
        task = DataPointTask("host", "h", [point])
        processor.process(record, task, f"in:0:{offset}", T0)
    return history(record)


@pytest.mark.parametrize(
    ("pre", "post", "given", "dp3"),
    [
        pytest.param(  # issue 14's four points: a different value in between ends the row
            "0s",
            "10m",
            [("x", 0, 5, 0.5), ("x", 5, 10, 0.6), ("y", 10, 20, 1.0), ("x", 20, 30, 0.5)],
            [("x", 0, 10, 0.55), ("x", 20, 30, 0.5), ("y", 10, 20, 1.0)],
            id="four-points",
        ),
        pytest.param(  # a point inside a row of the same value: averaged in
            "0s", "0s", [("x", 0, 30, 1.0), ("x", 10, 20, 0.5)], [("x", 0, 30, 0.75)], id="inside"
        ),
        pytest.param(  # three in one pass: one mean over all three
            "0s",
            "0s",
            [("x", 0, 10, 1.0), ("x", 10, 20, 0.5), ("x", 20, 30, 0.0)],
            [("x", 0, 30, 0.5)],
            id="three-one-pass",
        ),
        pytest.param(  # pre_validity bridges a 5-minute gap, not a 20-minute one
            "5m",
            "0s",
            [("x", 0, 10, 1.0), ("x", 15, 20, 0.5), ("x", 40, 50, 1.0)],
            [("x", 0, 20, 0.75), ("x", 40, 50, 1.0)],
            id="pre-validity",
        ),
        pytest.param(  # out of order: the late point bridges both
            "1m",
            "1m",
            [("x", 0, 5, 1.0), ("x", 10, 15, 1.0), ("x", 6, 9, 1.0)],
            [("x", 0, 15, 1.0)],
            id="bridge",
        ),
    ],
)
def test_single_value_aggregation_gives_dp3s_rows(
    pre: str, post: str, given: Rows, dp3: Rows
) -> None:
    assert one_pass(model(pre, post), given) == dp3


def test_one_pass_per_point_loses_the_counts_as_dp3_does() -> None:
    """DP³'s FIXME: a merged row counts as one in the next pass (0.75, then 0.375)."""
    rows = [("x", 0, 10, 1.0), ("x", 10, 20, 0.5), ("x", 20, 30, 0.0)]
    assert pass_per_point(model("0s", "0s"), rows) == [("x", 0, 30, 0.375)]


def test_four_points_one_task_each_still_give_dp3s_rows() -> None:
    rows = [("x", 0, 5, 0.5), ("x", 5, 10, 0.6), ("y", 10, 20, 1.0), ("x", 20, 30, 0.5)]
    assert pass_per_point(model("0s", "10m"), rows) == [
        ("x", 0, 10, 0.55),
        ("x", 20, 30, 0.5),
        ("y", 10, 20, 1.0),
    ]


@pytest.mark.parametrize(
    ("given", "dp3"),
    [
        pytest.param(
            [(22, 0, 5, 0.4), (80, 0, 5, 1.0), (22, 12, 20, 0.8), (80, 30, 35, 1.0)]
            + [(22, 40, 45, 1.0)],
            [(22, 0, 20, 0.6), (22, 40, 45, 1.0), (80, 0, 5, 1.0), (80, 30, 35, 1.0)],
            id="pool-per-value",
        ),
        pytest.param(  # multi-value: another value in between does not end the row
            [(1, 0, 5, 0.5), (1, 5, 10, 0.6), (2, 10, 20, 1.0), (1, 20, 30, 0.5)],
            [(1, 0, 30, 0.533333), (2, 10, 20, 1.0)],
            id="four-points",
        ),
    ],
)
def test_multi_value_aggregation_gives_dp3s_rows(given: Rows, dp3: Rows) -> None:
    assert one_pass(model("0s", "10m", multi_value=True, data_type="int"), given) == dp3


def ttl_model(mirror_data: bool) -> ModelSpec:
    return model_spec_from_dicts(
        {
            "bus": {
                "entity": {
                    "id": "bus",
                    "name": "Bus",
                    "snapshot": False,
                    "lifetime": {"type": "ttl", "on_create": "1h", "mirror_data": mirror_data},
                },
                "attribs": {
                    "label": {"name": "l", "type": "plain", "data_type": "string", "ttl": "7d"},
                    "nolife": {"name": "n", "type": "plain", "data_type": "string"},
                    "speed": {
                        "name": "s",
                        "type": "observations",
                        "data_type": "int",
                        "ttl": "1d",
                        "history_params": {"max_age": "30d"},
                    },
                    "short": {
                        "name": "s",
                        "type": "observations",
                        "data_type": "int",
                        "ttl": "40d",
                        "history_params": {"max_age": "30d"},
                    },
                    "aged": {
                        "name": "a",
                        "type": "observations",
                        "data_type": "int",
                        "history_params": {"max_age": "2h"},
                    },
                    "bare": {
                        "name": "b",
                        "type": "observations",
                        "data_type": "int",
                        "history_params": {},
                    },
                    "traffic": {
                        "name": "t",
                        "type": "timeseries",
                        "timeseries_type": "regular",
                        "timeseries_params": {"max_age": "3d", "time_step": "1m"},
                        "series": {"bytes": {"data_type": "int"}},
                    },
                },
            }
        }
    )


NOW = datetime(2026, 3, 1, 11, tzinfo=UTC)  # before T2: no token has expired
T2 = datetime(2026, 3, 1, 12, tzinfo=UTC)
S = timedelta(seconds=1)

# DP³: (attribute -> token "data" = base + seconds); None: the attribute gives no token.
DP3_TOKENS = {
    True: {
        "aged": ("t2", 7200),
        "label": ("now", 604800),
        "short": ("t2", 3456000),
        "speed": ("t2", 2592000),
        "traffic": ("t2", 259200),
        "nolife": None,
        "bare": None,
    },
    False: {
        "label": ("now", 604800),
        "short": ("t2", 3456000),
        "speed": ("t2", 86400),
        "aged": None,
        "traffic": None,
        "nolife": None,
        "bare": None,
    },
}


def value_of(attr: str) -> DataPoint:
    if attr in ("label", "nolife"):
        return DataPoint("bus", "b1", attr, "x")
    if attr == "traffic":
        v = {"bytes": [1, 2]}
        return DataPoint("bus", "b1", attr, v, T2 - 2 * MIN, T2)
    return DataPoint("bus", "b1", attr, 1, T2 - MIN, T2, 1.0)


@pytest.mark.parametrize("mirror_data", [True, False])
@pytest.mark.parametrize("attr", sorted(DP3_TOKENS[True]))
def test_ttl_tokens_are_dp3s(mirror_data: bool, attr: str) -> None:
    spec = ttl_model(mirror_data)
    record = EntityRecord("bus", "b1", "b1")
    task = spec.validate_task(DataPointTask("bus", "b1", [value_of(attr)]))
    TaskProcessor(spec, NoHooks()).process(record, task, "in:0:0", NOW)
    expected = {"base": NOW + 3600 * S}  # extend_ttl_on_create: "base" = now + on_create
    dp3 = DP3_TOKENS[mirror_data][attr]
    if dp3 is not None:
        base, seconds = dp3
        expected["data"] = (T2 if base == "t2" else NOW) + seconds * S
    assert record.ttl_tokens == expected


def test_expired_tokens_are_pruned_while_another_lives() -> None:
    """DP³'s collector removes expired tokens (``remove_expired_ttls``) of the entities it
    keeps, and deletes the entity once all have expired."""
    record = EntityRecord("bus", "b1", "b1")
    record.ttl_tokens = {"base": NOW - S, "data": NOW + S}
    prune_expired_tokens(record, NOW)
    assert record.ttl_tokens == {"data": NOW + S} and record.dirty_meta
    record.ttl_tokens = {"base": NOW - 2 * S, "data": NOW - S}
    record.dirty_meta = False
    prune_expired_tokens(record, NOW)
    assert record.ttl_tokens == {"base": NOW - 2 * S, "data": NOW - S}
    assert not record.dirty_meta


class Recording(NoHooks):
    def __init__(self) -> None:
        self.started: list[DataPointTask] = []

    def run_task_start(self, task: DataPointTask) -> None:
        self.started.append(task)


def test_the_collectors_prune_task_drops_expired_tokens_without_hooks() -> None:
    spec = ttl_model(True)
    hooks = Recording()
    processor = TaskProcessor(spec, hooks)
    prune = spec.validate_task(DataPointTask("bus", "b1", tags=[PRUNE_TTL_TAG]))
    record = EntityRecord("bus", "b1", "b1", exists=True)
    record.ttl_tokens = {"base": NOW - S, "data": NOW + S}
    assert processor.process(record, prune, "in:0:0", NOW) == []
    assert record.ttl_tokens == {"data": NOW + S}
    gone = EntityRecord("bus", "b2", "b2")  # deleted meanwhile: stays deleted
    processor.process(gone, DataPointTask("bus", "b2", tags=[PRUNE_TTL_TAG]), "in:0:1", NOW)
    assert not gone.exists and not gone.dirty_meta
    assert hooks.started == []
