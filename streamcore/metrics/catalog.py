"""Every Prometheus metric streamcore exports, declared once, against a registry passed in.

Names follow Prometheus conventions: the ``streamcore_`` prefix, base units (``_seconds``,
``_records``), ``_total`` on counters. Labels are bounded: module, hook kind, entity type
and attribute come from the configuration; topic and partition from the topic layout;
reasons, actions and outcomes from fixed lists. Never an entity id or a message.

A process builds one ``Metrics(registry)`` (the default registry in production, a fresh
``CollectorRegistry`` in tests) and hands it to the observers in ``observers``. Every role
declares every family (one catalog); each role records those of the stages it runs.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

HOOK_LABELS = ("module", "hook", "etype", "attr")

# Hooks are usually microseconds to milliseconds; a slow one shows in the top buckets.
HOOK_BUCKETS = (0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)
BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000)
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
STORE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
SNAPSHOT_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
JOB_OUTCOMES = ("ran", "failed", "claimed_elsewhere", "busy", "missed")


class Metrics:
    """The metric families of one process (see the module docstring for the rules)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(name, doc, labels, registry=registry)

        def histogram(
            name: str, doc: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()
        ) -> Histogram:
            return Histogram(name, doc, labels, registry=registry, buckets=buckets)

        # Hooks (module, hook kind, entity type, attribute; attr "" where there is none).
        self.hook_calls = counter("streamcore_hook_calls_total", "Hook calls.", HOOK_LABELS)
        self.hook_failures = counter(
            "streamcore_hook_failures_total",
            "Hook calls that raised or broke their contract.",
            HOOK_LABELS,
        )
        self.hook_seconds = histogram(
            "streamcore_hook_duration_seconds",
            "Time spent in hook calls.",
            HOOK_BUCKETS,
            HOOK_LABELS,
        )
        self.hook_emitted = counter(
            "streamcore_hook_emitted_tasks_total", "Tasks returned by hooks.", HOOK_LABELS
        )
        self.hook_timeouts = counter(
            "streamcore_hook_timeouts_total",
            "Hook calls interrupted over their time budget (also counted as failures).",
            ("module", "hook"),
        )

        # The ingestion stage.
        self.records_consumed = counter(
            "streamcore_ingest_records_consumed_total", "Input records read."
        )
        self.tasks_decoded = counter("streamcore_ingest_tasks_total", "Input tasks decoded.")
        self.datapoints_applied = counter(
            "streamcore_ingest_datapoints_applied_total",
            "Data-points of decoded tasks whose batch is durable (state written, committed).",
        )
        self.dead_letters = counter(
            "streamcore_ingest_dead_letters_total",
            "Records dead-lettered, by reason.",
            ("reason",),
        )
        self.derived_tasks = counter(
            "streamcore_ingest_derived_tasks_total", "Derived tasks produced by hooks."
        )
        self.batch_records = histogram(
            "streamcore_ingest_batch_records", "Records per batch.", BATCH_SIZE_BUCKETS
        )
        self.batch_seconds = histogram(
            "streamcore_ingest_batch_duration_seconds",
            "Time to process and commit a batch.",
            BATCH_BUCKETS,
        )
        self.batch_retries = counter(
            "streamcore_ingest_retries_total",
            "Failed batch attempts that are retried, by reason (state, transaction).",
            ("reason",),
        )
        self.latency_seconds = histogram(
            "streamcore_ingest_latency_seconds",
            "End to end: Kafka record timestamp to the entity state being durable.",
            LATENCY_BUCKETS,
        )

        # The worker's entity cache (ingest/cache.py).
        self.cache_lookups = counter(
            "streamcore_ingest_cache_lookups_total",
            "Entity records looked up in the cache, by outcome (object: kept as an object; "
            "packed: unpacked; miss: read from Cassandra).",
            ("outcome",),
        )
        self.cache_entities = gauge(
            "streamcore_ingest_cache_entities", "Entity records cached, by tier.", ("tier",)
        )
        self.cache_bytes = gauge(
            "streamcore_ingest_cache_bytes",
            "Estimated bytes of the cached entity records, by tier.",
            ("tier",),
        )

        # Cassandra, as seen by this process.
        self.store_seconds = histogram(
            "streamcore_cassandra_operation_duration_seconds",
            "Entity-state loads and writes.",
            STORE_BUCKETS,
            ("operation",),
        )
        self.store_errors = counter(
            "streamcore_cassandra_errors_total", "Failed loads and writes.", ("operation",)
        )

        # The consumer.
        self.consumer_lag = gauge(
            "streamcore_consumer_lag_records",
            "Records behind the partition's end.",
            ("topic", "partition"),
        )
        self.rebalances = counter(
            "streamcore_consumer_rebalances_total", "Partition assignment changes."
        )
        self.assigned_partitions = gauge(
            "streamcore_consumer_assigned_partitions", "Partitions assigned to this consumer."
        )

        # Control.
        self.control_messages = counter(
            "streamcore_control_messages_total",
            "Control messages handled, by outcome.",
            ("action", "outcome"),
        )
        self.control_refused = counter(
            "streamcore_control_refused_total",
            "Control messages refused unapplied: unsigned, bad_signature or replayed.",
            ("reason",),
        )
        self.module_config_version = gauge(
            "streamcore_module_config_version",
            "Config version a module runs: 0 from the config directory, else control offset + 1.",
            ("module",),
        )
        self.module_config_errors = counter(
            "streamcore_module_config_errors_total",
            "Module configurations refused by load_config (the previous one kept running).",
            ("module",),
        )

        # Snapshots (observed by the snapshot workers).
        self.snapshot_run_seconds = histogram(
            "streamcore_snapshot_run_duration_seconds",
            "Snapshot runs, from the run's time to its finalize on this worker.",
            SNAPSHOT_BUCKETS,
        )
        self.snapshot_entities = counter(
            "streamcore_snapshot_entities_total",
            "Entities snapshotted, by entity type.",
            ("etype",),
        )
        self.snapshot_tasks = counter(
            "streamcore_snapshot_tasks_total", "Snapshot tasks done (committed)."
        )
        self.snapshot_task_seconds = histogram(
            "streamcore_snapshot_task_duration_seconds",
            "Time to snapshot and commit one poll's tasks.",
            TASK_BUCKETS,
        )
        self.snapshot_invalid_tasks = counter(
            "streamcore_snapshot_invalid_tasks_total",
            "Tasks returned by snapshot hooks that were invalid and dropped.",
        )
        self.snapshot_runs = counter(
            "streamcore_snapshot_runs_total",
            "Snapshot runs on this worker, by event: started (its first task here), "
            "finalized (all the run's tasks done).",
            ("event",),
        )

        # The scheduler.
        self.job_runs = counter(
            "streamcore_scheduler_job_runs_total",
            "Scheduled job fire times, by job and outcome (ran, failed, claimed_elsewhere, "
            "busy, missed).",
            ("job", "outcome"),
        )
        self.job_seconds = histogram(
            "streamcore_scheduler_job_duration_seconds",
            "Duration of the jobs this replica ran (failed ones too).",
            JOB_BUCKETS,
            ("job",),
        )
        self.job_last_success = gauge(
            "streamcore_scheduler_job_last_success_timestamp_seconds",
            "When the job last ran without error in this replica (Unix time).",
            ("job",),
        )
        self.updater_entities = counter(
            "streamcore_updater_entities_total",
            "Entities visited by the periodic updater, by update thread.",
            ("thread",),
        )
        self.updater_progress = gauge(
            "streamcore_updater_period_progress_ratio",
            "Share of the update thread's current period done (0 to 1).",
            ("thread",),
        )
