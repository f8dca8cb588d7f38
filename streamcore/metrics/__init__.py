"""Prometheus metrics and the health endpoint of every streamcore process.

A process declares the metrics once (``Metrics(registry)``), wires the observers into
its stages and serves them (``serve_metrics``)::

    metrics = Metrics(prometheus_client.REGISTRY)
    health = Health(settings.metrics.liveness_seconds)
    server = serve_metrics(settings.metrics, metrics.registry, health)
    ...
    metrics.snapshot_run_seconds.observe(seconds)   # e.g. from the snapshot process
"""

from streamcore.metrics.catalog import Metrics
from streamcore.metrics.observers import (
    ConsumerMetrics,
    ControlMetrics,
    HookMetrics,
    IngestMetrics,
    JobMetrics,
    SnapshotMetrics,
    TimedStore,
)
from streamcore.metrics.server import EndpointAuth, Health, MetricsServer, serve_metrics

__all__ = [
    "ConsumerMetrics",
    "ControlMetrics",
    "EndpointAuth",
    "Health",
    "HookMetrics",
    "IngestMetrics",
    "JobMetrics",
    "Metrics",
    "MetricsServer",
    "SnapshotMetrics",
    "TimedStore",
    "serve_metrics",
]
