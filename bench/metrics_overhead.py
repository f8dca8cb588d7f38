"""What the metrics cost: one ingestion worker, the same load, metrics on and off.

    .venv/bin/python bench/metrics_overhead.py [--entities 5000] [--tasks-per-entity 4]
        [--dps-per-task 5] [--rounds 3]

The load is ``bench/ingest.py``'s (the example modules of ``config/``: hooks, derived
tasks). Each run gets fresh topics holding the same load and a fresh keyspace; the
worker runs in a thread of this process; runs alternate off, on, off, on, ... so drift
in the shared machine hits both alike. "On" is everything ``streamcore worker`` adds
for metrics: the hook observer, the batch observer, the timed Cassandra store, the
consumer sampling and heartbeat between batches, and the HTTP endpoint scraped every
5 s. The clock runs from the worker's start until its committed offsets reach the end
of the input topic (including derived tasks) and stay there for 2 s.

Prints each run, the median of each mode and the ratio on / off (target <= 1.05).
Needs the dev servers (``streamcore dev up``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import wait_until_caught_up  # noqa: E402 (bench/ingest.py: the shared clock)
from ingest_load import bench_load  # noqa: E402 (and its load)

from streamcore.config import load_config  # noqa: E402
from streamcore.config.samples import EXAMPLE_CONFIG_DIR as CONFIG  # noqa: E402
from streamcore.settings import Settings, TopicSettings  # noqa: E402


def prepare(base: Settings, session: Any, tasks: list[Any]) -> tuple[Settings, str, str]:
    """Fresh topics filled with ``tasks`` and a fresh keyspace: (settings, app, keyspace)."""
    from streamcore.kafka.clients import make_admin
    from streamcore.kafka.topics import ensure_topics
    from streamcore.producer import DataPointProducer
    from streamcore.state.cassandra import create_schema

    app_name = f"mbench-{uuid.uuid4().hex[:8]}"
    keyspace = f"mbench_{uuid.uuid4().hex[:8]}"
    ensure_topics(make_admin(base.kafka), base.topics, app_name)
    create_schema(session, keyspace)
    config = load_config(CONFIG)
    with DataPointProducer(base, app_name, config.model_spec) as producer:
        for task in tasks:
            producer.send(task)
    cassandra = base.cassandra.model_copy(update={"keyspace": keyspace})
    return base.model_copy(update={"cassandra": cassandra}), app_name, keyspace


def run_once(settings: Settings, app_name: str, metrics_on: bool) -> float:
    """Seconds for one worker to ingest the topic of ``app_name`` to the end."""
    from prometheus_client import CollectorRegistry

    from streamcore.metrics import (
        ConsumerMetrics,
        Health,
        HookMetrics,
        IngestMetrics,
        Metrics,
        MetricsServer,
    )
    from streamcore.module.loader import load_modules
    from streamcore.runtime import build_ingest_worker, open_runtime

    config = load_config(CONFIG)
    loaded = load_modules(config.platform_config(app_name))
    runtime = open_runtime(settings, config, app_name)
    metrics = Metrics(CollectorRegistry()) if metrics_on else None
    server = None
    if metrics is None:
        worker = build_ingest_worker(runtime, hooks=loaded.registrar.ingestion_hooks())
    else:
        worker = build_ingest_worker(
            runtime,
            hooks=loaded.registrar.ingestion_hooks(HookMetrics(metrics)),
            observer=IngestMetrics(metrics),
            metrics=metrics,
        )
        health, consumer_metrics = Health(), ConsumerMetrics(metrics)
        worker.between_batches += [health.beat, lambda: consumer_metrics.sample(worker.consumer)]
        server = MetricsServer(metrics.registry, health, "127.0.0.1", 0).start()
    stop_scraping = threading.Event()
    if server is not None:
        url = f"http://127.0.0.1:{server.port}/metrics"

        def scrape() -> None:
            while not stop_scraping.wait(5.0):
                urllib.request.urlopen(url, timeout=5).read()

        threading.Thread(target=scrape, daemon=True).start()
    started = time.perf_counter()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        finished, _ = wait_until_caught_up(
            settings, app_name, {}, lambda: None if thread.is_alive() else "the worker stopped"
        )
    finally:
        stop_scraping.set()
        worker.stop()
        thread.join(60)
        if server is not None:
            server.close()
        runtime.close()
    return finished - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=5000)
    parser.add_argument("--tasks-per-entity", type=int, default=4)
    parser.add_argument("--dps-per-task", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from streamcore.kafka.clients import make_admin
    from streamcore.state.session import open_session

    base = Settings().model_copy(update={"topics": TopicSettings(partitions=args.partitions)})
    tasks = bench_load(args.entities, args.tasks_per_entity, args.dps_per_task)
    data_points = sum(len(t.data_points) for t in tasks)
    print(f"load: {len(tasks)} tasks, {data_points} data-points, {args.entities} entities")
    session = open_session(base.cassandra)
    admin = make_admin(base.kafka)
    times: dict[bool, list[float]] = {False: [], True: []}
    for round_ in range(args.rounds):
        for metrics_on in (False, True):
            settings, app_name, keyspace = prepare(base, session, tasks)
            try:
                seconds = run_once(settings, app_name, metrics_on)
            finally:
                session.execute(f"DROP KEYSPACE {keyspace}", timeout=120)
                topics = admin.list_topics(timeout=10).topics
                names = [t for t in topics if t.startswith(f"{app_name}.")]
                if names:
                    admin.delete_topics(names)
            times[metrics_on].append(seconds)
            mode = "on " if metrics_on else "off"
            print(
                f"round {round_ + 1} metrics {mode}: {seconds:6.2f} s "
                f"({data_points / seconds:,.0f} data-points/s)",
                flush=True,
            )
    session.cluster.shutdown()
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(
        f"median metrics off: {off:.2f} s, on: {on:.2f} s; "
        f"ratio on / off: {on / off:.3f} (target <= 1.05)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
