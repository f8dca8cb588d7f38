"""The HTTP API under load: one ``streamcore api`` process (one uvicorn worker).

    .venv/bin/python bench/api.py [--rounds 3] [--seconds 15] [--clients 8] [--entities 100000]

1. ``POST /datapoints`` in batches of 100 (100 entities, so 100 tasks per request) from
   ``--clients`` keep-alive connections for ``--seconds``: data-points/s acknowledged (each
   response comes after Kafka's ack). In the same run, alternating with it (A B C A B C
   ..., ``--rounds`` times), two limits measured on the same machine and servers:
   B, a bare confluent-kafka producer producing the same encoded messages (encoded once, as
   the API encodes them) with the API's producer settings (``api_producer``: acks=all,
   idempotence), ``--clients`` threads each producing one batch and waiting for its acks;
   C, a bare uvicorn app (same loop and HTTP parser) answering the same requests 200
   without work: the HTTP stack's own ceiling. Prints the median and min-max of each, and
   the API's ratio to the lower limit. The load generator runs on the same cores.
2. An ingestion worker loads what was posted; then ``GET /entity/ip/<eid>`` on random
   posted entities, one at a time: p50/p99 latency;
3. ``--entities`` latest snapshots stored (as the snapshot worker stores them); then
   ``GET /entity/ip/get`` (a page) and ``GET /entity/ip/count`` with an equality filter
   (answered through the storage-attached index) and with a range filter (a bounded scan
   of every latest snapshot for the count): p50/p99 latency of each.

Prints the load average before each part: the dev machine is shared. Fresh application
name and keyspace (``streamcore setup``'s steps); needs the dev servers (``streamcore dev up``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
BATCH = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) {five:.1f} (5 min), {os.cpu_count()} cores"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def eid(k: int) -> str:
    return f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"


def batch(n: int, entities: int) -> list[dict[str, Any]]:
    return [
        {"type": "ip", "id": eid((n * BATCH + i) % entities), "attr": "asn", "v": 64500 + i}
        for i in range(BATCH)
    ]


def bodies(entities: int, count: int = 200) -> list[bytes]:
    """Request bodies encoded once (the client's JSON encoding is not measured)."""
    return [json.dumps(batch(n, entities)).encode() for n in range(count)]


def run_clients(clients: int, seconds: float, one: Callable[[int, int], None]) -> float:
    """``one(client, n)`` in a loop on ``clients`` threads for ``seconds``: batches/s."""
    done = [0] * clients
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def run(index: int) -> None:
        n = index
        try:
            while time.monotonic() < stop:
                one(index, n)
                done[index] += 1
                n += clients
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if errors:
        raise SystemExit(f"load failed: {errors[0]!r}")
    return sum(done) / elapsed


def http_load(port: int, clients: int, seconds: float, payloads: list[bytes]) -> float:
    """Data-points/s answered 200 by ``POST /datapoints`` on ``port``."""
    connections = [
        http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(clients)
    ]
    headers = {"content-type": "application/json"}

    def one(client: int, n: int) -> None:
        connection = connections[client]
        connection.request("POST", "/datapoints", payloads[n % len(payloads)], headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {body[:300]!r}")

    try:
        return run_clients(clients, seconds, one) * BATCH
    finally:
        for connection in connections:
            connection.close()


def producer_load(
    settings: Any, topic: str, clients: int, seconds: float, batches: list[Any]
) -> float:
    """Data-points/s acknowledged by a bare ``confluent_kafka.Producer`` with the API's
    producer options (``api_producer(settings).config``), producing the API's encoded
    messages, one batch per thread at a time (as one request does), a poll thread serving
    the delivery reports."""
    from confluent_kafka import Producer

    from streamcore.api.server import api_producer

    producer = Producer(api_producer(settings).config)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            producer.poll(0.1)

    poller = threading.Thread(target=serve, daemon=True)
    poller.start()

    def one(_client: int, n: int) -> None:
        messages = batches[n % len(batches)]
        left = [len(messages)]
        failed: list[Any] = []
        lock, acked = threading.Lock(), threading.Event()

        def report(err: Any, _msg: Any) -> None:
            with lock:
                if err is not None:
                    failed.append(err)
                left[0] -= 1
                if left[0] == 0:
                    acked.set()

        for key, value in messages:
            producer.produce(topic, value, key, on_delivery=report)
        if not acked.wait(30) or failed:
            raise RuntimeError(f"not acknowledged: {failed[:1]}")

    try:
        return run_clients(clients, seconds, one) * BATCH
    finally:
        stopping.set()
        poller.join()
        producer.flush(10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_app(port: int) -> None:
    """``--bare-http``: an ASGI app answering every request 200 after reading its body,
    on uvicorn with the API's server options."""
    import uvicorn

    from streamcore.api.role import server_options
    from streamcore.settings import ApiSettings

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"detail":"OK"}'})

    uvicorn.run(app, **server_options(ApiSettings(port=port)))


def wait_ready(url: str, path: str = "/readyz") -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} not ready")


def summary(name: str, rates: list[float]) -> str:
    runs = ", ".join(f"{rate:,.0f}" for rate in rates)
    return (
        f"{name}: median {statistics.median(rates):,.0f} data-points/s "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}; runs {runs})"
    )


