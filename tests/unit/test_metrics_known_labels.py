"""Label values known in advance are exported at 0 before anything happens to them, so a
dashboard panel or an alert over their rate reads 0 instead of "no data"."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from streamcore.metrics import ControlMetrics, HookMetrics, IngestMetrics, Metrics


def series(registry: CollectorRegistry, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(s.labels.items()): s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == name
    }


def test_retry_and_refusal_reasons_start_at_zero() -> None:
    metrics = Metrics(CollectorRegistry())
    IngestMetrics(metrics)
    ControlMetrics(metrics)
    retries = series(metrics.registry, "streamcore_ingest_retries_total")
    assert retries == {
        frozenset({("reason", "state")}): 0.0,
        frozenset({("reason", "registry")}): 0.0,
        frozenset({("reason", "transaction")}): 0.0,
    }
    refused = series(metrics.registry, "streamcore_control_refused_total")
    assert {dict(labels)["reason"] for labels in refused} == {
        "unsigned",
        "bad_signature",
        "replayed",
    }
    assert set(refused.values()) == {0.0}


def test_a_module_and_a_hook_get_their_error_series_when_first_seen() -> None:
    metrics = Metrics(CollectorRegistry())
    assert series(metrics.registry, "streamcore_module_config_errors_total") == {}
    ControlMetrics(metrics).modules([("tagger", 0)])
    assert series(metrics.registry, "streamcore_module_config_errors_total") == {
        frozenset({("module", "tagger")}): 0.0
    }
    HookMetrics(metrics).observe("tagger", "on_new_attr", "ip", "tag", 0.001, False, 0)
    assert series(metrics.registry, "streamcore_hook_timeouts_total") == {
        frozenset({("module", "tagger"), ("hook", "on_new_attr")}): 0.0
    }
