"""Ingestion throughput and cost: `streamcore worker` against the drivers' physical limit.

    .venv/bin/python bench/ingest.py [--rounds 3] [--base /work/perf-base]
        [--load bench|realistic] [--entities 10000 --tasks-per-entity 6 --dps-per-task 5]
        [--tasks 60000 --population 1000000 --zipf 1.1] [--cache-entities N]
        [--env-a NAME=VALUE ...] [--env-b NAME=VALUE ...]

Every round runs, in this order: the physical limit (a bare confluent-kafka consume of the
run's messages, then a bare cassandra-driver write of the same rows: ``ingest_limit.py``),
then each system's worker in turn (``--base DIR``: a checkout of another revision, e.g.
``git archive main | tar -x -C DIR``, run first as system A; this tree is system B), so
systems alternate A B A B. ``--env-a`` / ``--env-b`` add settings to one system's worker
(``--base .`` with them compares two settings of the same code). Each worker run gets
fresh topics (the same pre-encoded messages produced into them), a fresh consumer group
and a fresh keyspace, and is started
as ``python -m streamcore.cli worker config --app-name ...`` (metrics on): its clock and CPU
run from ``/readyz`` answering (partitions assigned) until its committed offsets reached
the end of the topic (including the tasks its hooks derived) and stayed there for 2 s.

Reported per system, median [min-max] over the rounds, each with the 1-minute load
average of the machine at the time: data-points/s of the input load, the ratio to the
limit (the consume and the write of the same load one after the other:
1 / (1/consume + 1/write)), CPU-seconds per million data-points of the worker, the Kafka
and the Cassandra server processes (/proc/<pid>/stat; the shared dev servers also serve
other users, so their share is an upper bound), and the worker's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ingest_limit import bare_consume, bare_write, cpu_of, load_average, peak_rss_kib
from ingest_load import bench_load, encoded, realistic_load

ROOT = Path(__file__).resolve().parents[1]


def server_pids(settings: Any) -> dict[str, int]:
    """The pids of the processes listening on the Kafka and Cassandra ports (``streamcore
    dev status`` names no pid for servers another state directory started), from ``ss``."""
    ports = {
        "kafka": int(settings.kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)[1]),
        "cassandra": settings.cassandra.port,
    }
    text = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    pids = {}
    for line in text.splitlines():
        for name, port in ports.items():
            if f":{port} " in line and "pid=" in line:
                pids[name] = int(line.split("pid=")[1].split(",")[0])
    if set(pids) != set(ports):
        raise SystemExit(f"no process found listening on {ports}:\n{text}")
    return pids


def commit_log_mode(settings: Any) -> str:
    """Cassandra's ``commitlog_sync``: ``batch`` writes cost a sync before their
    acknowledgement, which moves both the limit and the worker."""
    from streamcore.state import durability
    from streamcore.state.session import open_session

    session = open_session(settings.cassandra)
    try:
        return durability.commit_log_mode(session) or "unknown"
    finally:
        session.cluster.shutdown()


def fresh_run(base: Any, messages: list[tuple[bytes, bytes]]) -> tuple[str, Any]:
    """A new app name with its topics holding ``messages``, and settings with a new keyspace."""
    from confluent_kafka import Producer

    from streamcore.kafka.clients import PRODUCER_DEFAULTS, make_admin
    from streamcore.kafka.topics import ensure_topics
    from streamcore.state.cassandra import create_schema
    from streamcore.state.session import open_session

    app = f"bench-{uuid.uuid4().hex[:8]}"
    ensure_topics(make_admin(base.kafka), base.topics, app)
    producer = Producer({**base.kafka.client_config(), **PRODUCER_DEFAULTS})
    topic = base.topics.name("input", app)
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(120):
        raise SystemExit("could not produce the load")
    keyspace = f"bench_{uuid.uuid4().hex[:8]}"
    session = open_session(base.cassandra)
    create_schema(session, keyspace)
    session.cluster.shutdown()
    cassandra = base.cassandra.model_copy(update={"keyspace": keyspace})
    return app, base.model_copy(update={"cassandra": cassandra})


def cleanup(settings: Any, app: str) -> None:
    from streamcore.kafka.clients import make_admin
    from streamcore.state.session import open_session

    session = open_session(settings.cassandra)
    session.execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra.keyspace}", timeout=120)
    session.cluster.shutdown()
    admin = make_admin(settings.kafka)
    topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(f"{app}.")]
    if topics:
        admin.delete_topics(topics)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_worker(
    source: Path,
    settings: Any,
    app: str,
    cache: int | None,
    pids: dict[str, int],
    *,
    profile: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One ``streamcore worker`` process of ``source``'s code over the run's topic; with
    ``profile``, py-spy samples it from ready to caught up (collapsed stacks there)."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "STREAMCORE_CASSANDRA__KEYSPACE": settings.cassandra.keyspace,
        "STREAMCORE_TOPICS__PARTITIONS": str(settings.topics.partitions),
        "STREAMCORE_METRICS__PORT": str(port),
    }
    if cache is not None:
        env["STREAMCORE_WORKER__CACHE_ENTITIES"] = str(cache)
    env.update(extra_env or {})
    command = [sys.executable, "-m", "streamcore.cli", "worker", str(source / "config")]
    log = open(f"/tmp/bench-ingest-{app}.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [*command, "--app-name", app], env=env, cwd=source, stdout=log, stderr=subprocess.STDOUT
    )  # cwd: ``-m`` puts it first on sys.path, so ``source``'s streamcore is the one run
    pids = {**pids, "worker": process.pid}
    try:
        wait_ready(port, process)
        spy = None if profile is None else py_spy(process.pid, profile)
        before, started = cpu_of(pids), time.perf_counter()
        ended, after = wait_until_caught_up(settings, app, pids, partial(_exited, process, app))
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        rss = peak_rss_kib(process.pid)
        metrics = scrape(port)
    finally:
        process.terminate()
        process.wait(120)
        log.close()
    cpu = {name: after[name] - before[name] for name in pids}
    return {
        "seconds": ended - started,
        "cpu": cpu,
        "rss_kib": rss,
        "load": load_average(),
        "metrics": metrics,
    }


def _exited(process: subprocess.Popen[bytes], app: str) -> str | None:
    if process.poll() is None:
        return None
    return f"the worker exited ({process.returncode}): /tmp/bench-ingest-{app}.log"


def py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy (``pip install py-spy``) recording the stacks of ``pid``'s GIL holder (where its
    Python CPU goes; idle threads left out) into ``out``."""
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--gil"]
    return subprocess.Popen([*command, "--output", str(out)], stdout=subprocess.DEVNULL)


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the worker exited ({process.returncode}); see /tmp/bench-ingest-*.log"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("the worker did not get ready in 300 s")


