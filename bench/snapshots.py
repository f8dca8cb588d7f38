"""Entities per second one snapshot worker process snapshots, and what each costs in CPU.

    .venv/bin/python bench/snapshots.py [--sizes 10000,30000,100000] [--tasks 16]
        [--rounds 1] [--base DIR] [--threads] [--profile DIR] [--no-settle]

Uses the example configuration (config/) with its example modules (``ports`` and
``port_risk`` correlation hooks: services from open ports, a risk score reading the
linked domain's current ``resolves_to``) and the dev servers (or the environment's).
For each size, a fresh keyspace is loaded directly through ``CassandraStore.write`` (not
through Kafka): N ips, each with an ``open_ports`` observation, a ``hostname`` and a
link to one of N/20 domains; the domains have ``resolves_to``. ONE snapshot worker is
started in a fresh process and, once it has joined its consumer group (a deployed worker
is running before a run starts) and the Cassandra server is idle again (below 10% of a
core over 5 s: the compactions of what was just loaded are done, printed as "server idle
... later"; ``--no-settle`` starts at once, as runs before 2026-12-03 did), a run is
started (``make_snapshots`` with a ready planner, as a worker's trigger has) and timed
until all its tasks are done: scan, current values, linked domains loaded, hooks,
Cassandra writes, snapshots topic.

Every run is its own process (``--one``), so runs don't inherit each other's heap. With
``--base DIR`` (a checkout of another revision, e.g. ``git archive main | tar -x -C DIR``)
each round runs that tree's code first (system A) and this tree's (system B), so systems
alternate A B A B; the loader and the clocks are this file's for both.

Reported per run: entities/s (wall clock), the worker process's CPU-seconds per 10k
entities over the run (``time.process_time``: every thread of the process, the driver's
I/O thread and librdkafka's included), the Cassandra server's CPU-seconds per 10k entities
(``/proc/<pid>/stat`` of the process listening on the CQL port; a shared server also
serves others, so an upper bound) and the 1-minute load average. On a loaded machine the
CPU per entity is the figure that holds; entities/s moves with the load. After each run,
in the same process, the drivers' own limit on the same I/O (``snapshot_limit.py``): a bare
cassandra-driver scan of the same ranges and a bare write of the same snapshot rows (into
empty tables of the same schema, as the run wrote them), one after the other, and the
run's ratio to it. Per system and size: median [min-max] over the rounds. ``--threads``:
the process's CPU split by thread.
``--profile DIR``: py-spy (``pip install py-spy``) records each run's GIL holder there.
Target (issue 16): >= 20,000 entities/s on one worker, linear from 10k to 1M entities.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from snapshot_limit import bare_scan, bare_write, measured

import streamcore
from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import TOPIC_ROLES, ensure_topics
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
HERE = Path(__file__).resolve().parents[1]


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


def one_size(
    base: Settings, size: int, tasks: int, profile: Path | None = None, settle: bool = True
) -> dict[str, Any]:
    """One run over ``size`` ips: entities, seconds, CPU-seconds of this process and of
    the Cassandra server, and CPU by thread (``settle``: the run starts once the server
    has compacted what the load wrote)."""
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
    cassandra = cassandra_pid(settings.cassandra.port)
    try:
        create_schema(runtime.session, keyspace)
        store = runtime.store()
        data = records(size, datetime.now(UTC))
        start = time.perf_counter()
        for i in range(0, len(data), WRITE_BATCH):
            store.write(data[i : i + WRITE_BATCH])
        load_seconds = time.perf_counter() - start
        del data  # a snapshot worker process doesn't hold the loader's records
        gc.collect()
        loaded = load_modules(config.platform_config(app, 0))
        worker = build_snapshot_worker(runtime, loaded.registrar.registry, trigger=False)
        progress = SnapshotStore(runtime.session, keyspace, config.model_spec)
        thread = threading.Thread(target=worker.run, daemon=True, name="snapshot-worker")
        thread.start()
        _wait_joined(admin, settings.snapshots.consumer_group or f"{app}.snapshots")
        claims, planner = build_run_planner(runtime)  # ready, as in a worker's RunTrigger
        settled = settle_server(cassandra) if settle else None
        spy = None if profile is None else py_spy(profile / f"{app}-{size}.txt")
        collector = CollectorClock()
        gc.callbacks.append(collector)
        threads_before, cpu_before = thread_cpu(), time.process_time()
        server_before = pid_cpu(cassandra)
        start = time.perf_counter()
        run = start_run(claims, planner)
        while progress.progress(run)[0] < tasks:
            if not thread.is_alive():
                raise SystemExit("the snapshot worker ended before the run was done")
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_before
        server = pid_cpu(cassandra) - server_before
        threads_after = thread_cpu()
        gc.callbacks.remove(collector)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        worker.stop()
        thread.join(60)
        # The drivers' own limit on the same I/O, prepared before its clocks start.
        create_schema(runtime.session, f"{keyspace}_bare")
        bare = {
            "scan": bare_scan(runtime.session, keyspace, tasks),
            "write": bare_write(runtime.session, keyspace, f"{keyspace}_bare"),
        }
        limit = {}
        for step, run_bare in bare.items():
            if settle:
                settle_server(cassandra)
            limit[step] = measured(lambda: pid_cpu(cassandra), run_bare)
        by_thread = {
            name: threads_after[name] - threads_before.get(name, 0.0) for name in threads_after
        }
        return {
            "entities": worker.stats.entities,
            "seconds": seconds,
            "cpu": cpu,
            "cassandra_cpu": server,
            "load": os.getloadavg()[0],
            "threads": by_thread,
            "gc": collector.seconds,
            "gc_by_generation": collector.by_generation,
            "load_seconds": load_seconds,
            "settle_seconds": settled,
            "limit": limit,
            "streamcore": str(Path(streamcore.__file__).parent),
        }
    finally:
        for dropped in (keyspace, f"{keyspace}_bare"):
            runtime.session.execute(f"DROP KEYSPACE IF EXISTS {dropped}", timeout=120)
        runtime.close()
        deleted = admin.delete_topics([settings.topics.name(r, app) for r in TOPIC_ROLES])
        for future in deleted.values():  # waited: the process may end right after
            future.result(60)


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


class CollectorClock:
    """Seconds the cyclic garbage collector ran (a ``gc.callbacks`` entry), in all and by
    generation collected: (collections, seconds)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.by_generation: dict[int, list[float]] = {}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            took = time.perf_counter() - self._started
            self.seconds += took
            entry = self.by_generation.setdefault(info["generation"], [0, 0.0])
            entry[0] += 1
            entry[1] += took


