"""The physical limit of ``bench/ingest.py``: what the drivers alone do with the same load.

* ``bare_consume``: a confluent-kafka consumer reads every message of the run's input topic
  (partitions assigned, no group join), touching each key and value; nothing else.
* ``bare_write``: the rows the worker writes for the same tasks (computed before the clock
  starts: decoded, merged in the worker's batch sizes with no hooks, bound by the store's
  own row builder), sent by cassandra-driver as pre-bound 64-row unlogged batches, each
  worker-sized batch's worth in flight together, as the worker sends them.

Each runs in its own spawned process and measures its own clock and the CPU of itself and
of the Kafka and Cassandra server processes (``cpu_seconds``).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc/<pid>/stat (0.0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def load_average() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def _measured(pids: dict[str, int], run: Any) -> dict[str, Any]:
    pids = {**pids, "self": os.getpid()}
    before, started = cpu_of(pids), time.perf_counter()
    extra = run()
    elapsed, after = time.perf_counter() - started, cpu_of(pids)
    cpu = {name: after[name] - before[name] for name in pids}
    return {"seconds": elapsed, "cpu": cpu, "load": load_average(), **extra}


def bare_consume(
    settings_json: str, topic: str, expected: int, pids: dict[str, int], out: Any
) -> None:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from streamcore.settings import Settings

    settings = Settings.model_validate_json(settings_json)
    consumer = Consumer(
        {**settings.kafka.client_config(), "group.id": "bench-bare", "enable.auto.commit": False}
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])

    def run() -> dict[str, Any]:
        seen = size = 0
        while seen < expected:
            for message in consumer.consume(settings.worker.batch_size, 1.0):
                if message.error() is None:
                    seen += 1
                    size += len(message.key() or b"") + len(message.value() or b"")
        return {"messages": seen, "bytes": size}

    out.put(_measured(pids, run))
    consumer.close()


def bare_write(
    settings_json: str,
    config_dir: str,
    messages: list[tuple[bytes, bytes]],
    pids: dict[str, int],
    out: Any,
) -> None:
    from cassandra.query import BatchStatement, BatchType

    from streamcore.codec.tasks import TaskDecoder
    from streamcore.config import load_config
    from streamcore.ingest.hook_runner import NoHooks
    from streamcore.ingest.processor import TaskProcessor
    from streamcore.settings import Settings
    from streamcore.state.binding import RowBinder
    from streamcore.state.cassandra import _UPSERT_REPEATS, CassandraStore
    from streamcore.state.encoding import eid_text
    from streamcore.state.record import EntityRecord
    from streamcore.state.session import open_session

    settings = Settings.model_validate_json(settings_json)
    config = load_config(config_dir)
    session = open_session(settings.cassandra)
    store = CassandraStore(session, settings.cassandra.keyspace, config.model_spec)
    decoder = TaskDecoder(config.model_spec)
    processor = TaskProcessor(config.model_spec, NoHooks())
    now = datetime.now(UTC)
    stamp = int(time.time() * 1_000_000)
    records: dict[Any, EntityRecord] = {}
    chunks: list[list[Any]] = []
    rows = 0
    size = settings.worker.batch_size
    for start in range(0, len(messages), size):
        touched = {}
        for _, value in messages[start : start + size]:
            task = decoder.decode(value)
            key = (task.etype, task.eid)
            record = records.get(key)
            if record is None:
                record = records[key] = EntityRecord(task.etype, task.eid, eid_text(task.eid))
            processor.process(record, task, "bare", now)
            touched[key] = record
        binder = RowBinder(store._upsert, _UPSERT_REPEATS)  # noqa: SLF001 (the worker's rows)
        statements = []
        for record in touched.values():
            statements.extend(s for s, _ in store._entity_rows(record, now, binder, stamp))  # noqa: SLF001
            record.mark_clean()
        batches = []
        for first in range(0, len(statements), 64):
            batch = BatchStatement(BatchType.UNLOGGED, consistency_level=store._consistency)  # noqa: SLF001
            for statement in statements[first : first + 64]:
                batch.add(statement)
            batches.append(batch)
        rows += len(statements)
        chunks.append(batches)

    def run() -> dict[str, Any]:
        for batches in chunks:
            for future in [session.execute_async(b) for b in batches]:
                future.result()
        return {"rows": rows}

    out.put(_measured(pids, run))
    session.cluster.shutdown()