def scrape(port: int) -> dict[str, float]:
    """A few of the worker's own metrics (that metrics are on, and what it counted)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    wanted = (
        "streamcore_ingest_datapoints_applied_total",
        "streamcore_ingest_derived_tasks_total",
        "streamcore_ingest_dead_letters_total",
    )
    found: dict[str, float] = {}
    for line in text.splitlines():
        name = line.split("{")[0].split(" ")[0]
        if name == "streamcore_cassandra_operation_duration_seconds_sum":
            operation = line.split('operation="')[1].split('"')[0]
            found[f"{operation}_seconds"] = float(line.rsplit(" ", 1)[1])
        if name == "streamcore_ingest_batch_duration_seconds_sum":
            found["batch_seconds"] = float(line.rsplit(" ", 1)[1])
        if name in wanted:
            found[name] = found.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
        if name == "streamcore_ingest_cache_lookups_total":
            outcome = line.split('outcome="')[1].split('"')[0]
            found[f"cache_{outcome}"] = float(line.rsplit(" ", 1)[1])
    return found


def wait_until_caught_up(
    settings: Any, app: str, pids: dict[str, int], ended: Callable[[], str | None]
) -> tuple[float, dict[str, float]]:
    """When the group's committed offsets reached the ends and then stayed for 2 s, and the
    processes' CPU at that moment. ``ended`` says why the worker stopped early, or None."""
    from confluent_kafka import Consumer, TopicPartition

    topic = settings.topics.name("input", app)
    probe = Consumer({**settings.kafka.client_config(), "group.id": f"{app}.ingest"})
    partitions = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
    stable: tuple[float, dict[str, float]] | None = None
    last: list[int] = []
    try:
        while True:
            time.sleep(0.1)
            why = ended()
            if why is not None:
                raise SystemExit(why)
            now, cpu = time.perf_counter(), cpu_of(pids)
            committed = probe.committed(partitions, timeout=10)
            ends = [probe.get_watermark_offsets(p, timeout=10)[1] for p in partitions]
            # A transaction's commit marker sits after its last record: lag 1 is caught up.
            done = all(e - c.offset <= 1 for c, e in zip(committed, ends, strict=True))
            offsets = [c.offset for c in committed]
            if done and (stable is None or offsets != last):
                stable = (now, cpu)
            elif not done:
                stable = None
            last = offsets
            if stable is not None and time.perf_counter() - stable[0] > 2.0:
                return stable
    finally:
        probe.close()


