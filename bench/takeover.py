"""How long an entity waits when the worker owning it is SIGKILLed: the takeover time.

Two ``streamcore worker`` processes share a one-partition input topic on the dev servers;
the one holding the partition is killed (SIGKILL: no goodbye to the group), a task is
produced at once, and the time until its state is in Cassandra is measured. Repeated
``--rounds`` times (the killed worker is restarted each round); prints each figure and
the median with min-max.

    .venv/bin/python bench/takeover.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from streamcore.config import load_config
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import ensure_topics
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.runtime import open_runtime
from streamcore.settings import Settings, TopicSettings
from streamcore.state.cassandra import create_schema

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tests" / "integration" / "configs" / "ingest"
STREAMCORE = Path(sys.executable).parent / "streamcore"


def start_worker(app: str, keyspace: str, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
        "STREAMCORE_TOPICS__PARTITIONS": "1",
        "STREAMCORE_METRICS__PORT": "0",
        "STREAMCORE_APP_NAME": app,
    }
    log = open(f"/tmp/takeover-{name}.log", "ab")  # noqa: SIM115 (lives with the process)
    return subprocess.Popen(
        [str(STREAMCORE), "worker", str(CONFIG)], env=env, stdout=log, stderr=log
    )


def owner(admin: AdminClient, group: str, workers: dict[int, subprocess.Popen[bytes]]) -> int:
    """The pid of the worker holding the partition (client ids carry the pid)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        described = admin.describe_consumer_groups([group])[group].result(timeout=10)
        for member in described.members:
            if member.assignment.topic_partitions:
                pid = int(member.client_id.split("-")[-2])
                if pid in workers and workers[pid].poll() is None:
                    return pid
        time.sleep(0.2)
    raise RuntimeError("no live worker holds the partition")


def applied(runtime: object, eid: str, value: str) -> bool:
    store = runtime.store()  # type: ignore[attr-defined]
    (record,) = store.load([("ip", runtime.config.model_spec.parse_eid("ip", eid))])  # type: ignore[attr-defined]
    return bool(record.plain("hostname") == value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = f"takeover-{uuid.uuid4().hex[:8]}"
    keyspace = f"bench_{uuid.uuid4().hex[:8]}"
    settings = Settings()
    settings = settings.model_copy(
        update={
            "cassandra": settings.cassandra.model_copy(update={"keyspace": keyspace}),
            "topics": TopicSettings(partitions=1),
        }
    )
    config = load_config(CONFIG)
    admin = make_admin(settings.kafka)
    ensure_topics(admin, settings.topics, app)
    runtime = open_runtime(settings, config, app)
    create_schema(runtime.session, keyspace)
    producer = DataPointProducer(settings, app, config.model_spec)
    workers: dict[int, subprocess.Popen[bytes]] = {}
    for name in ("a", "b"):
        process = start_worker(app, keyspace, name)
        workers[process.pid] = process
    figures = []
    try:
        eid = "192.0.2.200"
        for round_ in range(args.rounds):
            value = f"warm-{round_}"
            producer.send(DataPointTask("ip", eid, [DataPoint("ip", eid, "hostname", value)]))
            producer.flush()
            while not applied(runtime, eid, value):
                time.sleep(0.1)
            victim = owner(admin, f"{app}.ingest", workers)
            workers[victim].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            workers.pop(victim).wait()
            value = f"after-kill-{round_}"
            producer.send(DataPointTask("ip", eid, [DataPoint("ip", eid, "hostname", value)]))
            producer.flush()
            while not applied(runtime, eid, value):
                time.sleep(0.05)
            seconds = time.monotonic() - killed_at
            figures.append(seconds)
            print(f"round {round_ + 1}: applied {seconds:.1f} s after the owner was killed")
            replacement = start_worker(app, keyspace, f"r{round_}")
            workers[replacement.pid] = replacement
            time.sleep(5)  # let it join before the next round
    finally:
        for process in workers.values():
            process.send_signal(signal.SIGTERM)
        for process in workers.values():
            process.wait(60)
        producer.close()
        runtime.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        runtime.close()
        admin.delete_topics([settings.topics.name(r, app) for r in ("input", "dead_letter")])
    print(
        f"takeover: median {statistics.median(figures):.1f} s "
        f"(min {min(figures):.1f}, max {max(figures):.1f}, {len(figures)} rounds)"
    )


if __name__ == "__main__":
    main()