SETTLED_SHARE = 0.10
"""The server counts as settled below this share of one core over ``SETTLE_WINDOW``."""
SETTLE_WINDOW = 5.0
SETTLE_LIMIT = 1200.0


def settle_server(pid: int | None) -> float | None:
    """Seconds until the Cassandra server is idle (None: not visible, or still busy after
    ``SETTLE_LIMIT``). Loading N ips leaves compactions whose length grows with N; a run
    started under them pays for the bench's own load, more the larger N is (at 1M the
    whole run overlapped them), which is not what a snapshot worker costs."""
    if pid is None:
        return None
    start = time.perf_counter()
    while time.perf_counter() - start < SETTLE_LIMIT:
        before = pid_cpu(pid)
        time.sleep(SETTLE_WINDOW)
        if pid_cpu(pid) - before < SETTLED_SHARE * SETTLE_WINDOW:
            return time.perf_counter() - start
    return None


def cassandra_pid(port: int) -> int | None:
    """The pid of the process listening on the CQL port (``ss``), None if not visible."""
    try:
        text = subprocess.run(["ss", "-ltnpH"], check=False, capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in text.splitlines():
        if f":{port} " in line and "pid=" in line:
            return int(line.split("pid=")[1].split(",")[0])
    return None


def pid_cpu(pid: int | None, task: str = "") -> float:
    """User + system CPU-seconds of a process (or one of its threads), from ``/proc``."""
    if pid is None:
        return 0.0
    try:
        text = Path(f"/proc/{pid}{task}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[str, float]:
    """This process's CPU-seconds by thread: Python threads by name, others (librdkafka's
    ``rdk:*``) by their OS name, numbered ones folded together."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    found: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        tid = int(task.name)
        name = names.get(tid)
        if name is None:
            try:
                name = (task / "comm").read_text().strip()
            except OSError:
                continue
        name = name.split(" (")[0].rstrip("0123456789_-/") or name
        found[name] = found.get(name, 0.0) + pid_cpu(os.getpid(), f"/task/{tid}")
    return found


def py_spy(out: Path) -> subprocess.Popen[bytes]:
    """py-spy recording this process's GIL holder (collapsed stacks) into ``out``."""
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(os.getpid()), "--format", "raw", "--gil"]
    return subprocess.Popen(
        [*command, "--rate", "250", "--output", str(out)], stdout=subprocess.DEVNULL
    )


def run_one(
    source: Path, size: int, tasks: int, profile: Path | None, settle: bool = True
) -> dict[str, Any]:
    """``one_size`` in a fresh process running ``source``'s streamcore (this file's loader)."""
    command = [sys.executable, __file__, "--one", str(size), "--tasks", str(tasks)]
    if not settle:
        command.append("--no-settle")
    if profile is not None:
        command += ["--profile", str(profile)]
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(command, check=False, env=env, cwd=source, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"run failed ({source}):\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["streamcore"]) != source / "streamcore":
        raise SystemExit(f"{source}'s run imported {result['streamcore']}")
    return result


def show(label: str, result: dict[str, Any], threads: bool) -> None:
    per10k = 10_000 / result["entities"]
    print(
        f"  {label}{result['entities']:,} entities in {result['seconds']:.2f} s = "
        f"{result['entities'] / result['seconds']:,.0f} entities/s; CPU per 10k: "
        f"worker {result['cpu'] * per10k:.2f} s, Cassandra {result['cassandra_cpu'] * per10k:.2f} s"
        f", garbage collector {result['gc'] * per10k:.2f} s (load {result['load']:.1f})"
    )
    settled = result.get("settle_seconds")
    print(
        f"      loaded in {result['load_seconds']:.1f} s; "
        + (
            "run started at once"
            if "settle_seconds" not in result or settled is None
            else f"server idle {settled:.0f} s later"
        )
    )
    limit = result.get("limit")
    if limit:
        scan, write = limit["scan"], limit["write"]
        print(
            f"      limit: scan {result['entities'] / scan['seconds']:,.0f}, write "
            f"{result['entities'] / write['seconds']:,.0f}, scan + write {limit_rate(result):,.0f}"
            f" entities/s (Cassandra CPU per 10k: {scan['cassandra_cpu'] * per10k:.2f} + "
            f"{write['cassandra_cpu'] * per10k:.2f} s); ratio to it "
            f"{result['entities'] / result['seconds'] / limit_rate(result):.2f}"
        )
    if threads:
        for generation, (count, seconds) in sorted(result.get("gc_by_generation", {}).items()):
            print(f"      collections of generation {generation}: {count:.0f}, {seconds:.2f} s")
        for name, cpu in sorted(result["threads"].items(), key=lambda item: -item[1])[:6]:
            print(f"      {name:<24} {cpu * per10k:6.2f} s per 10k")


def limit_rate(result: dict[str, Any]) -> float:
    """The drivers' limit of a run: its entities over the bare scan's and write's seconds."""
    limit = result["limit"]
    return float(result["entities"] / (limit["scan"]["seconds"] + limit["write"]["seconds"]))


def summary(label: str, runs: list[dict[str, Any]]) -> None:
    def spread(values: list[float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"

    rates = [r["entities"] / r["seconds"] for r in runs]
    cpu = [r["cpu"] * 10_000 / r["entities"] for r in runs]
    server = [r["cassandra_cpu"] * 10_000 / r["entities"] for r in runs]
    print(
        f"  {label}: {spread(rates, ',.0f')} entities/s; CPU-s per 10k entities: worker "
        f"{spread(cpu, '.2f')}, Cassandra {spread(server, '.2f')} ({len(runs)} runs)"
    )
    if all(r.get("limit") for r in runs):
        limits = [limit_rate(r) for r in runs]
        ratios = [rate / limit for rate, limit in zip(rates, limits, strict=True)]
        print(
            f"      limit {spread(limits, ',.0f')} entities/s, ratio to it {spread(ratios, '.2f')}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--base", type=Path, help="another tree, run first as system A")
    parser.add_argument("--threads", action="store_true", help="CPU by thread")
    parser.add_argument("--profile", type=Path, help="py-spy each run into this directory")
    parser.add_argument(
        "--no-settle",
        action="store_true",
        help="start each run right after loading (the server still compacting the load)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args()
    if args.one is not None:
        result = one_size(Settings(), args.one, args.tasks, args.profile, not args.no_settle)
        print(json.dumps(result))
        return
    systems = [("A", args.base.resolve()), ("B", HERE)] if args.base else [("", HERE)]
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for n in range(args.rounds):
        for size in sizes:
            print(f"round {n + 1}, {size:,} ips (+ {max(1, size // 20):,} domains):")
            for label, source in systems:
                result = run_one(source, size, args.tasks, args.profile, not args.no_settle)
                results.setdefault((label, size), []).append(result)
                show(f"{label} " if label else "", result, args.threads)
    print(
        f"\n{'B' if args.base else 'streamcore'}: {HERE}"
        + (f", A: {args.base}" if args.base else "")
    )
    print("median [min-max] per size (flat CPU per 10k = linear):")
    for size in sizes:
        for label, _ in systems:
            summary(f"{size:>8,} ips {label}".rstrip(), results[label, size])


if __name__ == "__main__":
    main()
