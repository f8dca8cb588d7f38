"""Entities per second one snapshot worker process snapshots, and how a run grows with size.

    .venv/bin/python bench/snapshots.py [--sizes 10000,30000,100000] [--tasks 16]

Uses the example configuration (config/) with its example modules (``ports`` and
``port_risk`` correlation hooks: services from open ports, a risk score reading the
linked domain's current ``resolves_to``) and the dev servers (or the environment's).
For each size, a fresh keyspace is loaded directly through ``CassandraStore.write`` (not
through Kafka): N ips, each with an ``open_ports`` observation, a ``hostname`` and a
link to one of N/20 domains; the domains have ``resolves_to``. ONE snapshot worker is
started in this process and, once it has joined its consumer group (a deployed worker is
running before a run starts), a run is started (``make_snapshots`` with a ready planner,
as a worker's trigger has) and timed until all its tasks are done: scan, current values,
linked domains loaded, hooks, Cassandra writes, snapshots topic.

Prints entities/s per size and the time per 10k entities (linear growth keeps it flat).
Target: >= 5,000 entities/s.
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address

from confluent_kafka.admin import AdminClient

from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import ensure_topics
from streamcore.model.datapoint import Link
from streamcore.module.loader import load_modules
from streamcore.runtime import build_run_planner, build_snapshot_worker, open_runtime
from streamcore.settings import Settings, SnapshotSettings, TopicSettings
from streamcore.snapshot.runs import make_snapshots as start_run
from streamcore.state.cassandra import create_schema
from streamcore.state.encoding import dumps
from streamcore.state.merge import interval_key
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row
from streamcore.state.snapshots import SnapshotStore

WRITE_BATCH = 2000


def records(count: int, now: datetime) -> list[EntityRecord]:
    t1, t2 = now - timedelta(minutes=10), now - timedelta(minutes=1)
    domains = max(1, count // 20)
    out = []
    for i in range(count):
        ip = IPv4Address("10.0.0.0") + i
        record = EntityRecord("ip", ip, str(ip), exists=True, created=now, dirty_meta=True)
        ports = [22, 80, 443] if i % 3 else [23, 445]
        _observe(record, "open_ports", ports, t1, t2)
        _observe(record, "hostname", f"h{i}.d{i % domains}.example", t1, t2)
        link = [Link(f"d{i % domains}.example")]
        record.put("domains", PLAIN_KEY, Row(link, dumps(link), t1=now))
        out.append(record)
    for d in range(domains):
        record = EntityRecord(
            "domain", f"d{d}.example", f"d{d}.example", exists=True, created=now, dirty_meta=True
        )
        addresses = [IPv4Address("192.0.2.0") + k for k in range(d % 6)]
        _observe(record, "resolves_to", addresses, t1, t2)
        out.append(record)
    return out


def _observe(record: EntityRecord, attr: str, v: object, t1: datetime, t2: datetime) -> None:
    record.put(attr, interval_key(t1, t2, dumps(v)), Row(v, dumps(v), t1=t1, t2=t2, c=1.0))


def one_size(base: Settings, size: int, tasks: int) -> tuple[int, float]:
    """(entities snapshotted, seconds of the run) for ``size`` ips."""
    app = f"bench-snap-{uuid.uuid4().hex[:8]}"
    keyspace = app.replace("-", "_")
    settings = base.model_copy(
        update={
            "cassandra": base.cassandra.model_copy(update={"keyspace": keyspace}),
            "topics": TopicSettings(partitions=4),
            "snapshots": SnapshotSettings(tasks_per_run=tasks),
        }
    )
    config = load_config(EXAMPLE_CONFIG_DIR)
    admin = make_admin(settings.kafka)
    ensure_topics(admin, settings.topics, app)
    runtime = open_runtime(settings, config, app)
    try:
        create_schema(runtime.session, keyspace)
        store = runtime.store()
        data = records(size, datetime.now(UTC))
        start = time.perf_counter()
        for i in range(0, len(data), WRITE_BATCH):
            store.write(data[i : i + WRITE_BATCH])
        print(f"  loaded {len(data):,} entities in {time.perf_counter() - start:.1f} s")
        del data  # a snapshot worker process doesn't hold the loader's records
        gc.collect()
        loaded = load_modules(config.platform_config(app, 0))
        worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
        progress = SnapshotStore(runtime.session, keyspace, config.model_spec)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        _wait_joined(admin, settings.snapshots.consumer_group or f"{app}.snapshots")
        claims, planner = build_run_planner(runtime)  # ready, as in a worker's RunTrigger
        start = time.perf_counter()
        run = start_run(claims, planner)
        while progress.progress(run)[0] < tasks:
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        worker.stop()
        thread.join(60)
        return worker.stats.entities, seconds
    finally:
        runtime.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        runtime.close()
        topics = [
            settings.topics.name(r, app)
            for r in ("input", "control", "dead_letter", "snapshots", "snapshot_tasks")
        ]
        admin.delete_topics(topics)


def _wait_joined(admin: AdminClient, group: str, timeout: float = 60.0) -> None:
    """Until the worker's consumer holds partitions: a deployed worker is running when a
    run starts, so the one-off group join is not part of a run's time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = admin.describe_consumer_groups([group])[group].result()
        if any(member.assignment.topic_partitions for member in description.members):
            return
        time.sleep(0.2)
    raise TimeoutError(f"snapshot worker did not join {group}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--tasks", type=int, default=16)
    args = parser.parse_args()
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"{size:,} ips (+ {max(1, size // 20):,} domains):")
        entities, seconds = one_size(Settings(), size, args.tasks)
        results.append((entities, seconds))
        print(
            f"  run: {entities:,} entities in {seconds:.2f} s "
            f"= {entities / seconds:,.0f} entities/s"
        )
    print("\nrun time per 10k entities (flat = linear):")
    for entities, seconds in results:
        print(
            f"  {entities:>8,} entities: {seconds:6.2f} s, "
            f"{seconds / entities * 10_000:.2f} s per 10k"
        )


if __name__ == "__main__":
    main()