def main() -> None:  # noqa: PLR0915 (one bench, read top to bottom)
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--posts-only", action="store_true", help="stop after part 1")
    parser.add_argument("--bare-http", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_http:
        bare_app(args.bare_http)
        return

    from streamcore.api.publisher import plan_tasks
    from streamcore.config import load_config
    from streamcore.limits import TaskValidator
    from streamcore.model.datapoint import DataPoint
    from streamcore.runtime import build_ingest_worker, open_runtime
    from streamcore.settings import Settings
    from streamcore.setup_steps import SETUP_STEPS
    from streamcore.state.snapshots import SnapshotStore

    app_name = f"bench-api-{uuid.uuid4().hex[:8]}"
    keyspace = f"bench_api_{uuid.uuid4().hex[:8]}"
    base = Settings()
    settings = base.model_copy(
        update={"cassandra": base.cassandra.model_copy(update={"keyspace": keyspace})}
    )
    config = load_config(CONFIG)
    for step in SETUP_STEPS:
        step(settings, app_name, config)
    runtime = open_runtime(settings, config, app_name)

    port, bare_port = free_port(), free_port()
    env = {
        **os.environ,
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
        "STREAMCORE_API__PORT": str(port),
        "STREAMCORE_METRICS__PORT": "0",
        "STREAMCORE_API__SCAN_LIMIT": str(args.entities + 1),
    }
    command = [sys.executable, "-m", "streamcore.cli", "api", str(CONFIG), "--app-name", app_name]
    api = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    bare = subprocess.Popen(
        [sys.executable, __file__, "--bare-http", str(bare_port)], stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        wait_ready(f"http://127.0.0.1:{bare_port}", "/")
        posted_entities = min(args.entities, 10_000)
        payloads = bodies(posted_entities)
        validator = TaskValidator(config.model_spec, settings.limits.limits())
        from streamcore.api.publisher import Publisher

        encoder = Publisher(None, "", config.model_spec, validator, 0)  # type: ignore[arg-type]
        batches = []
        for body in payloads[:50]:
            points = [DataPoint(d["type"], d["id"], d["attr"], d["v"]) for d in json.loads(body)]
            tasks, problem = plan_tasks(config.model_spec, validator, points)
            assert problem is None
            batches.append(encoder.encode(tasks, checked=True))
        topic = settings.topics.name("input", app_name)
        print(
            f"POST /datapoints, batches of {BATCH} over {posted_entities} entities, "
            f"{args.clients} clients, {args.seconds:g} s per run; {load()}"
        )
        rates: dict[str, list[float]] = {"api": [], "producer": [], "http": []}
        cpu_per_1000: list[float] = []
        for _ in range(args.rounds):
            cpu = cpu_seconds(api.pid)
            rates["api"].append(http_load(port, args.clients, args.seconds, payloads))
            points = rates["api"][-1] * args.seconds
            cpu_per_1000.append((cpu_seconds(api.pid) - cpu) / points * 1000 * 1000)
            rates["producer"].append(
                producer_load(settings, topic, args.clients, args.seconds, batches)
            )
            rates["http"].append(http_load(bare_port, args.clients, args.seconds, payloads))
        print(summary("  A  streamcore api POST /datapoints", rates["api"]))
        print(summary("  B  bare producer, same messages and settings", rates["producer"]))
        print(summary("  C  bare uvicorn app, same requests, no work", rates["http"]))
        cpu = statistics.median(cpu_per_1000)
        print(
            f"  the API process's CPU: median {cpu:.1f} ms per 1,000 data-points "
            f"(min {min(cpu_per_1000):.1f}, max {max(cpu_per_1000):.1f}): "
            f"{1_000_000 / cpu:,.0f} data-points/s per fully available core"
        )
        ours, producer, bare_http = (statistics.median(rates[k]) for k in rates)
        print(
            f"  API / lower limit: {ours / min(producer, bare_http):.0%} "
            f"(API / producer {ours / producer:.0%}, API / bare HTTP {ours / bare_http:.0%}); "
            f"{load()}"
        )
        if args.posts_only:
            return

        worker = build_ingest_worker(runtime)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        client = httpx.Client(base_url=url, timeout=30)
        while client.get(f"/entity/ip/{eid(posted_entities - 1)}/master").json() == {}:
            time.sleep(1)
        worker.stop()
        thread.join(60)
        print(load())
        samples = []
        for _ in range(args.reads):
            started = time.perf_counter()
            response = client.get(f"/entity/ip/{eid(random.randrange(posted_entities))}")
            assert response.status_code == 200
            samples.append(time.perf_counter() - started)
        p50, p99 = percentiles(samples)
        print(f"GET /entity/ip/<eid>: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({args.reads} reads)")

        store = SnapshotStore(runtime.session, keyspace, config.model_spec)
        now = datetime.now(UTC)
        page: list[tuple[str, str, str]] = []
        for k in range(args.entities):
            page.append(("ip", eid(k), json.dumps({"eid": eid(k), "asn": 64500 + k % 100})))
            if len(page) == 5000:
                store.save(page, now, 3600)
                page = []
        if page:
            store.save(page, now, 3600)
        print(load())
        indexed, scanned = json.dumps({"asn": 64542}), json.dumps({"asn": {"$gte": 64599}})
        for path, flt, reads in (
            ("/entity/ip/get", indexed, 200),
            ("/entity/ip/count", indexed, 50),
            ("/entity/ip/get", scanned, 100),
            ("/entity/ip/count", scanned, 10),
        ):
            samples = []
            for _ in range(reads):
                started = time.perf_counter()
                response = client.get(path, params={"generic_filter": flt})
                assert response.status_code == 200, response.text
                samples.append(time.perf_counter() - started)
            p50, p99 = percentiles(samples)
            print(
                f"GET {path} generic_filter={flt} over {args.entities} entities: "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({reads} requests)"
            )
        print(load())
    finally:
        for process in (api, bare):
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        runtime.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        runtime.close()
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(settings.kafka.client_config())
        topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(f"{app_name}.")]
        if topics:
            for future in admin.delete_topics(topics).values():
                future.result(30)


if __name__ == "__main__":
    main()
