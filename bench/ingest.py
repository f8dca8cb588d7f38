"""Ingestion throughput: one streamcore worker process vs a bare loop on the same load.

    .venv/bin/python bench/ingest.py [--entities 10000] [--tasks-per-entity 6] [--dps-per-task 5]

Both read the same pre-filled input topic (fresh consumer group, fresh keyspace each):

* streamcore: ``IngestWorker`` with the example modules of ``config/`` (hooks, derived
  tasks, one Kafka transaction per batch, entity cache);
* bare loop: consume + decode + the same Cassandra writes (the same merge rules, the
  same entity cache, so it reads no more than the worker, and the same GC policy),
  offsets committed per batch; no hooks, no transactions, no derived tasks.

Each runs in its own process (spawned); the clock runs from the moment it is ready to
consume until its group's committed offsets reach the end of the topic (for streamcore
this includes the tasks its hooks derived). Prints data-points/s of the input load, the
ratio, and the peak RSS of each process. Needs the dev servers (``streamcore dev up``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"


def make_load(entities: int, tasks_per_entity: int, dps_per_task: int) -> list[Any]:
    from streamcore.model.datapoint import DataPoint, DataPointTask

    # Recent: observations older than their max_age (30 days) are refused as expired.
    t0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)
    tasks = []
    for round_ in range(tasks_per_entity):
        for n in range(entities):
            ip = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
            t1 = t0 + timedelta(minutes=round_)
            points = [
                DataPoint("ip", ip, "open_ports", [22, 80, 443 + round_ % 2], t1, t1),
                DataPoint("ip", ip, "services", ["ssh", "http"], t1, t1),
                DataPoint("ip", ip, "asn", 64500 + n % 100),
                DataPoint("ip", ip, "bytes_total", 1000 * round_ + n),
            ]
            if round_ == 0:
                points.append(DataPoint("ip", ip, "hostname", f"h{n}.net{n % 50}.example", t1, t1))
            while len(points) < dps_per_task:
                points.append(DataPoint("ip", ip, "bytes_total", 1000 * round_ + n))
            tasks.append(DataPointTask("ip", ip, points[:dps_per_task]))
    return tasks


def run_streamcore(settings_json: str, app_name: str, ready: Any, stop: Any, out: Any) -> None:
    from streamcore.config import load_config
    from streamcore.module.loader import load_modules
    from streamcore.runtime import build_ingest_worker, open_runtime
    from streamcore.settings import Settings

    settings = Settings.model_validate_json(settings_json)
    config = load_config(CONFIG)
    loaded = load_modules(config.platform_config(app_name))
    runtime = open_runtime(settings, config, app_name)
    worker = build_ingest_worker(runtime, hooks=loaded.registrar.ingestion_hooks())
    import threading

    threading.Thread(target=lambda: (stop.wait(), worker.stop()), daemon=True).start()
    ready.put(time.perf_counter())
    worker.run()
    runtime.close()
    out.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run_bare(settings_json: str, app_name: str, ready: Any, stop: Any, out: Any) -> None:
    from confluent_kafka import Consumer

    from streamcore.batch.gc_policy import use_batch_gc
    from streamcore.codec.tasks import TaskDecoder
    from streamcore.config import load_config
    from streamcore.ingest.cache import EntityCache
    from streamcore.ingest.processor import NoHooks, TaskProcessor
    from streamcore.runtime import open_runtime
    from streamcore.settings import Settings

    settings = Settings.model_validate_json(settings_json)
    config = load_config(CONFIG)
    runtime = open_runtime(settings, config, app_name)
    store = runtime.store()
    decoder = TaskDecoder(config.model_spec)
    apply = TaskProcessor(config.model_spec, NoHooks())
    cache = EntityCache(settings.worker.cache_entities)
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": f"{app_name}.bare",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([runtime.topic("input")])
    use_batch_gc()  # the worker's GC policy (IngestWorker.run), so the loops compare fairly
    ready.put(time.perf_counter())
    while not stop.is_set():
        batch = consumer.consume(settings.worker.batch_size, 0.5)  # the worker's batches
        messages = [m for m in batch if m.error() is None]
        if not messages:
            continue
        now = datetime.now(UTC)
        groups: dict[Any, list[Any]] = {}
        for message in messages:
            task = decoder.decode(message.value())
            groups.setdefault((task.etype, task.eid), []).append(task)
        records = {key: cache.get(key) for key in groups}
        missing = [key for key, record in records.items() if record is None]
        records.update(zip(missing, store.load(missing), strict=True))
        for key, tasks in groups.items():
            for task in tasks:
                apply.process(records[key], task, "bare", now)
        store.write(list(records.values()), now)
        for key, record in records.items():
            cache.put(key, ("input", 0), record)
        consumer.commit(asynchronous=False)
    consumer.close()
    runtime.close()
    out.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(target: Any, settings: Any, app_name: str, group: str) -> tuple[float, int]:
    ctx = mp.get_context("spawn")
    ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    process = ctx.Process(
        target=target, args=(settings.model_dump_json(), app_name, ready, stop, out)
    )
    process.start()
    started = ready.get(timeout=120)
    # Nothing new (derived tasks) arrived for 2 s once caught up: the run is over.
    elapsed = wait_until_caught_up(settings, app_name, group) - started
    stop.set()
    rss_kb = out.get(timeout=120)
    process.join(60)
    return elapsed, rss_kb


def wait_until_caught_up(settings: Any, app_name: str, group: str) -> float:
    """When the group's committed offsets reached the ends and then stayed for 2 s."""
    from confluent_kafka import Consumer, TopicPartition

    topic = settings.topics.name("input", app_name)
    probe = Consumer({**settings.kafka.client_config(), "group.id": group})
    partitions = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
    stable_since: float | None = None
    last: list[int] = []
    try:
        while True:
            time.sleep(0.2)
            committed = probe.committed(partitions, timeout=10)
            ends = [probe.get_watermark_offsets(p, timeout=10)[1] for p in partitions]
            # A transaction's commit marker sits after its last record: lag 1 is caught up.
            done = all(e - c.offset <= 1 for c, e in zip(committed, ends, strict=True))
            offsets = [c.offset for c in committed]
            if done and (stable_since is None or offsets != last):
                stable_since = time.perf_counter()
            elif not done:
                stable_since = None
            last = offsets
            if stable_since is not None and time.perf_counter() - stable_since > 2.0:
                return stable_since
    finally:
        probe.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10000)
    parser.add_argument("--tasks-per-entity", type=int, default=6)
    parser.add_argument("--dps-per-task", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()

    from streamcore.config import load_config
    from streamcore.kafka.clients import make_admin
    from streamcore.kafka.topics import ensure_topics
    from streamcore.producer import DataPointProducer
    from streamcore.settings import Settings, TopicSettings
    from streamcore.state.cassandra import create_schema
    from streamcore.state.session import open_session

    config = load_config(CONFIG)
    app_name = f"bench-{uuid.uuid4().hex[:8]}"
    base = Settings().model_copy(update={"topics": TopicSettings(partitions=args.partitions)})
    ensure_topics(make_admin(base.kafka), base.topics, app_name)
    tasks = make_load(args.entities, args.tasks_per_entity, args.dps_per_task)
    data_points = sum(len(t.data_points) for t in tasks)
    started = time.perf_counter()
    with DataPointProducer(base, app_name, config.model_spec) as producer:
        for task in tasks:
            producer.send(task)
    print(
        f"load: {len(tasks)} tasks, {data_points} data-points, {args.entities} entities, "
        f"produced in {time.perf_counter() - started:.1f} s"
    )

    session = open_session(base.cassandra)
    results = {}
    for name, target in (("bare loop", run_bare), ("streamcore", run_streamcore)):
        keyspace = f"bench_{uuid.uuid4().hex[:8]}"
        create_schema(session, keyspace)
        settings = base.model_copy(
            update={"cassandra": base.cassandra.model_copy(update={"keyspace": keyspace})}
        )
        group = f"{app_name}.bare" if target is run_bare else f"{app_name}.ingest"
        elapsed, rss_kb = measure(target, settings, app_name, group)
        results[name] = data_points / elapsed
        print(
            f"{name:>10}: {data_points / elapsed:>9,.0f} data-points/s "
            f"({elapsed:.1f} s), peak RSS {rss_kb / 1024:.0f} MiB"
        )
        session.execute(f"DROP KEYSPACE {keyspace}", timeout=120)
    session.cluster.shutdown()
    admin = make_admin(base.kafka)
    admin.delete_topics(
        [t for t in admin.list_topics(timeout=10).topics if t.startswith(f"{app_name}.")]
    )
    ratio = results["streamcore"] / results["bare loop"]
    print(
        f"ratio streamcore / bare loop: {ratio:.2f} (target >= 0.66); "
        f"streamcore target >= 20,000 data-points/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
