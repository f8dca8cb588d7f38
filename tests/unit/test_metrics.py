"""Metrics declared against a fresh registry; observers; the HTTP endpoint's routes."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from streamcore.ingest.worker import BatchResult
from streamcore.metrics import (
    ConsumerMetrics,
    Health,
    HookMetrics,
    IngestMetrics,
    Metrics,
    MetricsServer,
    TimedStore,
)
from streamcore.model.control import DeadLetter
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.dispatch import IngestionHooks
from streamcore.module.hooks import HookKind, HookRegistration


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


def test_names_follow_prometheus_conventions(metrics: Metrics) -> None:
    for family in metrics.registry.collect():
        assert family.name.startswith("streamcore_")
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        if family.type == "histogram":
            assert family.name.endswith(("_seconds", "_records"))


def test_two_processes_worth_of_metrics_need_two_registries() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    with pytest.raises(ValueError, match="Duplicated"):
        Metrics(registry)


def test_hook_metrics_count_calls_failures_durations_and_emitted_tasks(metrics: Metrics) -> None:
    def derive(eid: Any, dp: DataPoint) -> list[DataPointTask]:
        return [DataPointTask("host", eid, [])] * 2

    def broken(eid: Any, dp: DataPoint) -> None:
        raise RuntimeError("boom")

    hooks = IngestionHooks(
        [
            HookRegistration(HookKind.ON_NEW_ATTR, derive, "mod", entity="host", attr="name"),
            HookRegistration(HookKind.ON_NEW_ATTR, broken, "bad", entity="host", attr="name"),
        ],
        HookMetrics(metrics),
    )
    for _ in range(3):
        hooks.run_new_attr("host", "h1", DataPoint("host", "h1", "name", "x"))

    ok = {"module": "mod", "hook": "on_new_attr", "etype": "host", "attr": "name"}
    bad = {**ok, "module": "bad"}
    assert sample(metrics, "streamcore_hook_calls_total", **ok) == 3
    assert sample(metrics, "streamcore_hook_failures_total", **ok) == 0
    assert sample(metrics, "streamcore_hook_emitted_tasks_total", **ok) == 6
    assert sample(metrics, "streamcore_hook_duration_seconds_count", **ok) == 3
    assert (sample(metrics, "streamcore_hook_duration_seconds_sum", **ok) or 0) > 0
    assert sample(metrics, "streamcore_hook_calls_total", **bad) == 3
    assert sample(metrics, "streamcore_hook_failures_total", **bad) == 3


def test_ingest_metrics_observe_a_batch(metrics: Metrics) -> None:
    now = datetime.now(UTC)
    letter = DeadLetter("decode", "bad", "t", 0, 1, None, b"x", now)
    result = BatchResult(
        records=3,
        tasks=2,
        data_points=5,
        derived=1,
        dead_letters=[letter],
        timestamps_ms=[1000, 2000, 3000],
        durable_at=4.0,
        cache_lookups={"object": 1, "packed": 0, "miss": 1},
        cache_tiers={"object": (10, 85_000), "packed": (40, 60_000)},
    )
    observer = IngestMetrics(metrics)
    assert sample(metrics, "streamcore_ingest_cache_lookups_total", outcome="packed") == 0
    observer.batch_done(result, 0.25)
    observer.batch_done(
        BatchResult(cache_lookups={"packed": 2}, cache_tiers={"object": (11, 90_000)}), 0.1
    )
    assert sample(metrics, "streamcore_ingest_cache_lookups_total", outcome="object") == 1
    assert sample(metrics, "streamcore_ingest_cache_lookups_total", outcome="packed") == 2
    assert sample(metrics, "streamcore_ingest_cache_entities", tier="object") == 11
    assert sample(metrics, "streamcore_ingest_cache_bytes", tier="packed") == 60_000
    assert sample(metrics, "streamcore_ingest_records_consumed_total") == 3
    assert sample(metrics, "streamcore_ingest_datapoints_applied_total") == 5
    assert sample(metrics, "streamcore_ingest_dead_letters_total", reason="decode") == 1
    assert sample(metrics, "streamcore_ingest_batch_records_sum") == 3
    assert sample(metrics, "streamcore_ingest_latency_seconds_count") == 3
    assert sample(metrics, "streamcore_ingest_latency_seconds_sum") == pytest.approx(3 + 2 + 1)


class FailingStore:
    def load(self, keys: list[tuple[str, Any]]) -> list[Any]:
        return []

    def write(self, records: list[Any], now: datetime | None = None) -> int:
        raise OSError("cassandra down")


def test_timed_store_times_operations_and_counts_errors(metrics: Metrics) -> None:
    store = TimedStore(FailingStore(), metrics)
    store.load([])
    with pytest.raises(OSError):
        store.write([])
    assert (
        sample(metrics, "streamcore_cassandra_operation_duration_seconds_count", operation="load")
        == 1
    )
    assert sample(metrics, "streamcore_cassandra_errors_total", operation="write") == 1
    assert sample(metrics, "streamcore_cassandra_errors_total", operation="load") == 0


class FakeConsumer:
    def __init__(self) -> None:
        self.assignment = {("in", 0), ("in", 1)}
        self.rebalances = 2
        self.lags = {("in", 0): 5, ("in", 1): 0}

    def lag(self) -> dict[tuple[str, int], int]:
        return self.lags


def test_consumer_metrics_follow_lag_assignment_and_rebalances(metrics: Metrics) -> None:
    consumer, observer = FakeConsumer(), ConsumerMetrics(metrics, every=3600)
    observer.sample(consumer)
    assert sample(metrics, "streamcore_consumer_lag_records", topic="in", partition="0") == 5
    consumer.rebalances, consumer.lags = 3, {("in", 1): 7}
    observer.sample(consumer)  # throttled
    assert sample(metrics, "streamcore_consumer_rebalances_total") == 2
    observer.sample(consumer, force=True)
    assert sample(metrics, "streamcore_consumer_rebalances_total") == 3
    assert sample(metrics, "streamcore_consumer_lag_records", topic="in", partition="0") is None
    assert sample(metrics, "streamcore_consumer_lag_records", topic="in", partition="1") == 7


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_endpoint_serves_metrics_liveness_and_readiness(metrics: Metrics) -> None:
    health = Health(liveness_seconds=60)
    ready: list[str | None] = ["no partitions"]
    health.checks.append(lambda: ready[0])
    server = MetricsServer(metrics.registry, health, "127.0.0.1", 0).start()
    try:
        metrics.records_consumed.inc(7)
        status, body = get(server.port, "/metrics")
        assert status == 200
        families = {f.name: f for f in text_string_to_metric_families(body)}
        assert families["streamcore_ingest_records_consumed"].samples[0].value == 7
        assert get(server.port, "/healthz") == (200, "ok\n")
        assert get(server.port, "/readyz") == (503, "no partitions\n")
        ready[0] = None
        assert get(server.port, "/readyz") == (200, "ok\n")
        health.liveness_seconds = 0.0
        status, body = get(server.port, "/healthz")
        assert status == 503 and "has not run" in body
        assert get(server.port, "/nope")[0] == 404
    finally:
        server.close()
