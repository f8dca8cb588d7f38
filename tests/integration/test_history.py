"""Aggregation on the real servers: overlapping same-value rows left in Cassandra (as a model
change would leave them) are merged by the running worker after one aggregation pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import application, running, wait_for

from streamcore.history.aggregation import HistoryManager
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker
from streamcore.settings import Settings
from streamcore.state.encoding import dumps
from streamcore.state.merge import interval_key
from streamcore.state.record import EntityRecord, Row

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def ports(runtime: Runtime) -> list[tuple[int, datetime | None, datetime | None, float | None]]:
    (record,) = runtime.store().load([("host", "h1")])
    return sorted((r.value, r.t1, r.t2, r.c) for r in record.attrs.get("port", {}).values())


def test_overlapping_rows_are_merged_through_the_worker(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    with application(settings, app_name, keyspace, config="scheduler") as runtime:
        record = EntityRecord("host", "h1", "h1", exists=True, created=T0, created_by="old")
        record.dirty_meta = True
        # port 22 twice, overlapping through post_validity (10m); port 80 once.
        for value, start, end, c in ((22, 0, 5, 0.5), (22, 12, 20, 1.0), (80, 0, 5, 1.0)):
            t1, t2 = T0 + start * MIN, T0 + end * MIN
            record.put(
                "port", interval_key(t1, t2, dumps(value)), Row(value, dumps(value), t1, t2, c)
            )
        runtime.store().write([record])
        model = runtime.config.model_spec
        with (
            DataPointProducer(runtime.settings, app_name, model) as sink,
            running(build_ingest_worker(runtime)),
        ):
            history = HistoryManager(model, runtime.store(), sink)
            assert history.aggregate() == 1
            merged = [(22, T0, T0 + 20 * MIN, 0.75), (80, T0, T0 + 5 * MIN, 1.0)]
            wait_for(lambda: ports(runtime) == merged)
            assert history.aggregate() == 0  # idempotent: nothing left to merge
