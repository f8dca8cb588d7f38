"""Workers of one group split the partitions, survive rebalances and a SIGKILL.

The load: every ip task links to one of a few domains, and the ``linker`` module derives
one domain task per ip task. "Nothing lost" is every ip in Cassandra; "nothing applied
twice" is exactly one committed derived task per ip task, which a replay without the
transaction would duplicate.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import CONFIGS, application, read_topic, running, wait_for

from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.module.loader import load_modules
from streamcore.producer import DataPointProducer
from streamcore.runtime import Runtime, build_ingest_worker
from streamcore.settings import Settings

# Recent (open_ports has max_age 30d: older data is refused as expired), whole minutes.
T0 = (datetime.now(UTC) - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
DOMAINS = [f"d{i}.example" for i in range(8)]


def ip(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def produce_load(runtime: Runtime, numbers: range) -> None:
    with DataPointProducer(runtime.settings, runtime.app_name, runtime.config.model_spec) as p:
        for i in numbers:
            t1 = T0 + timedelta(seconds=i)
            p.send(
                DataPointTask(
                    "ip",
                    ip(i),
                    [
                        DataPoint("ip", ip(i), "hostname", f"h{i}.example"),
                        DataPoint(
                            "ip", ip(i), "domain", {"eid": DOMAINS[i % len(DOMAINS)]}, t1, t1
                        ),
                    ],
                )
            )


def stored_ips(runtime: Runtime) -> int:
    return len(runtime.store().eids("ip"))


def assert_exactly_once(runtime: Runtime, count: int) -> None:
    """Call while a worker runs: the derived tasks are applied after the ip tasks."""
    messages = read_topic(runtime.settings, runtime.topic("input"), expect=2 * count, timeout=60)
    derived = [m for m in messages if m.key().startswith(b"domain:")]
    assert len(messages) - len(derived) == count
    assert len(derived) == count, f"{len(derived)} derived tasks for {count} ip tasks"
    store = runtime.store()
    assert stored_ips(runtime) == count

    def links() -> int:
        domains = store.load([("domain", d) for d in DOMAINS])
        return sum(len(d.attrs.get("seen_from", {})) for d in domains)

    wait_for(lambda: links() >= count, timeout=60)
    assert links() == count


def test_two_workers_share_partitions_and_survive_rebalances(
    settings: Settings, app_name: str, keyspace: str
) -> None:
    count = 2000
    with application(settings, app_name, keyspace, partitions=4) as runtime:
        hooks = load_modules(runtime.config.platform_config(app_name)).registrar
        first = build_ingest_worker(runtime, hooks=hooks.ingestion_hooks(), instance="first")
        second = build_ingest_worker(runtime, hooks=hooks.ingestion_hooks(), instance="second")
        first.batch_size = second.batch_size = 100
        produce_load(runtime, range(count // 2))
        with running(first):
            wait_for(lambda: first.consumer.assignment)
            with running(second):
                wait_for(lambda: first.consumer.assignment and second.consumer.assignment)
                assert len(first.consumer.assignment) + len(second.consumer.assignment) == 4
                assert not first.consumer.assignment & second.consumer.assignment
                produce_load(runtime, range(count // 2, count))
                wait_for(lambda: stored_ips(runtime) > count * 3 // 4, timeout=120)
            # second left the group: first takes all four partitions back
            wait_for(lambda: len(first.consumer.assignment) == 4)
            wait_for(lambda: stored_ips(runtime) == count, timeout=120)
            assert_exactly_once(runtime, count)  # while the worker applies derived tasks


def start_worker_process(runtime: Runtime, batch_size: int, log: Path) -> subprocess.Popen[bytes]:
    """A ``streamcore worker`` process; its log goes to a file (a pipe could fill and stall it)."""
    env = {
        **os.environ,
        "STREAMCORE_KAFKA__BOOTSTRAP_SERVERS": runtime.settings.kafka.bootstrap_servers,
        "STREAMCORE_CASSANDRA__PORT": str(runtime.settings.cassandra.port),
        "STREAMCORE_CASSANDRA__KEYSPACE": runtime.settings.cassandra.keyspace,
        "STREAMCORE_WORKER__BATCH_SIZE": str(batch_size),
        "STREAMCORE_METRICS__PORT": "0",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamcore.cli",
            "worker",
            str(CONFIGS / "ingest"),
            "--app-name",
            runtime.app_name,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def test_a_worker_killed_mid_stream_loses_and_duplicates_nothing(
    settings: Settings, app_name: str, keyspace: str, tmp_path: Path
) -> None:
    count = 4000
    with application(settings, app_name, keyspace, partitions=2) as runtime:
        produce_load(runtime, range(count))
        victim = start_worker_process(runtime, batch_size=50, log=tmp_path / "victim.log")
        try:
            wait_for(lambda: stored_ips(runtime) > 200, timeout=120)
            victim.send_signal(signal.SIGKILL)
            victim.wait(30)
            killed_at = stored_ips(runtime)
            assert killed_at < count, "the worker finished before it could be killed"
        finally:
            if victim.poll() is None:
                victim.kill()
        successor = start_worker_process(runtime, batch_size=500, log=tmp_path / "successor.log")
        try:
            wait_for(lambda: stored_ips(runtime) == count, timeout=180, every=1.0)
            assert_exactly_once(runtime, count)
        finally:
            successor.send_signal(signal.SIGTERM)
            successor.wait(60)
        stderr = (tmp_path / "successor.log").read_text()
        assert successor.returncode == 0, stderr[-2000:]
        assert "worker stopped cleanly" in stderr