def run_limit(base: Any, app: str, settings: Any, messages: list[Any], pids: dict[str, int]) -> Any:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    topic = base.topics.name("input", app)
    runs = [
        (bare_consume, (settings.model_dump_json(), topic, len(messages), pids, out)),
        (bare_write, (settings.model_dump_json(), str(ROOT / "config"), messages, pids, out)),
    ]
    results = []
    for target, args in runs:
        process = ctx.Process(target=target, args=args, name=target.__name__)
        process.start()
        results.append(_result_of(process, out))
        process.join(60)
    return results


def _result_of(process: Any, out: Any, timeout: float = 1800.0) -> Any:
    """The child's result; a child that died without one ends the bench (instead of
    leaving it waiting for the whole timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return out.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive() and out.empty():
                raise SystemExit(
                    f"{process.name} exited ({process.exitcode}) without a result"
                ) from None
    raise SystemExit(f"{process.name} gave no result in {timeout:.0f} s")


def spread(values: list[float], fmt: str = ",.0f") -> str:
    return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"


def per_mdp(run: dict[str, Any], names: list[str], dps: int) -> dict[str, float]:
    return {name: run["cpu"].get(name, 0.0) / dps * 1e6 for name in names}


def report(results: dict[str, list[dict[str, Any]]], dps: int, entities: int) -> None:
    limits = results["limit"]
    limit_rates = [dps / (c["seconds"] + w["seconds"]) for c, w in limits]
    consume = [dps / c["seconds"] for c, _ in limits]
    write = [dps / w["seconds"] for _, w in limits]
    rows = [w["rows"] / w["seconds"] for _, w in limits]
    load = [max(c["load"], w["load"]) for c, w in limits]
    print(f"\nmedian [min-max] of {len(limits)} rounds; load = 1-min load average (2 cores)")
    print(f"limit  consume       {spread(consume)} dp/s")
    print(
        f"limit  write         {spread(write)} dp/s ({spread(rows)} rows/s, "
        f"{limits[0][1]['rows'] / dps:.2f} rows/dp)"
    )
    print(f"limit  consume+write {spread(limit_rates)} dp/s   load {spread(load, '.1f')}")
    limit_cpu = [
        {
            "worker": (c["cpu"]["self"] + w["cpu"]["self"]) / dps * 1e6,
            "kafka": (c["cpu"]["kafka"] + w["cpu"]["kafka"]) / dps * 1e6,
            "cassandra": (c["cpu"]["cassandra"] + w["cpu"]["cassandra"]) / dps * 1e6,
        }
        for c, w in limits
    ]
    _cpu_line("limit", limit_cpu)
    for system, runs in results.items():
        if system == "limit":
            continue
        rates = [dps / r["seconds"] for r in runs]
        ratios = [rate / lim for rate, lim in zip(rates, limit_rates, strict=False)]
        print(
            f"{system:<6} {spread(rates)} dp/s   ratio to limit {spread(ratios, '.2f')}   "
            f"load {spread([r['load'] for r in runs], '.1f')}"
        )
        _cpu_line(system, [per_mdp(r, ["worker", "kafka", "cassandra"], dps) for r in runs])
        loads = [r["metrics"].get("load_seconds", 0.0) / entities * 1e6 for r in runs]
        print(
            f"{system:<6} entity reads (the worker's load seconds / distinct entities): "
            f"{spread(loads)} µs per entity"
        )
        print(f"{system:<6} worker's wall time: {_wall_shares(runs)}")
        print(
            f"{system:<6} worker peak RSS {spread([r['rss_kib'] / 1024 for r in runs])} MiB; "
            f"metrics: {runs[-1]['metrics']}"
        )


def _wall_shares(runs: list[dict[str, Any]]) -> str:
    """Where the worker's run went, by its own timers: entity reads, state writes, the rest
    of its batches (decode, apply, the Kafka transaction), and outside batches (polls)."""

    def share(part: Callable[[dict[str, float]], float]) -> str:
        return spread([part(r["metrics"]) / r["seconds"] * 100 for r in runs], ".0f") + "%"

    def reads(m: dict[str, float]) -> float:
        return m.get("load_seconds", 0.0)

    def writes(m: dict[str, float]) -> float:
        return m.get("write_seconds", 0.0)

    def batches(m: dict[str, float]) -> float:
        return m.get("batch_seconds", 0.0)

    seconds = [r["seconds"] for r in runs]
    outside = [
        max(0.0, s - batches(r["metrics"])) / s * 100 for r, s in zip(runs, seconds, strict=True)
    ]
    return (
        f"entity reads {share(reads)}, state writes {share(writes)}, rest of batches "
        f"{share(lambda m: batches(m) - reads(m) - writes(m))}, outside batches "
        f"{spread(outside, '.0f')}%"
    )


def _cpu_line(system: str, cpus: list[dict[str, float]]) -> None:
    parts = [f"{name} {spread([c[name] for c in cpus], '.1f')}" for name in cpus[0]]
    total = spread([sum(c.values()) for c in cpus], ".1f")
    print(f"{system:<6} CPU-s per M data-points: {', '.join(parts)}; all three {total}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", choices=["bench", "realistic"], default="bench")
    parser.add_argument("--entities", type=int, default=10000)
    parser.add_argument("--tasks-per-entity", type=int, default=6)
    parser.add_argument("--dps-per-task", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=60000, help="realistic: tasks")
    parser.add_argument("--population", type=int, default=1_000_000, help="realistic: entities")
    parser.add_argument("--zipf", type=float, default=1.1, help="realistic: Zipf exponent s")
    parser.add_argument(
        "--cache-entities",
        type=int,
        default=None,
        help="the workers' entity cache (default: the setting's; realistic: 10000)",
    )
    parser.add_argument("--partitions", type=int, default=4)
    for name in ("a", "b"):
        parser.add_argument(
            f"--env-{name}",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"an environment variable for system {name.upper()}'s worker (repeatable)",
        )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--base",
        type=Path,
        default=None,
        help="another revision's tree, run as system A (e.g. today's main)",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy each run into DIR/<system>-<round>.txt"
    )
    parser.add_argument(
        "--candidate", type=Path, default=ROOT, help="system B's tree (default: this one)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results")
    args = parser.parse_args()

    from streamcore.config import load_config
    from streamcore.settings import Settings, TopicSettings

    config = load_config(ROOT / "config")
    base = Settings().model_copy(update={"topics": TopicSettings(partitions=args.partitions)})
    if args.load == "bench":
        tasks = bench_load(args.entities, args.tasks_per_entity, args.dps_per_task)
        cache = args.cache_entities
    else:
        tasks = realistic_load(args.tasks, args.population, args.zipf)
        cache = 10_000 if args.cache_entities is None else args.cache_entities
    dps = sum(len(t.data_points) for t in tasks)
    entities = len({t.eid for t in tasks})
    messages = encoded(tasks, config.model_spec)
    del tasks
    pids = server_pids(base)
    print(
        f"load {args.load}: {len(messages)} tasks, {dps} data-points, {entities} distinct "
        f"entities, worker cache {cache or 'default'}; servers {pids}, Cassandra "
        f"commitlog_sync {commit_log_mode(base)}"
    )
    systems = {"A": args.base, "B": args.candidate} if args.base else {"B": args.candidate}
    results: dict[str, list[Any]] = {"limit": [], **{name: [] for name in systems}}
    for round_ in range(args.rounds):
        app, settings = fresh_run(base, messages)
        results["limit"].append(run_limit(base, app, settings, messages, pids))
        cleanup(settings, app)
        c, w = results["limit"][-1]
        print(
            f"round {round_ + 1} limit: consume {dps / c['seconds']:,.0f} dp/s, "
            f"write {dps / w['seconds']:,.0f} dp/s, load {w['load']:.1f}",
            flush=True,
        )
        for name, source in systems.items():
            app, settings = fresh_run(base, messages)
            profile = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = args.profile / f"{name}-{round_ + 1}.txt"
            extra = dict(e.split("=", 1) for e in getattr(args, f"env_{name.lower()}"))
            run = run_worker(source, settings, app, cache, pids, profile=profile, extra_env=extra)
            cleanup(settings, app)
            results[name].append(run)
            print(
                f"round {round_ + 1} {name}: {dps / run['seconds']:,.0f} dp/s, worker CPU "
                f"{run['cpu']['worker'] / dps * 1e6:.1f} s/Mdp, load {run['load']:.1f}",
                flush=True,
            )
    report(results, dps, entities)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
