"""The HTTP API under load: one ``streamcore api`` process (one uvicorn worker).

    .venv/bin/python bench/api.py [--seconds 20] [--clients 8] [--entities 100000]

1. ``POST /datapoints`` in batches of 100 from ``--clients`` threads for ``--seconds``:
   data-points/s acknowledged (each response comes after Kafka's ack);
2. an ingestion worker loads what was posted; then ``GET /entity/ip/<eid>`` on random
   posted entities, one at a time: p50/p99 latency;
3. ``--entities`` latest snapshots stored (as the snapshot worker stores them); then
   ``GET /entity/ip/get`` (a page) and ``GET /entity/ip/count`` with an equality filter
   (answered through the storage-attached index) and with a range filter (a bounded scan
   of every latest snapshot for the count): p50/p99 latency of each.

Fresh application name and keyspace; needs the dev servers (``streamcore dev up``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
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


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def batch(n: int, entities: int) -> list[dict[str, Any]]:
    points = []
    for i in range(BATCH):
        k = (n * BATCH + i) % entities
        ip = f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"
        points.append({"type": "ip", "id": ip, "attr": "asn", "v": 64500 + k % 100})
    return points


def post_load(url: str, seconds: float, clients: int, entities: int) -> tuple[int, float]:
    sent = [0] * clients
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def run(index: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            n = index
            while time.monotonic() < stop:
                response = client.post("/datapoints", json=batch(n, entities))
                if response.status_code != 200:
                    errors.append(response.text)
                    return
                sent[index] += BATCH
                n += clients

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if errors:
        raise SystemExit(f"POST failed: {errors[0]}")
    return sum(sent), elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()

    from streamcore.config import load_config
    from streamcore.kafka.clients import make_admin
    from streamcore.kafka.topics import ensure_topics
    from streamcore.runtime import build_ingest_worker, open_runtime
    from streamcore.settings import Settings
    from streamcore.state.cassandra import create_schema
    from streamcore.state.snapshots import SnapshotStore

    app_name = f"bench-api-{uuid.uuid4().hex[:8]}"
    keyspace = f"bench_api_{uuid.uuid4().hex[:8]}"
    base = Settings()
    settings = base.model_copy(
        update={"cassandra": base.cassandra.model_copy(update={"keyspace": keyspace})}
    )
    config = load_config(CONFIG)
    ensure_topics(make_admin(settings.kafka), settings.topics, app_name)
    runtime = open_runtime(settings, config, app_name)
    create_schema(runtime.session, keyspace)

    port = free_port()
    env = {
        **os.environ,
        "STREAMCORE_CASSANDRA__KEYSPACE": keyspace,
        "STREAMCORE_API__PORT": str(port),
        "STREAMCORE_METRICS__PORT": "0",
        "STREAMCORE_API__SCAN_LIMIT": str(args.entities + 1),
    }
    command = [sys.executable, "-m", "streamcore.cli", "api", str(CONFIG), "--app-name", app_name]
    api = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        posted_entities = min(args.entities, 10_000)
        sent, elapsed = post_load(url, args.seconds, args.clients, posted_entities)
        print(f"POST /datapoints: {sent} data-points in {elapsed:.1f} s = {sent / elapsed:,.0f}/s")

        worker = build_ingest_worker(runtime)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        client = httpx.Client(base_url=url, timeout=30)
        k = posted_entities - 1
        last = f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"
        while client.get(f"/entity/ip/{last}/master").json() == {}:
            time.sleep(1)
        worker.stop()
        thread.join(60)
        samples = []
        for _ in range(args.reads):
            k = random.randrange(posted_entities)
            eid = f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"
            started = time.perf_counter()
            assert client.get(f"/entity/ip/{eid}").status_code == 200
            samples.append(time.perf_counter() - started)
        p50, p99 = percentiles(samples)
        print(f"GET /entity/ip/<eid>: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({args.reads} reads)")

        store = SnapshotStore(runtime.session, keyspace, config.model_spec)
        now = datetime.now(UTC)
        page: list[tuple[str, str, str]] = []
        for k in range(args.entities):
            eid = f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"
            page.append(("ip", eid, json.dumps({"eid": eid, "asn": 64500 + k % 100})))
            if len(page) == 5000:
                store.save(page, now, 3600)
                page = []
        if page:
            store.save(page, now, 3600)
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
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(30)
        runtime.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        runtime.close()


if __name__ == "__main__":
    main()
