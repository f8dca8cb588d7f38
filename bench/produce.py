"""How many data-points per second one Python process validates, encodes and produces.

    .venv/bin/python bench/produce.py [--datapoints 500000] [--per-task 10]
    .venv/bin/python bench/produce.py --input-json 10000,100000,1000000

``--input-json`` instead times ``streamcore produce`` (a subprocess, as a user runs it) on
a DP³ JSON array of each size, printing seconds per 10k data-points (flat: linear time)
and the process's peak RSS (flat: memory independent of the input's size), plus the
parse alone (``stream_items``, and ijson's when it is installed, for comparison).

Uses the example configuration (config/) and the broker from the environment settings
(STREAMCORE_KAFKA__BOOTSTRAP_SERVERS, default the dev server). Each stage is timed on
fresh data-points, built before the clock starts (building them is the caller's cost):

1. validate            ModelSpec.validate_task
2. validate + encode   ... + TaskEncoder.encode (Avro single-object)
3. end to end          DataPointProducer.send + flush (validate, encode, produce, delivered)

The workload mixes attribute kinds the way an input module does: per entity task,
observations (string, float with confidence, array<int>), a plain int and a link.
Target: >= 100,000 data-points/s end to end on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamcore.codec import TaskEncoder
from streamcore.codec.dp3json import stream_items
from streamcore.config import load_config
from streamcore.config.samples import EXAMPLE_CONFIG_DIR
from streamcore.kafka.clients import make_admin
from streamcore.kafka.topics import TOPIC_ROLES, ensure_topics
from streamcore.model import DataPoint, DataPointTask
from streamcore.producer import DataPointProducer
from streamcore.settings import Settings

# Recent: observations older than their max_age are refused as expired.
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)


def build(total: int, per_task: int) -> list[DataPointTask]:
    """``total`` data-points in tasks of ``per_task``, one task per IP address."""
    tasks = []
    for n in range(total // per_task):
        eid = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        t1 = T0 + timedelta(seconds=n)
        points = []
        for i in range(per_task):
            kind = i % 5
            if kind == 0:
                points.append(
                    DataPoint("ip", eid, "hostname", f"h{n}.example.org", t1, None, 0.9, "bench")
                )
            elif kind == 1:
                points.append(
                    DataPoint("ip", eid, "rep_score", (n % 100) / 100, t1, None, 0.5, "bench")
                )
            elif kind == 2:
                points.append(
                    DataPoint("ip", eid, "open_ports", [22, 80, 443], t1, None, None, "bench")
                )
            elif kind == 3:
                points.append(DataPoint("ip", eid, "asn", n % 65000, None, None, None, "bench"))
            else:
                points.append(
                    DataPoint(
                        "ip",
                        eid,
                        "talks_to",
                        {"eid": "192.0.2.1", "data": n},
                        t1,
                        None,
                        None,
                        "bench",
                    )
                )
        tasks.append(DataPointTask("ip", eid, points))
    return tasks


def rate(label: str, count: int, seconds: float) -> None:
    print(f"{label:<22} {count / seconds:>12,.0f} data-points/s  ({count:,} in {seconds:.2f} s)")


def write_array(path: Path, total: int) -> None:
    """``total`` data-points (hostname observations of 10k addresses) as one JSON array."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(total):
            t1 = (T0 + timedelta(milliseconds=n)).isoformat()
            eid = f"10.0.{(n // 256) % 40}.{n % 256}"
            sep = ",\n" if n < total - 1 else "\n"
            out.write(
                f'{{"type": "ip", "id": "{eid}", "attr": "hostname", '
                f'"v": "h{n}.example.org", "t1": "{t1}", "src": "bench"}}{sep}'
            )
        out.write("]\n")


def parse_seconds(path: Path) -> tuple[float, float | None]:
    """Seconds to parse ``path`` with ``stream_items``, and with ijson (None if absent)."""
    start = time.perf_counter()
    with path.open(encoding="utf-8") as source:
        for _ in stream_items(source):
            pass
    ours = time.perf_counter() - start
    try:
        import ijson  # type: ignore[import-not-found]
    except ImportError:
        return ours, None
    start = time.perf_counter()
    with path.open("rb") as source:
        for _ in ijson.items(source, "item"):
            pass
    return ours, time.perf_counter() - start


def produce_json(sizes: list[int]) -> None:
    settings = Settings()
    app_name = f"bench-{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings.kafka)
    ensure_topics(admin, settings.topics, app_name)
    streamcore = Path(sys.executable).with_name("streamcore")
    print(
        f"{'data-points':>12} {'produce s':>10} {'s/10k':>7} {'peak RSS MiB':>13} "
        f"{'parse s/10k':>12} {'ijson s/10k':>12}"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for size in sizes:
                path = Path(tmp) / f"dp-{size}.json"
                write_array(path, size)
                ours, theirs = parse_seconds(path)
                command = [
                    str(streamcore),
                    "produce",
                    str(EXAMPLE_CONFIG_DIR),
                    str(path),
                    "--app-name",
                    app_name,
                    "--no-progress",
                ]
                start = time.perf_counter()
                child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
                seconds = time.perf_counter() - start
                if status != 0:
                    raise SystemExit(f"streamcore produce failed on {size} data-points")
                per = 10_000 / size
                ijson_text = f"{theirs * per:>12.3f}" if theirs is not None else f"{'-':>12}"
                print(
                    f"{size:>12,} {seconds:>10.2f} {seconds * per:>7.3f} "
                    f"{usage.ru_maxrss / 1024:>13.0f} {ours * per:>12.3f} {ijson_text}"
                )
                path.unlink()
    finally:
        names = [settings.topics.name(role, app_name) for role in TOPIC_ROLES]
        for future in admin.delete_topics(names).values():
            future.result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datapoints", type=int, default=500_000)
    parser.add_argument("--per-task", type=int, default=10)
    parser.add_argument(
        "--input-json", metavar="SIZES", help="comma-separated sizes: time `streamcore produce`"
    )
    args = parser.parse_args()
    if args.input_json:
        produce_json([int(size) for size in args.input_json.split(",")])
        return
    model = load_config(EXAMPLE_CONFIG_DIR).model_spec
    total = args.datapoints - args.datapoints % args.per_task
    print(f"{total:,} data-points, {args.per_task} per task")

    tasks = build(total, args.per_task)
    start = time.perf_counter()
    for task in tasks:
        model.validate_task(task)
    rate("validate", total, time.perf_counter() - start)

    tasks = build(total, args.per_task)
    encoder = TaskEncoder(model)
    start = time.perf_counter()
    size = 0
    for task in tasks:
        size += len(encoder.encode(model.validate_task(task)))
    rate("validate + encode", total, time.perf_counter() - start)
    print(f"{'':<22} {size / total:>12.1f} bytes/data-point on the wire")

    settings = Settings()
    app_name = f"bench-{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings.kafka)
    ensure_topics(admin, settings.topics, app_name)
    tasks = build(total, args.per_task)
    start = time.perf_counter()
    with DataPointProducer(settings, app_name, model) as producer:
        for task in tasks:
            producer.send(task)
    elapsed = time.perf_counter() - start
    rate("end to end (acked)", total, elapsed)
    print(f"{'':<22} delivered {producer.delivered:,} tasks, failed {producer.failed}")
    deleting = admin.delete_topics([settings.topics.name(role, app_name) for role in TOPIC_ROLES])
    for future in deleting.values():
        future.result()


if __name__ == "__main__":
    main()
