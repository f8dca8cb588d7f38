"""DP³'s history and lifetime rules through a real worker: the expected values are the
results of DP³'s own functions (dp-cubed 0.10.0) on the same inputs, as in
tests/unit/test_dp3_history_rules.py, here read back from Cassandra."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from support import application, running, wait_for

from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker
from streamcore.settings import Settings

MIN = timedelta(minutes=1)
FOUR = [("x", 0, 5, 0.5), ("x", 5, 10, 0.6), ("y", 10, 20, 1.0), ("x", 20, 30, 0.5)]


def send(runtime: Runtime, *tasks: DataPointTask) -> None:
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for task in tasks:
            p.send(task)


def points(eid: str, attr: str, t0: datetime, rows: list[Any]) -> list[DataPoint]:
    return [DataPoint("host", eid, attr, v, t0 + a * MIN, t0 + b * MIN, c) for v, a, b, c in rows]


def history(runtime: Runtime, eid: str, attr: str, t0: datetime) -> list[Any]:
    (record,) = runtime.store().load([("host", eid)])
    found = [
        (row.value, (row.t1 - t0) // MIN, (row.t2 - t0) // MIN, round(row.c or 0, 6))
        for row in record.attrs.get(attr, {}).values()
    ]
    return sorted(found, key=repr)


def test_aggregation_and_ttl_tokens_are_dp3s(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    t0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    with (
        application(settings, app_name, keyspace, config="dp3_history") as runtime,
        running(build_ingest_worker(runtime)),
    ):
        before = datetime.now(UTC)
        speed = DataPoint("bus", "b1", "speed", 50, t0, t0 + 5 * MIN, 1.0)
        send(
            runtime,
            DataPointTask("host", "one-task", points("one-task", "os", t0, FOUR)),
            *(DataPointTask("host", "per-point", [p]) for p in points("per-point", "os", t0, FOUR)),
            DataPointTask(
                "host",
                "multi",
                points(
                    "multi",
                    "port",
                    t0,
                    [(1, 0, 5, 0.5), (1, 5, 10, 0.6), (2, 10, 20, 1.0), (1, 20, 30, 0.5)],
                ),
            ),
            DataPointTask("bus", "b1", [speed, DataPoint("bus", "b1", "label", "x")]),
        )
        # aggregate_dp_history_on_equal: a different value in between ends the row
        dp3_single = [("x", 0, 10, 0.55), ("x", 20, 30, 0.5), ("y", 10, 20, 1.0)]
        wait_for(lambda: history(runtime, "one-task", "os", t0) == dp3_single)
        wait_for(lambda: history(runtime, "per-point", "os", t0) == dp3_single)
        # aggregate_multivalue_dp_history_on_equal: a pool per value
        dp3_multi = [(1, 0, 30, 0.533333), (2, 10, 20, 1.0)]
        wait_for(lambda: history(runtime, "multi", "port", t0) == dp3_multi)

        wait_for(lambda: runtime.store().load([("bus", "b1")])[0].exists)
        after = datetime.now(UTC)
        (bus,) = runtime.store().load([("bus", "b1")])
        # GarbageCollector: "base" = now + on_create; one "data" token at its latest of
        # t2 + max(ttl, max_age) (the observation) and now + ttl (the plain value).
        assert set(bus.ttl_tokens) == {"base", "data"}
        assert bus.ttl_tokens["data"] == t0 + 5 * MIN + timedelta(days=30)
        assert before - timedelta(seconds=1) <= bus.ttl_tokens["base"] - timedelta(hours=1) <= after
